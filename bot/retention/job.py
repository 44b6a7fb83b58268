"""The daily prune in `faultbot run`: APScheduler (3.x BackgroundScheduler, like the
digest job) fires at FAULTBOT_PRUNE_TIME (UTC). The prune itself is idempotent and
measured on the log's clock, so a missed, repeated or late run changes nothing but when
the space comes back; one process per deployment runs it (the first broker partition).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import time

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from bot.retention.prune import PruneReport, RetentionPolicy, prune
from bot.retention.vacuum import VacuumReport, compact_days, reclaim
from bot.schedule import CronJob

log = logging.getLogger(__name__)

JOB_ID = "faultbot-daily-prune"
MISFIRE_GRACE = 6 * 3600  # a process down at the time still prunes when back within 6 h


@dataclass(slots=True)
class PruneRun:
    report: PruneReport
    vacuum: VacuumReport
    compacted: list[str] = field(default_factory=list)  # PostgreSQL day partitions


def prune_and_reclaim(engine: Engine, policy: RetentionPolicy) -> PruneRun:
    """One daily run: prune, then give freed pages back (SQLite incremental vacuum) and
    rebuild the indexes of days that closed (PostgreSQL)."""
    report = prune(engine, policy)
    vacuum = reclaim(engine) if report.reason is None else VacuumReport("n/a")
    return PruneRun(report, vacuum, compact_days(engine))


class PruneScheduler(CronJob):
    job_id = JOB_ID
    job_name = "faultbot daily prune"
    misfire_grace_s = MISFIRE_GRACE
    fire_at_start = False  # the next daily run is soon enough

    def __init__(self, engine: Engine, policy: RetentionPolicy, at: time) -> None:
        self.engine = engine
        self.policy = policy
        self.at = at
        self.scheduler = None
        self.runs: list[PruneRun] = []  # the last run, for /health-style inspection

    def trigger(self) -> CronTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone="UTC")

    def timezone(self) -> str:
        return "UTC"

    def run(self) -> PruneRun:
        run = prune_and_reclaim(self.engine, self.policy)
        self.runs[:] = [run]
        r = run.report
        log.info("daily prune: %d frames, %d diagnoses, %d incidents, %d port rows removed "
                 "(%s); %d bytes given back (%s); %d day partition(s) compacted",
                 r.frames, r.diagnoses, r.incidents, r.port_statuses, r.reason or "done",
                 run.vacuum.bytes_freed, run.vacuum.mode, len(run.compacted))
        return run
