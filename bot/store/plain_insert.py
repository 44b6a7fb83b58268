"""INSERT ... ON CONFLICT DO NOTHING of many dict rows, compiled once, sent as plain SQL.

SQLAlchemy's executemany of a Core insert runs each row's values through the column
types' bind processors in Python, about 18 us a row for the pipeline's port-status
history on SQLite (2 % of a whole ingest). Here the statement is compiled once for the
dialect, the same processors are looked up once, and the rows go to the driver's
executemany as tuples: the values the driver gets are the ones SQLAlchemy would send.
Positional paramstyles only (SQLite's qmark); PostgreSQL has its unnest path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import sqlite


class PlainInsert:
    def __init__(self, table: Table, keys: Sequence[str], conflict: Sequence[str],
                 dialect: Any) -> None:
        if dialect.name != "sqlite":
            raise ValueError("PlainInsert is for SQLite")
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        order = compiled.positiontup
        if order is None or sorted(order) != sorted(keys):
            raise ValueError(f"cannot send {table.name} rows as plain SQL")
        self.sql = compiled.string
        self.keys = frozenset(keys)
        processors: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in order:
            impl = table.c[name].type.dialect_impl(dialect)
            processors.append((name, impl.bind_processor(dialect)))
        self._processors = processors

    def run(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        procs = self._processors
        params = []
        for row in rows:
            if row.keys() != self.keys:
                raise ValueError("every row must have the statement's keys")
            params.append(tuple(
                row[name] if proc is None else proc(row[name])
                for name, proc in procs
            ))
        conn.exec_driver_sql(self.sql, params)
