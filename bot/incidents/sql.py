"""Small dialect helpers for bulk writes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Table, insert
from sqlalchemy.orm import Session

from bot.store.dml import conflict_insert


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> None:
    """One multi-row INSERT that skips rows violating the unique key `conflict`."""
    on_conflict = conflict_insert(session.get_bind().dialect.name, table)
    if on_conflict is not None:
        stmt: Executable = on_conflict.on_conflict_do_nothing(index_elements=list(conflict))
    else:  # MySQL/MariaDB: INSERT IGNORE
        stmt = insert(table).prefix_with("IGNORE")
    session.execute(stmt, list(rows))
