"""PlainInsert writes exactly what insert_ignore writes on SQLite (the same stored values,
the same rows skipped), without SQLAlchemy's per-row bind processing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.incidents.models import PortStatus
from bot.incidents.sql import insert_ignore
from bot.store.base import table_of
from bot.store.db import make_engine
from bot.store.plain_insert import PlainInsert

T0 = datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=UTC)
KEYS = ("charger", "connector", "ts", "status", "up", "message_fingerprint")


def _row(fp: str, minute: int, status: str = "Available") -> dict[str, object]:
    # a time in another zone: the column type converts it to UTC, both paths alike
    ts = (T0 + timedelta(minutes=minute)).astimezone(timezone(timedelta(hours=2)))
    return {"charger": "CP-1", "connector": minute % 3, "ts": ts, "status": status,
            "up": status == "Available", "message_fingerprint": fp}


def _engine(template: Path, tmp_path: Path, name: str) -> Engine:
    path = tmp_path / f"{name}.db"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:  # the raw values, as SQLite holds them
        return list(conn.exec_driver_sql(
            "SELECT id, charger, connector, ts, status, up, message_fingerprint "
            "FROM port_status ORDER BY id"
        ))


def test_the_same_rows_and_values_as_insert_ignore(sqlite_template: Path, tmp_path: Path) -> None:
    table = table_of(PortStatus)
    batches = [[_row("a", 0)],
               [_row("a", 5, "Faulted"), _row("b", 1, "Faulted"), _row("b", 2), _row("c", 4)]]
    reference = _engine(sqlite_template, tmp_path, "reference")
    plain = _engine(sqlite_template, tmp_path, "plain")
    writer = PlainInsert(table, KEYS, ("message_fingerprint",), plain.dialect)
    for rows in batches:
        with Session(reference) as session, session.begin():
            insert_ignore(session, table, rows, ("message_fingerprint",))
        with plain.begin() as conn:
            writer.run(conn, rows)
    assert _stored(plain) == _stored(reference)
    assert [r[-1] for r in _stored(plain)] == ["a", "b", "c"]


def test_a_row_without_every_key_is_refused(sqlite_template: Path, tmp_path: Path) -> None:
    engine = _engine(sqlite_template, tmp_path, "plain")
    writer = PlainInsert(table_of(PortStatus), KEYS, ("message_fingerprint",), engine.dialect)
    row = _row("a", 0)
    del row["up"]
    with engine.begin() as conn, pytest.raises(ValueError):
        writer.run(conn, [row])
