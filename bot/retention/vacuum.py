"""Give the space a prune freed back to the file system.

SQLite: a database created with auto_vacuum=INCREMENTAL (every new one, bot.store.db)
releases its free pages with `PRAGMA incremental_vacuum` after each prune, in
milliseconds and without rewriting the file. A file created before that setting keeps
auto_vacuum=NONE: its free pages are reused by later inserts but the file does not
shrink until one full `VACUUM` (`faultbot db prune --vacuum`), which rewrites the file
once and switches it to incremental mode. PostgreSQL needs nothing here: dropped
partitions give their files back at once, and autovacuum reuses the space of the few
rows deleted elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

_INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental


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
