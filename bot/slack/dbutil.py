"""Small portable SQL helpers for the Slack tables (SQLite, PostgreSQL, others)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.dml import conflict_insert


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_ignore(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """INSERT unless a unique key already holds the row; True when we inserted.

    ON CONFLICT DO NOTHING where the dialect has it (no aborted transaction on
    PostgreSQL); a savepoint elsewhere.
    """
    on_conflict = conflict_insert(session.get_bind().dialect.name, table)
    if on_conflict is not None:
        # RETURNING, not rowcount: psycopg reports a rowcount for a skipped row here.
        stmt = on_conflict.values(**values).on_conflict_do_nothing()
        pk = next(iter(table.primary_key.columns))
        return session.execute(stmt.returning(pk)).first() is not None
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True
