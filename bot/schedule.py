"""Jobs on a clock in `faultbot run` (the daily digest, the weekly report, the daily
prune): each one an APScheduler 3.x BackgroundScheduler job at a cron trigger, with the
same settings everywhere: a late run within the job's grace still happens, missed runs
coalesce into one, never two at once. A job that must not be skipped by a restart also
runs once at start-up (its own `fire` decides whether anything is due).

May import: nothing
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)


class CronJob:
    job_id: ClassVar[str]
    job_name: ClassVar[str]
    misfire_grace_s: ClassVar[int]
    fire_at_start: ClassVar[bool] = True
    scheduler: BackgroundScheduler | None = None

    def trigger(self) -> CronTrigger:
        raise NotImplementedError

    def timezone(self) -> Any:
        raise NotImplementedError

    def run(self) -> object:
        """The job's work, once; may raise."""
        raise NotImplementedError

    def fire(self) -> None:
        """One run from the scheduler; never raises: a failure is logged and the next
        run tries again (the feed and the other jobs go on meanwhile)."""
        try:
            self.run()
        except Exception:
            log.exception("%s failed", self.job_name)

    def start(self) -> None:
        if self.scheduler is None:
            self.scheduler = BackgroundScheduler(timezone=self.timezone())
        self.scheduler.add_job(
            self.fire, self.trigger(), id=self.job_id, name=self.job_name,
            replace_existing=True, misfire_grace_time=self.misfire_grace_s, coalesce=True,
            max_instances=1,
        )
        if not self.scheduler.running:
            self.scheduler.start()
        if self.fire_at_start:
            self.fire()

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
