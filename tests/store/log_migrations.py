"""Shared by the stored-log migration tests (store_0004 on): a freshly migrated database
on each engine, and the log read back as readers see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from db_reset import private_pg_database
from sqlalchemy import Engine, select

from bot.store.db import make_engine, migrate
from bot.store.models import MessageRow


def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Iterator[Engine]:
    """A migrated database named `name`: a SQLite file, or a private PostgreSQL one."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / (name + '.db')}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    url: str = request.getfixturevalue("postgres_url")
    with private_pg_database(url.rsplit("/", 1)[0] + "/postgres", f"faultbot_{name}") as own:
        engine = make_engine(own)
        yield engine
        engine.dispose()


def log_columns() -> list[Any]:
    """Every column, occurred_at as readers see it (NULL stored means ts: store_0006),
    the source as its text (source_id: store_0007)."""
    seen = {"occurred_at": MessageRow.occurred_at, "source_id": MessageRow.source}
    return [seen.get(c.name, c) for c in MessageRow.__table__.columns]


def whole_log(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(*log_columns()).order_by(MessageRow.id))]


def at(name: str) -> int:
    """A column's place in `whole_log`'s rows (the log's columns change: store_0007)."""
    return [c.name for c in MessageRow.__table__.columns].index(name)
