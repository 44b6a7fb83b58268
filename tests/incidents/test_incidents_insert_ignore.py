"""insert_ignore: one statement per batch (PostgreSQL: one array per column), rows whose
unique key is already stored, or repeated within the batch, skipped on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.incidents.models import PortStatus
from bot.incidents.sql import insert_ignore
from bot.store.base import table_of

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _row(fp: str, minute: int, status: str = "Available") -> dict[str, object]:
    return {"charger": "CP-1", "connector": 1, "ts": T0 + timedelta(minutes=minute),
            "status": status, "up": status == "Available", "message_fingerprint": fp}


def test_known_and_repeated_keys_are_skipped_in_order(db_session: Session) -> None:
    table = table_of(PortStatus)
    insert_ignore(db_session, table, [_row("a", 0)], ("message_fingerprint",))
    rows = [_row("a", 5, "Faulted"), _row("b", 1, "Faulted"), _row("b", 2), _row("c", 3)]
    insert_ignore(db_session, table, rows, ("message_fingerprint",))
    db_session.commit()
    got = db_session.execute(
        select(table.c.message_fingerprint, table.c.ts, table.c.status, table.c.up)
        .order_by(table.c.id)
    ).all()
    assert [(fp, ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts, s, up)
            for fp, ts, s, up in got] == [
        ("a", T0, "Available", True),
        ("b", T0 + timedelta(minutes=1), "Faulted", False),
        ("c", T0 + timedelta(minutes=3), "Available", True),
    ]


def test_ids_follow_the_order_rows_are_given(db_session: Session) -> None:
    """Readers break ties by id (the prune keeps a port's highest id): a batch's ids must
    be drawn in the batch's order, whatever its keys' order (PostgreSQL: WITH ORDINALITY
    ... ORDER BY, not the plan's order)."""
    import random

    table = table_of(PortStatus)
    fps = [f"{i:05d}" for i in range(3000)]
    random.Random(5).shuffle(fps)
    insert_ignore(db_session, table, [_row(fp, i % 50) for i, fp in enumerate(fps)],
                  ("message_fingerprint",))
    db_session.commit()
    got = db_session.scalars(select(table.c.message_fingerprint).order_by(table.c.id)).all()
    assert list(got) == fps
