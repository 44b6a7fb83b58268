"""Several workers started together on a fresh database all come up (issue 10).

Before the migration lock, two processes both created `alembic_version` on a fresh
PostgreSQL database and one died on the duplicate type, 5 times out of 5.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import text

from bot.store.db import make_engine

WORKERS = 4
# Each worker waits for the same instant, then migrates, as `faultbot run` does at start.
SCRIPT = """
import sys, time
from bot.store.db import make_engine, migrate
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
engine = make_engine(sys.argv[1])
migrate(engine)
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT count(*) FROM messages")
print("up")
"""


def _start_together(url: str) -> list[subprocess.CompletedProcess[str]]:
    import time

    start = time.time() + 2.0  # time for every interpreter to import first
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _assert_all_up(results: list[subprocess.CompletedProcess[str]]) -> None:
    for r in results:
        assert r.returncode == 0 and r.stdout.strip() == "up", r.stderr[-2000:]


def test_workers_started_together_on_a_fresh_postgresql_database(postgres_url: str) -> None:
    # the run's own server (the fixture skips, or fails in CI, when it is absent)
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"faultbot_race_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = postgres_url.rsplit("/", 1)[0] + "/" + name
        _assert_all_up(_start_together(url))
        engine = make_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        engine.dispose()
        assert versions and versions > 0
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_workers_started_together_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    _assert_all_up(_start_together(f"sqlite:///{tmp_path / 'fresh.db'}"))
