"""The store_0001 migration produces exactly the models' schema, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from bot.store.base import Base
from bot.store.models import STORE_TABLES


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return name in STORE_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in STORE_TABLES


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"include_object": _ours, "compare_type": True, "target_metadata": Base.metadata},
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    tables = set(inspect(db_engine).get_table_names())
    assert set(STORE_TABLES) <= tables


def test_compare_detects_drift(db_engine: Engine) -> None:
    """The comparison is not vacuous: a column the migration lacks is reported."""
    from sqlalchemy import Column, Integer, MetaData, Table

    meta = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name in STORE_TABLES:
            table.to_metadata(meta)
    Table("chargers", meta, Column("extra_column", Integer), extend_existing=True)
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _ours})
        diff = compare_metadata(ctx, meta)
    assert any(d[0] == "add_column" and d[3].name == "extra_column" for d in diff)
