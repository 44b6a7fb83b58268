"""Small dialect helpers for bulk writes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Executable, Table, insert
from sqlalchemy.orm import Session

from bot.store.dml import conflict_insert, unnest_insert


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> None:
    """One multi-row INSERT that skips rows violating the unique key `conflict`."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and rows:
        keys = list(rows[0])
        if not any(isinstance(table.c[k].type, JSON) for k in keys):
            # One statement with one array per column: executemany sent the rows one by
            # one and processed each row's parameters (7 % of a PostgreSQL ingest). A row
            # conflicting with an earlier one of the same batch is skipped just the same.
            stmt = unnest_insert(table, keys).on_conflict_do_nothing(index_elements=list(conflict))
            session.execute(stmt, {k: [r[k] for r in rows] for k in keys})
            return
    on_conflict = conflict_insert(dialect, table)
    if on_conflict is not None:
        stmt_: Executable = on_conflict.on_conflict_do_nothing(index_elements=list(conflict))
    else:  # MySQL/MariaDB: INSERT IGNORE
        stmt_ = insert(table).prefix_with("IGNORE")
    session.execute(stmt_, list(rows))
