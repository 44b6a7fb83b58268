"""PostgreSQL's message log, partitioned by day: created ahead, dropped whole.

`messages` is declaratively partitioned by RANGE (ts), one partition per UTC day
(`messages_pYYYYMMDD`), plus a DEFAULT partition (`messages_default`) that catches a
frame for a day nobody created yet and keeps the few old frames retention must keep
after their day was dropped (bot.retention.prune). Indexes are declared on the parent,
so every partition gets its own.

The application creates the partitions: the loader asks for the days of each batch
before its transaction (`cover`), and the daily prune creates `AHEAD_DAYS` ahead. A
partition is made under an advisory lock (workers racing for the same day), and rows
the default partition already holds for that day are moved into it first (otherwise
PostgreSQL refuses the new partition).

SQLite has no partitions: every function here is a no-op there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

PARENT = "messages"
DEFAULT = "messages_default"
AHEAD_DAYS = 3
_DAY = re.compile(r"^messages_p(\d{8})$")
_LOCK = 0x6661756C  # pg_advisory_xact_lock key: "faul", one lock for partition DDL


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    day: date | None  # None: the DEFAULT partition

    @property
    def lower(self) -> datetime:
        assert self.day is not None
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @property
    def upper(self) -> datetime:
        return self.lower + timedelta(days=1)


def partition_name(day: date) -> str:
    return f"messages_p{day:%Y%m%d}"


def is_partition_name(name: str) -> bool:
    return name == DEFAULT or _DAY.match(name) is not None


def partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND pg_table_is_visible(c.oid)"), {"t": PARENT}).first()
    return found is not None


def partitions(conn: Connection) -> list[Partition]:
    """The log's partitions, from the catalog (pg_inherits), oldest day first, then the
    default."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:t AS regclass)"), {"t": PARENT}).scalars()
    out = []
    for name in names:
        m = _DAY.match(name)
        if m:
            out.append(Partition(name, datetime.strptime(m[1], "%Y%m%d").date()))
        elif name == DEFAULT:
            out.append(Partition(name, None))
    return sorted(out, key=lambda p: (p.day is None, p.day or date.min))


def ensure_days(conn: Connection, days: Iterable[date]) -> list[str]:
    """Create the partitions of `days` that are missing (in the caller's transaction);
    returns the names created."""
    wanted = sorted(set(days))
    if not wanted or not partitioned(conn):
        return []
    have = {p.day for p in partitions(conn)}
    if all(d in have for d in wanted):
        return []
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    have = {p.day for p in partitions(conn)}  # another worker may have made them meanwhile
    made = []
    for day in wanted:
        if day not in have:
            _create(conn, Partition(partition_name(day), day))
            made.append(partition_name(day))
    return made


def _create(conn: Connection, p: Partition) -> None:
    bounds = {"lo": p.lower, "hi": p.upper}
    stray = conn.execute(text(
        f"SELECT 1 FROM {DEFAULT} WHERE ts >= :lo AND ts < :hi LIMIT 1"), bounds).first()
    spec = f"FOR VALUES FROM ('{p.lower.isoformat()}') TO ('{p.upper.isoformat()}')"
    if stray is None:
        conn.execute(text(f"CREATE TABLE {p.name} PARTITION OF {PARENT} {spec}"))
        return
    # The default partition holds rows of this day: move them into a table of the same
    # shape, then attach it (which builds its indexes and checks the range).
    conn.execute(text(f"CREATE TABLE {p.name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    conn.execute(text(f"INSERT INTO {p.name} SELECT * FROM {DEFAULT} "
                      "WHERE ts >= :lo AND ts < :hi"), bounds)
    conn.execute(text(f"DELETE FROM {DEFAULT} WHERE ts >= :lo AND ts < :hi"), bounds)
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {p.name} {spec}"))


def cover(engine: Engine, days: Iterable[date], known: set[date]) -> None:
    """Make sure the partitions of `days` exist, in a short transaction of its own before
    a batch's (partition DDL locks the parent; a batch must not wait on itself).
    `known` remembers the days seen, so a batch of known days costs nothing."""
    missing = set(days) - known
    if not missing or engine.dialect.name != "postgresql":
        known |= missing
        return
    with engine.begin() as conn:
        ensure_days(conn, missing)
    known |= missing


def ensure_ahead(conn: Connection, today: date, ahead: int = AHEAD_DAYS) -> list[str]:
    """Today's partition and `ahead` days after it (the daily job)."""
    return ensure_days(conn, (today + timedelta(days=k) for k in range(ahead + 1)))
