"""Alembic environment. Each stage of the flow owns a migration branch (its own root,
labelled by stage) so stages evolve their tables independently; `upgrade heads` runs all.

Several workers may start together on a fresh database. The whole upgrade runs in one
transaction that first takes a lock: on PostgreSQL a transaction-level advisory lock
(released by the commit), on SQLite an immediate (write) transaction. The first
process migrates; the others wait, then find the schema current and do nothing.
Without it, two processes both create `alembic_version` and one dies on the duplicate.
"""

from __future__ import annotations

from alembic import context

from bot.store.all_models import load_all_models
from bot.store.base import Base

load_all_models()  # so autogenerate sees the whole schema
target_metadata = Base.metadata

# pg_advisory_xact_lock key: any constant shared by every faultbot process ("fbmigrat")
MIGRATION_LOCK = 0x66626D6967726174


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from bot.config import load_settings
        from bot.store.db import make_engine

        engine = make_engine(load_settings().database_url)
    with engine.begin() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        elif dialect == "sqlite":
            # pysqlite opens no transaction for DDL by itself; take the write lock now
            # (waits up to busy_timeout for another process's migration to commit)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=dialect == "sqlite",
        )
        context.run_migrations()


run_migrations()
