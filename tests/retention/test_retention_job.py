"""The daily prune of `faultbot run` (bot.retention.job) and giving the freed space back
(bot.retention.vacuum): new SQLite files vacuum incrementally after a prune; a file made
before that setting says so, and `faultbot db prune --vacuum` converts it once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from test_retention_prune import FEED, _ingest

from bot.cli.main import cli
from bot.config import SettingsError, load_settings
from bot.retention.job import JOB_ID, PruneScheduler, prune_and_reclaim
from bot.retention.prune import RetentionPolicy
from bot.store.db import make_engine, migrate
from bot.store.models import MessageRow


def _pragma(path: Path, name: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def _frames(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(MessageRow.id))).scalar() or 0)


def test_prune_time_setting() -> None:
    assert load_settings({}, dotenv=False).prune_time == time(4, 0)
    assert load_settings({"FAULTBOT_PRUNE_TIME": "23:05"}, dotenv=False).prune_time == time(23, 5)
    assert load_settings({"FAULTBOT_PRUNE_TIME": "off"}, dotenv=False).prune_time is None
    try:
        load_settings({"FAULTBOT_PRUNE_TIME": "25:00"}, dotenv=False)
    except SettingsError as exc:
        assert "FAULTBOT_PRUNE_TIME" in str(exc)
    else:
        raise AssertionError("25:00 accepted")


def test_the_daily_job_prunes_then_vacuums_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    assert _pragma(path, "auto_vacuum") == 2  # set before the first table was created
    _ingest(engine, FEED)
    total = _frames(engine)
    job = PruneScheduler(engine, RetentionPolicy(raw_days=5), time(3, 0))
    job.start()
    try:
        assert job.scheduler is not None
        planned = job.scheduler.get_job(JOB_ID).next_run_time
        assert (planned.hour, planned.minute) == (3, 0) and planned > datetime.now(UTC)
        run = job.run()
    finally:
        job.shutdown()
        engine.dispose()
    assert run is not None and run.report.frames > 1000
    assert _frames(make_engine(f"sqlite:///{path}")) == total - run.report.frames
    assert run.vacuum.mode == "incremental" and run.vacuum.bytes_freed > 0
    assert _pragma(path, "freelist_count") == 0  # no free page left in the file


def test_an_older_sqlite_file_is_told_then_converted_by_prune_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a file whose first table predates the setting
        conn.execute("CREATE TABLE older_tool (x INTEGER)")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    assert _pragma(path, "auto_vacuum") == 0
    _ingest(engine, FEED)
    run = prune_and_reclaim(engine, RetentionPolicy(raw_days=5))
    assert run.report.frames > 1000 and run.vacuum.mode == "off"
    assert _pragma(path, "freelist_count") > 0  # reused later, but the file did not shrink
    engine.dispose()
    pages = _pragma(path, "page_count")
    result = CliRunner().invoke(cli, ["db", "prune", "--vacuum", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "full VACUUM" in result.output
    assert _pragma(path, "auto_vacuum") == 2 and _pragma(path, "page_count") < pages
    assert _pragma(path, "freelist_count") == 0
    result = CliRunner().invoke(cli, ["db", "prune", "--database-url", url])
    assert "incremental vacuum" in result.output, result.output


def test_the_job_runs_on_both_databases(db_engine: Engine) -> None:
    _ingest(db_engine, FEED)
    run = PruneScheduler(db_engine, RetentionPolicy(), time(4, 0)).run()
    assert run is not None and run.report.frames > 500
    expected = "incremental" if db_engine.dialect.name == "sqlite" else "n/a"
    assert run.vacuum.mode == expected


def test_run_starts_the_job_in_one_process_per_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.runtime_cmds import _start_prune_job

    engine = make_engine(f"sqlite:///{tmp_path / 'run.db'}")
    try:
        monkeypatch.setenv("FAULTBOT_AMQP_PARTITION", "0/2")
        job = _start_prune_job(load_settings({"FAULTBOT_PRUNE_TIME": "05:45"}, dotenv=False),
                               engine)
        assert job is not None and job.scheduler is not None
        planned = job.scheduler.get_job(JOB_ID).next_run_time
        assert (planned.hour, planned.minute) == (5, 45)
        job.shutdown()
        monkeypatch.setenv("FAULTBOT_AMQP_PARTITION", "1/2")  # the other partition: none
        assert _start_prune_job(load_settings({}, dotenv=False), engine) is None
        monkeypatch.setenv("FAULTBOT_AMQP_PARTITION", "0/1")
        off = load_settings({"FAULTBOT_PRUNE_TIME": "off"}, dotenv=False)
        assert _start_prune_job(off, engine) is None
    finally:
        engine.dispose()
