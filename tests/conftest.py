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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from db_reset import private_pg_database
from db_reset import truncate_all as _truncate_all
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.store.db import make_engine, make_sessionmaker, migrate

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "FAULTBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("FAULTBOT_REQUIRE_SERVICES") == "1"


SERVICES = ("PostgreSQL", "RabbitMQ", "MariaDB")
UNREACHABLE = " not reachable: "
# Tests skipped because a service was absent, per service, for the end-of-run summary.
_skipped_for: dict[str, int] = {}


def service_unavailable(what: str, reason: str) -> None:
    """Skip (laptop) or fail (CI) when a real service a test needs is absent."""
    message = f"{what}{UNREACHABLE}{reason}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (FAULTBOT_REQUIRE_SERVICES=1: CI must have it running)")
    pytest.skip(message)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped:
        return
    reason = _skip_reason(report)
    for service in SERVICES:
        if service in reason and UNREACHABLE in reason:
            _skipped_for[service] = _skipped_for.get(service, 0) + 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # However a service test came to be skipped, CI must not pass with it skipped.
    if REQUIRE_SERVICES and _skipped_for and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> Any:
    """Say plainly, after every other summary, whether the PostgreSQL/RabbitMQ/MariaDB
    tests ran (the outermost wrapper writes after pytest's short summary)."""
    yield
    tr = terminalreporter
    if not _skipped_for:
        tr.write_sep("=", "real services: no test was skipped for a missing service", green=True)
        return
    tr.write_sep("=", "SKIPPED FOR MISSING SERVICES", red=True, bold=True)
    for service in SERVICES:
        if service in _skipped_for:
            tr.write_line(
                f"{_skipped_for[service]} test(s) did NOT run because {service} was not "
                "reachable (start it, or run .ci/run, which starts every service)"
            )
    if REQUIRE_SERVICES:
        tr.write_line("FAULTBOT_REQUIRE_SERVICES=1: this run fails because of these skips")


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
    admin.dispose()
    with private_pg_database(PG_ADMIN_URL, "faultbot_test") as url:
        yield url


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
