"""Shared fixtures.

`db_engine` is parametrized over SQLite and PostgreSQL: every test that uses the
database runs on both. PostgreSQL comes from FAULTBOT_TEST_POSTGRES_URL (default:
the local server on 127.0.0.1:5432, database `test`); when it cannot be reached the
PostgreSQL variant is skipped with the reason, unless FAULTBOT_REQUIRE_SERVICES=1
(set by .ci/run), in which case it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from db_reset import truncate_all as _truncate_all
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.store.db import make_engine, make_sessionmaker, migrate

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "FAULTBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("FAULTBOT_REQUIRE_SERVICES") == "1"


def service_unavailable(what: str, reason: str) -> None:
    """Skip (laptop) or fail (CI) when a real service a test needs is absent."""
    message = f"{what} not reachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (FAULTBOT_REQUIRE_SERVICES=1: CI must have it running)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private, migrated PostgreSQL database for this test run, dropped at the end."""
    try:
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any connection failure means "absent"
        service_unavailable("PostgreSQL", str(exc).splitlines()[0])
    name = f"faultbot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with the full schema and no rows, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "faultbot.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_sessionmaker(db_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(db_engine)


@pytest.fixture
def db_session(db_sessionmaker: sessionmaker[Session]) -> Iterator[Session]:
    with db_sessionmaker() as session:
        yield session
