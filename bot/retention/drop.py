"""Retention on a partitioned log (PostgreSQL): whole days are dropped, never deleted.

A day's partition goes when the whole day is older than the raw cut-off and every fold
has folded all of it. The frames of that day retention must keep (evidence, and the
newest frames that say who a charger is and what its ports show) are first copied
aside, and after the drop they are inserted again: no partition covers their day any
more, so they land in the DEFAULT partition. Only that small partition (the kept
frames, a few per charger) is ever pruned row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import table as table_clause

from bot.store.base import table_of
from bot.store.models import MessageRow
from bot.store.partitions import DEFAULT, PARENT, Partition, partitions

Where = ColumnElement[bool]
MSG = table_of(MessageRow)
_KEPT = "retention_kept_frames"
_IN_DEFAULT = literal_column("messages.tableoid") == literal_column(
    f"CAST('{DEFAULT}' AS regclass)")


@dataclass(slots=True)
class DropPlan:
    days: list[Partition] = field(default_factory=list)
    frames: int = 0  # frames the plan removes (dropped days minus kept, plus default rows)


def plan(conn: Connection, before: datetime, folded: int, keep: Where, doomed: Where) -> DropPlan:
    """The day partitions to drop, and how many frames go with them."""
    out = DropPlan()
    for p in partitions(conn):
        if p.day is None or p.upper > before:
            continue
        top = conn.execute(select(func.max(MessageRow.id)).where(*_within(p))).scalar()
        if top is None or top <= folded:  # else a fold has not read all of it yet
            out.days.append(p)
    if out.days:
        # one count for all days: `keep` groups the old part of the log and probes the
        # index for newer frames ("the newest frame of each charger"), once, not per day
        span = or_(*(and_(*_within(p)) for p in out.days))
        rows = conn.execute(select(func.count()).where(span)).scalar() or 0
        kept = conn.execute(select(func.count()).where(span, keep)).scalar() or 0
        out.frames = int(rows) - int(kept)
    out.frames += int(conn.execute(
        select(func.count()).select_from(MessageRow).where(doomed, _IN_DEFAULT)).scalar() or 0)
    return out


def _within(p: Partition) -> tuple[Where, Where]:
    return MessageRow.ts >= p.lower, MessageRow.ts < p.upper


def apply(conn: Connection, drops: DropPlan, keep: Where, doomed: Where) -> None:
    """Copy the kept frames aside, drop the days, put the kept frames back (DEFAULT)."""
    # The default partition first: what it holds now is decided before it grows.
    gone = select(MessageRow.id).where(doomed, _IN_DEFAULT).scalar_subquery()
    default = table_clause(DEFAULT, column("id"))
    conn.execute(delete(default).where(default.c.id.in_(gone)))
    if not drops.days:
        return
    conn.execute(text(f"CREATE TEMPORARY TABLE {_KEPT} (LIKE {PARENT}) ON COMMIT DROP"))
    # One statement for every day: "the newest frame of each charger" is judged against
    # the whole log, before any of it is dropped.
    names = [c.name for c in MSG.columns]
    aside = table_clause(_KEPT, *(column(n) for n in names))
    days = or_(*(and_(*_within(p)) for p in drops.days))
    conn.execute(insert(aside).from_select(names, select(*MSG.columns).where(days, keep)))
    for p in drops.days:
        # DROP, not DELETE: the day's files go back to the file system at commit
        conn.execute(text(f"DROP TABLE {p.name}"))
    conn.execute(text(f"INSERT INTO {PARENT} SELECT * FROM {_KEPT}"))
