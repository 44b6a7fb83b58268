"""Give the space a prune freed back to the file system.

SQLite: a database created with auto_vacuum=INCREMENTAL (every new one, bot.store.db)
releases its free pages with `PRAGMA incremental_vacuum` after each prune, in
milliseconds and without rewriting the file. A file created before that setting keeps
auto_vacuum=NONE: its free pages are reused by later inserts but the file does not
shrink until one full `VACUUM` (`faultbot db prune --vacuum`), which rewrites the file
once and switches it to incremental mode. PostgreSQL: dropped partitions give their
files back at once, and autovacuum reuses the space of the few rows deleted elsewhere;
what it needs is `compact_days`: a day partition's indexes are written in random key
order (fingerprints, chargers, and ids in fingerprint order), which leaves their pages
about a third empty, so once a day has closed its indexes are rebuilt, once
(REINDEX CONCURRENTLY: writers are not blocked) with their pages filled (fillfactor
100: a frame arriving late for a closed day splits one page), about 50 bytes less per
frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, text

from bot.fold.checkpoint import log_time
from bot.store.partitions import partitioned, partitions

_INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental
_COMPACTED = "faultbot: indexes rebuilt after the day closed"  # the partition's comment
_FULL = 100  # a closed day's index fill factor (B-tree default 90)


@dataclass(slots=True)
class VacuumReport:
    mode: str  # "incremental", "full" (a VACUUM ran), "off" (SQLite, auto_vacuum NONE), "n/a"
    bytes_freed: int = 0


def reclaim(engine: Engine, *, full: bool = False) -> VacuumReport:
    """Release free pages after a prune; `full` rewrites an SQLite file once (VACUUM)."""
    if engine.dialect.name != "sqlite":
        return VacuumReport("n/a")
    # VACUUM cannot run inside a transaction: autocommit, outside the pool's begin.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        page = int(conn.exec_driver_sql("PRAGMA page_size").scalar() or 0)
        before = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        if full:
            conn.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
            conn.exec_driver_sql("VACUUM")
            mode = "full"
        elif conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == _INCREMENTAL:
            # Each step of this pragma frees one page, and Python's sqlite3 steps a
            # statement without result columns once: run it until the free list is empty.
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
            for _ in range(free):
                cursor.execute("PRAGMA incremental_vacuum")
            cursor.close()
            mode = "incremental"
        else:
            return VacuumReport("off")
        after = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
    return VacuumReport(mode, (before - after) * page)


def compact_days(engine: Engine, *, before: date | None = None) -> list[str]:
    """PostgreSQL: rebuild the indexes of every day partition before `before` (default:
    the log clock's day, so only days that have closed) that was not rebuilt yet; the
    partition's comment remembers it. Returns the partitions rebuilt."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        if not partitioned(conn):
            return []
        if before is None:
            now = log_time(conn)
            if now is None:
                return []
            before = now.date()
        done = set(conn.execute(text(
            "SELECT c.relname FROM pg_class c WHERE obj_description(c.oid, 'pg_class') = :m"),
            {"m": _COMPACTED}).scalars())
        todo = [p.name for p in partitions(conn)
                if p.day is not None and p.day < before and p.name not in done]
    # REINDEX CONCURRENTLY cannot run inside a transaction block
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in todo:
            # a closed day takes few writes: its index pages are rebuilt full, not 90%
            for index in conn.execute(text(
                    "SELECT indexrelid::regclass::text FROM pg_index "
                    "WHERE indrelid = CAST(:t AS regclass)"), {"t": name}).scalars():
                conn.execute(text(f"ALTER INDEX {index} SET (fillfactor = {_FULL})"))
            conn.execute(text(f"REINDEX TABLE CONCURRENTLY {name}"))
            conn.execute(text(f"COMMENT ON TABLE {name} IS '{_COMPACTED}'"))
    return todo
