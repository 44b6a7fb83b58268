"""`kill -9` in the middle of `faultbot ingest`, then the same ingest again (issue 9).

Four concatenated copies of the sample are ingested by a real `faultbot ingest` process
that is killed with SIGKILL once part of the log is stored; running the same command
again must leave exactly the incidents and open outages of one clean run. This is the
case that exposed the lost triage context: the second run skipped the stored half as
duplicates and triaged the rest without its history.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.incidents.models import Incident
from bot.sample.generate import write_sample
from bot.store.models import MessageRow


def _ingest(db_url: str, sites: Path, feed: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "FAULTBOT_SITES": str(sites)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "ingest", "--batch-size", "1000", str(feed)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _incidents(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        return sorted(
            (i.scope, i.charger or "", i.connector or 0, i.category, i.opened_at.isoformat(),
             i.resolved_at.isoformat() if i.resolved_at else "OPEN")
            for i in s.scalars(select(Incident))
        )


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(MessageRow)) or 0)


@pytest.mark.slow
def test_kill_9_then_the_same_ingest_gives_one_clean_run(
    db_url: str, db_engine: Engine, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    paths = write_sample(tmp_path)
    lines = paths.feed.read_text()
    feed = tmp_path / "four-copies.jsonl"
    feed.write_text(lines * 4)

    # the clean run, in a database of its own
    clean_dir = tmp_path_factory.mktemp("clean")
    clean_url = f"sqlite:///{clean_dir / 'clean.db'}"
    proc = _ingest(clean_url, paths.sites, feed)
    assert proc.wait(timeout=600) == 1, proc.stderr.read() if proc.stderr else ""  # bad lines
    from bot.store.db import make_engine

    clean_engine = make_engine(clean_url)
    clean = _incidents(clean_engine)
    clean_engine.dispose()
    assert sum(1 for i in clean if i[-1] == "OPEN") >= 2  # the silent chargers stay open

    # the killed run: SIGKILL once about half of one copy is stored
    proc = _ingest(db_url, paths.sites, feed)
    deadline = time.monotonic() + 300
    while _stored(db_engine) < 15_000:
        assert proc.poll() is None, "ingest ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < _stored(db_engine) < 38_000

    again = _ingest(db_url, paths.sites, feed)
    assert again.wait(timeout=600) == 1, again.stderr.read() if again.stderr else ""
    assert _incidents(db_engine) == clean
