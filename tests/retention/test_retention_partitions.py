"""PostgreSQL's partitioned log (bot.store.partitions, bot.retention.drop, migration
store_0003): a prune drops whole day partitions (checked in the catalog) and runs no
DELETE over the log; the evidence and state frames of a dropped day survive in the
DEFAULT partition; a populated database migrates to the partitioned layout and back
without losing a frame."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from alembic import command
from db_reset import private_pg_database
from sqlalchemy import Engine, event, func, inspect, literal_column, select, text
from test_retention_prune import FEED, T0, _ingest, answers

from bot.retention.prune import RetentionPolicy, prune
from bot.store.db import alembic_config, make_engine, schema_problem
from bot.store.models import MessageRow
from bot.store.partitions import DEFAULT, ensure_days, partition_name, partitions


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    """A private, migrated PostgreSQL database of this test's own (partitions and all)."""
    with private_pg_database(postgres_url.rsplit("/", 1)[0] + "/postgres", "faultbot_part") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _days(engine: Engine) -> set[date]:
    with engine.connect() as conn:
        return {p.day for p in partitions(conn) if p.day is not None}


def _in_default(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {DEFAULT}")).scalar() or 0)


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        # the source as text: interned from store_0007 on, a column of the log before
        interned = inspect(conn).has_table("log_sources")
        source = MessageRow.source if interned else literal_column("messages.source")
        return [tuple(r) for r in conn.execute(
            select(MessageRow.id, MessageRow.fingerprint, MessageRow.ts, MessageRow.raw,
                   MessageRow.action, source).order_by(MessageRow.id))]


def test_prune_drops_whole_days_and_deletes_no_row_of_the_log(pg: Engine) -> None:
    _ingest(pg, FEED)
    feed_days = {(T0 + timedelta(days=k)).date() for k in range(40)}
    assert feed_days <= _days(pg)  # made by the loader, before each batch
    assert _in_default(pg) == 0
    before, total = answers(pg), len(_rows(pg))
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(pg, "before_cursor_execute", capture)
    try:
        dry = prune(pg, RetentionPolicy(), dry_run=True)
        report = prune(pg, RetentionPolicy())
    finally:
        event.remove(pg, "before_cursor_execute", capture)
    assert report.raw_before is not None
    gone = {d for d in feed_days if d < report.raw_before.date()}
    assert len(gone) >= 9 and (dry.frames, dry.partitions) == (report.frames, report.partitions)
    assert report.partitions == [partition_name(d) for d in sorted(gone)]
    left = _days(pg)
    assert not gone & left and feed_days - gone <= left  # the catalog: days dropped, rest kept
    drops = [s for s in statements if s.startswith("DROP TABLE messages_p")]
    assert len(drops) == len(gone)
    log_deletes = [s for s in statements
                   if re.match(r"DELETE FROM (messages\b(?!_default)|messages_p)", s)]
    assert log_deletes == []
    # the kept frames of the dropped days (boots, the silent charger's last frames)
    # are in the DEFAULT partition now, and every answer is the same
    assert _in_default(pg) == report.frames_kept_old - _older_in_kept_day(pg, report)
    assert len(_rows(pg)) == total - report.frames
    assert answers(pg) == before
    with pg.connect() as conn:
        boots = conn.execute(select(func.count()).where(
            MessageRow.action == "BootNotification")).scalar()
    assert boots == 3
    again = prune(pg, RetentionPolicy())  # the default partition alone: nothing more goes
    assert again.frames == 0 and again.partitions == []


def _older_in_kept_day(engine: Engine, report: Any) -> int:
    """Frames before the cut-off that sit in the cut-off's own (kept) day partition."""
    day_start = report.raw_before.replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(
            MessageRow.ts >= day_start, MessageRow.ts < report.raw_before)).scalar() or 0)


def test_each_partition_has_its_own_indexes(pg: Engine) -> None:
    _ingest(pg, FEED[:200])
    with pg.connect() as conn:
        day = partition_name(T0.date())
        names = set(conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = :t"), {"t": day}).scalars())
    assert len(names) == 3  # (id, ts), (fingerprint, ts), (charger_id, occurred_at)


def test_a_frame_for_a_day_without_partition_waits_in_default_then_moves(pg: Engine) -> None:
    far = date(2031, 5, 4)
    with pg.begin() as conn:
        conn.execute(text(
            "INSERT INTO messages (fingerprint, charger_id, ts, occurred_at, direction, "
            "message_type, action, ocpp_version, version_inferred, fault_bearing, "
            "raw, violations, source_id) VALUES ('f1', 'CP-X', '2031-05-04T10:00:00Z', "
            "'2031-05-04T10:00:00Z', 'in', 2, 'Heartbeat', '1.6', false, false, "
            "'[2,\"u\",\"Heartbeat\",{}]', '[]', 1)"))
    assert _in_default(pg) == 1 and far not in _days(pg)
    with pg.begin() as conn:
        assert ensure_days(conn, [far]) == [partition_name(far)]
    assert _in_default(pg) == 0 and far in _days(pg)
    with pg.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {partition_name(far)}")).scalar() == 1


def test_a_populated_database_migrates_without_losing_a_frame(pg: Engine) -> None:
    _ingest(pg, FEED[: len(FEED) // 2])
    rows, before = _rows(pg), answers(pg)
    cfg = alembic_config(pg)
    command.downgrade(cfg, "store_0002")  # the layout before partitions, with the data
    with pg.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM pg_partitioned_table")).scalar() == 0
    assert _rows(pg) == rows and schema_problem(pg) == "old"
    command.upgrade(cfg, "heads")
    assert schema_problem(pg) is None
    assert _rows(pg) == rows  # every frame, with its id
    assert {r[2].date() for r in rows} <= _days(pg) and _in_default(pg) == 0
    assert answers(pg) == before
    _ingest(pg, FEED[len(FEED) // 2:])  # the id sequence carries on after the copy
    after = _rows(pg)
    assert after[: len(rows)] == rows and after[len(rows)][0] > rows[-1][0]


def _log_index_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree('messages')")).scalar()
            or 0)


def test_closed_days_get_their_indexes_rebuilt_once(pg: Engine) -> None:
    """bot.retention.vacuum.compact_days: every day before the log clock's, once; the
    indexes shrink (written in random order, rebuilt packed) and no answer changes."""
    from bot.retention.job import prune_and_reclaim
    from bot.retention.vacuum import compact_days

    _ingest(pg, FEED)
    rows, before, size = _rows(pg), answers(pg), _log_index_bytes(pg)
    with pg.connect() as conn:
        last = conn.execute(select(func.max(MessageRow.ts))).scalar()
    closed = {partition_name(d) for d in _days(pg) if d < last.date()}
    assert len(closed) >= 39
    assert set(compact_days(pg)) == closed  # not today's, not the days made ahead
    assert _log_index_bytes(pg) <= size
    with pg.connect() as conn:  # a closed day's index pages are filled, an open day's not
        full = {r[0]: r[1] for r in conn.execute(text(
            "SELECT i.indrelid::regclass::text, array_agg(c.reloptions::text) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid::regclass::text LIKE 'messages_p%' GROUP BY 1"))}
    assert all(full[name] == ["{fillfactor=100}"] * 3 for name in closed)
    assert not any(options for name in set(full) - closed for options in full[name])
    assert compact_days(pg) == []  # once
    assert _rows(pg) == rows and answers(pg) == before
    run = prune_and_reclaim(pg, RetentionPolicy())  # the daily job: nothing new closed
    assert run.compacted == []
