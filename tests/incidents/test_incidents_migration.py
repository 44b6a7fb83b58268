"""The incidents_0001 migration produces exactly the incident models' schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import bot.incidents.models  # noqa: F401 - registers the tables on Base.metadata
from bot.store.base import Base

OURS = ("incidents", "diagnoses", "port_status")


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return name in OURS
    table = getattr(obj, "table", None)
    return table is None or table.name in OURS


def test_incident_tables_match_models(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"include_object": _ours, "compare_type": True, "target_metadata": Base.metadata},
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
