"""Emptying a test PostgreSQL database between runs (a module of its own, so test files
in any folder can import it: `from conftest import ...` finds whichever conftest was
loaded last)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from bot.store.db import scratch_postgres


def truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "select tablename from pg_tables where schemaname='public' "
                    "and tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            joined = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))


# Each test's own PostgreSQL database (the same helper the benchmarks use).
private_pg_database = scratch_postgres
