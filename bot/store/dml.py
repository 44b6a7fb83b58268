"""Dialect-aware INSERTs that tolerate a row already there.

PostgreSQL and SQLite spell "skip or merge on a unique key" as ON CONFLICT; MySQL and
MariaDB as INSERT IGNORE / ON DUPLICATE KEY. The stages that write in bulk ask here
instead of importing dialect modules themselves.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

ConflictInsert = postgresql.Insert | sqlite.Insert


def conflict_insert(dialect: str, table: Table) -> ConflictInsert | None:
    """An INSERT that takes ON CONFLICT clauses, or None where the dialect has none."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return None
