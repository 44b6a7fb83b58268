"""The log's sources, interned (bot.store.sources, store_0007): one `log_sources` row
per distinct text, the log keeps its id, readers see the text; an id from a
transaction that rolled back is never remembered."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from store_msgs import at, heartbeat

from bot.store.db import make_engine, migrate
from bot.store.ingest import Ingestor
from bot.store.models import LogSource, MessageRow


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate(engine)
    return engine


def _sources(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return {m.id: m.source for m in s.scalars(select(MessageRow).order_by(MessageRow.id))}


def test_each_source_is_stored_once_and_read_back_as_given(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    ingestor = Ingestor(engine)
    names = ["amqp:faultbot.p3", "/var/log/csms/ü 2026-12-01.log", "amqp:faultbot.p3", "",
             "nul\x00here"]
    for i, name in enumerate(names):
        m = dataclasses.replace(heartbeat("CP-S", at(i)), source=name, fingerprint=f"fp-{i}")
        assert len(ingestor.ingest([m]).new) == 1
    assert list(_sources(engine).values()) == [*names[:4], "nul\ufffdhere"]
    with engine.connect() as conn:
        assert conn.execute(select(LogSource.name).order_by(LogSource.id)).scalars().all() == [
            "amqp:faultbot.p3", "/var/log/csms/ü 2026-12-01.log", "", "nul\ufffdhere"]
        kinds = set(conn.execute(text("SELECT DISTINCT typeof(source_id) FROM messages")).scalars())
    assert kinds == {"integer"}
    # another process (its own cache) finds the same ids
    m = dataclasses.replace(heartbeat("CP-S", at(9)), source=names[1], fingerprint="fp-9")
    assert len(Ingestor(engine).ingest([m]).new) == 1
    with engine.connect() as conn:
        assert conn.execute(select(LogSource.id)).scalars().all() == [1, 2, 3, 4]
    assert _sources(engine)[6] == names[1]
    engine.dispose()


def test_an_id_added_in_a_rolled_back_transaction_is_not_remembered(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    ingestor = Ingestor(engine)
    first = dataclasses.replace(heartbeat("CP-R", at(0)), source="gone", fingerprint="fp-1")
    with engine.connect() as conn:
        transaction = conn.begin()
        ingestor.ingest([first], conn=conn)
        transaction.rollback()  # "gone" had id 1: SQLite gives it to the next text
    other = dataclasses.replace(heartbeat("CP-R", at(1)), source="other", fingerprint="fp-2")
    ingestor.ingest([other])
    ingestor.ingest([first])
    assert list(_sources(engine).values()) == ["other", "gone"]
    engine.dispose()
