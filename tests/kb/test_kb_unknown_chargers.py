"""Unknown codes count distinct chargers exactly (kb_0002), in bulk, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, Integer, String, column, event, func, insert, select, table

from bot.kb.knowledge import KnowledgeBase
from bot.kb.models import KBUnknownCharger, KBUnknownCode
from bot.kb.runtime import RuntimeEntries, UnknownSighting, unknown_code_key
from bot.store.base import UTCDateTime
from bot.store.db import alembic_config

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _seen(code: str, charger: str, minutes: int = 0, vendor: str = "Alfen BV") -> UnknownSighting:
    return UnknownSighting(
        vendor=vendor,
        model="NG910-60023",
        firmware=None,
        code=code,
        info=None,
        seen_at=T0 + timedelta(minutes=minutes),
        charger=charger,
    )


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_distinct_chargers_are_counted_across_batches(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    first = [_seen("777", c, i) for i, c in enumerate(["CP-1", "CP-2", "CP-1", "CP-3", "CP-2"])]
    assert runtime.record_unknown(first) == 1
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (5, 3)
    # A later batch: one charger already known, one new; the same charger never counts twice.
    runtime.record_unknown([_seen("777", "CP-3", 10), _seen("777", "CP-4", 11)])
    runtime.record_unknown([_seen("777", "CP-4", 12)])
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (8, 4)
    assert row.first_seen == T0 and row.last_seen == T0 + timedelta(minutes=12)


def test_each_code_identity_counts_its_own_chargers(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    runtime.record_unknown(
        [
            _seen("777", "CP-1"),
            _seen("777", "CP-2"),
            _seen("777", "CP-1", vendor="Wall Box Chargers"),
            _seen("888", "CP-1"),
        ]
    )
    got = {(u.vendor, u.code): (u.count, u.chargers) for u in runtime.unknown()}
    assert got == {("Alfen", "777"): (2, 2), ("Wallbox", "777"): (1, 1), ("Alfen", "888"): (1, 1)}


def test_sightings_without_a_charger_count_but_add_no_charger(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    runtime.record_unknown([_seen("777", ""), _seen("777", "   "), _seen("777", "CP-9")])
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (3, 1)


def test_hostile_charger_ids_are_cut_and_cleaned(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    runtime.record_unknown([_seen("777", "CP\x00-1" + "x" * 5000), _seen("777", "CP-2\n")])
    [row] = runtime.unknown()
    assert row.chargers == 2
    with db_engine.connect() as conn:
        names = sorted(conn.scalars(select(KBUnknownCharger.charger)))
    assert "CP-2" in names and all(len(n) <= 200 and "\x00" not in n for n in names)


def test_one_batch_is_three_bulk_statements(db_engine: Engine, fixture_kb: KnowledgeBase) -> None:
    """No per-sighting round trips: one upsert of the codes, the (code, charger) pairs
    insert-ignored in chunks of 500 rows (SQLite's bound-parameter limit), one update."""
    runtime = RuntimeEntries(db_engine, fixture_kb)
    batch = [_seen(f"C{i % 40}", f"CP-{i % 150}", i % 60) for i in range(5000)]  # 600 pairs
    with _statements(db_engine) as seen:
        runtime.record_unknown(batch)
    assert [s for s in seen if s in ("INSERT", "UPDATE", "SELECT")] == [
        "INSERT",
        "INSERT",
        "INSERT",
        "UPDATE",
    ], seen
    expected = {f"C{c}": len({i % 150 for i in range(5000) if i % 40 == c}) for c in range(40)}
    got = {u.code: u.chargers for u in runtime.unknown(limit=100)}
    assert got == expected


def test_inside_the_callers_transaction_a_rollback_keeps_nothing(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    with db_engine.connect() as conn:
        trans = conn.begin()
        runtime.record_unknown([_seen("777", "CP-1")], conn=conn)
        trans.rollback()
    assert runtime.unknown() == []
    with db_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(KBUnknownCharger)) == 0
    with db_engine.begin() as conn:
        runtime.record_unknown([_seen("777", "CP-1"), _seen("777", "CP-2")], conn=conn)
    assert runtime.unknown()[0].chargers == 2


def test_kb_0002_keeps_rows_recorded_before_it(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    """Rows from kb_0001 get their key (chargers 0: not known) and keep counting after."""
    cfg = alembic_config(db_engine)
    command.downgrade(cfg, "kb@kb_0001")
    try:
        legacy = table(  # kb_unknown_codes as kb_0001 made it
            "kb_unknown_codes",
            *(column(name, String()) for name in ("vendor", "model", "firmware", "code")),
            column("first_seen", UTCDateTime()),
            column("last_seen", UTCDateTime()),
            column("count", Integer()),
        )
        with db_engine.begin() as conn:
            conn.execute(
                insert(legacy).values(
                    vendor="Alfen", model="NG910-60023", firmware="", code="777",
                    first_seen=T0, last_seen=T0, count=4,
                )
            )  # fmt: skip
    finally:
        command.upgrade(cfg, "heads")
    runtime = RuntimeEntries(db_engine, fixture_kb)
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (4, 0)
    with db_engine.connect() as conn:
        key = conn.scalar(select(KBUnknownCode.code_key))
    assert key == unknown_code_key("Alfen", "NG910-60023", "", "777")
    runtime.record_unknown([_seen("777", "CP-1", 5)])
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (5, 1)


def test_two_workers_racing_on_one_code_count_each_charger_once(
    db_engine: Engine, fixture_kb: KnowledgeBase
) -> None:
    """Partitioned workers see the same code from different chargers at the same time."""
    if db_engine.dialect.name == "sqlite":
        pytest.skip("concurrent writers are a PostgreSQL concern (SQLite serializes writers)")
    runtime = RuntimeEntries(db_engine, fixture_kb)
    runtime.record_unknown([_seen("777", "CP-0")])
    first = db_engine.connect()
    trans = first.begin()
    runtime.record_unknown([_seen("777", "CP-1"), _seen("777", "CP-2")], conn=first)
    errors: list[BaseException] = []

    def second_worker() -> None:  # blocks on the code's row until the first commits
        try:
            runtime.record_unknown([_seen("777", "CP-2"), _seen("777", "CP-3")])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    worker = threading.Thread(target=second_worker)
    worker.start()
    worker.join(0.3)
    assert worker.is_alive(), "the second worker should wait for the first one's row lock"
    trans.commit()
    first.close()
    worker.join(10)
    assert not worker.is_alive() and not errors, errors
    [row] = runtime.unknown()
    assert (row.count, row.chargers) == (5, 4)


def test_the_digest_says_on_how_many_chargers(db_engine: Engine, fixture_kb: KnowledgeBase) -> None:
    """The digest reads `chargers` from RuntimeEntries.unknown: it is real now."""
    from sqlalchemy.orm import Session

    from bot.digest.build import build_digest
    from bot.store.sites import SiteMap

    RuntimeEntries(db_engine, fixture_kb).record_unknown(
        [_seen("777", c, i) for i, c in enumerate(["CP-1", "CP-2", "CP-1", "CP-3"])]
    )
    with Session(db_engine) as session:
        digest = build_digest(
            session, T0.date(), ZoneInfo("UTC"), SiteMap(), T0 + timedelta(hours=12)
        )
    [code] = [u for u in digest.unknown_codes if u.code == "777"]
    assert (code.count, code.chargers) == (4, 3)  # digest.j2: "seen 4 times on 3 chargers"
