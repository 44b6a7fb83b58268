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


def unnest_insert(table: Table, keys: list[str]) -> postgresql.Insert:
    """PostgreSQL: INSERT INTO table (keys) SELECT FROM unnest(:key1, :key2, ...), one
    array parameter per column: a whole batch of rows in one statement and one round
    trip, with no per-row parameter processing (executemany's cost)."""
    from sqlalchemy import bindparam, func, select

    arrays = [bindparam(k, type_=postgresql.ARRAY(table.c[k].type)) for k in keys]
    rows = (
        func.unnest(*arrays)
        .table_valued(*keys, with_ordinality="ord")
        .render_derived(name="u")
    )
    # ORDER BY the arrays' own order: serial ids are drawn in the order rows are given,
    # as executemany drew them (readers break ties by id), not whatever order the plan has
    picked = select(*(rows.c[k] for k in keys)).order_by(rows.c.ord)
    return postgresql.insert(table).from_select(keys, picked)
