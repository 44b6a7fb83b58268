"""The scheduled-job base (bot/schedule.py): a failing run is logged and never
reaches APScheduler's thread, so the next run (and the feed) goes on."""

from __future__ import annotations

import logging
from datetime import time

import pytest
from sqlalchemy import Engine

from bot.retention.job import PruneScheduler
from bot.retention.prune import RetentionPolicy


class _Broken(PruneScheduler):
    def run(self) -> object:
        raise RuntimeError("database went away")


def test_a_failing_run_is_logged_not_raised(
    db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    job = _Broken(db_engine, RetentionPolicy(), time(4, 0))
    with caplog.at_level(logging.ERROR, logger="bot.schedule"):
        job.fire()
    failed = [r for r in caplog.records if r.name == "bot.schedule"]
    assert [r.getMessage() for r in failed] == ["faultbot daily prune failed"]
    assert failed[0].exc_info is not None and "database went away" in str(failed[0].exc_info[1])
    assert job.runs == []


def test_a_good_run_through_fire_is_kept(db_engine: Engine) -> None:
    job = PruneScheduler(db_engine, RetentionPolicy(), time(4, 0))
    job.fire()
    assert len(job.runs) == 1 and job.runs[0].report is not None
