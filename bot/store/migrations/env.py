"""Alembic environment. Each stage of the flow owns a migration branch (its own root,
labelled by stage) so stages evolve their tables independently; `upgrade heads` runs all."""

from __future__ import annotations

from alembic import context

from bot.store.all_models import load_all_models
from bot.store.base import Base

load_all_models()  # so autogenerate sees the whole schema
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from bot.config import load_settings
        from bot.store.db import make_engine

        engine = make_engine(load_settings().database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations()
