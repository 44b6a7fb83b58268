"""Declarative base and column types shared by every stage's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from bot.store.types import UTCDateTime

__all__ = ["NAMING", "Base", "UTCDateTime", "table_of"]

# Explicit constraint names so alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as one (SQLAlchemy types `__table__` as FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):  # only a mapping to a join or a select is not
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table
