"""The weekly fleet report on a schedule in `faultbot run` (FAULTBOT_REPORT_TIME).

Like the daily digest (bot/slack/digest_job.py): an APScheduler CronTrigger at the
weekday and local time in FAULTBOT_TIMEZONE, and a start-up catch-up, both calling
`run_due(now)`. A week's report is posted to the digest channel only when no report was
recorded there (slack_report_posts) since that week's scheduled time, so a restart or
a manual `faultbot slack report-now` after the hour does not post it twice. Up to
`CATCH_UP` late still posts; later, the week is skipped.

The report goes through the outbox like the digest (bot.slack.report_post.queue_report),
keyed by the week's scheduled time: retried with backoff when Slack is away, a lost
answer looked up instead of posting twice, and queued once per week even when several
workers or restarts reach the hour together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.schedule import CronJob
from bot.slack.dbutil import utcnow
from bot.slack.models import SlackReportPost
from bot.slack.outbox import OutboxWorker
from bot.slack.report_post import QueuedReport, queue_report, report_delivery

log = logging.getLogger(__name__)

JOB_ID = "faultbot-weekly-report"
CATCH_UP = timedelta(hours=6)
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ReportScheduler(CronJob):
    job_id = JOB_ID
    job_name = "faultbot weekly report"
    misfire_grace_s = int(CATCH_UP.total_seconds())

    def __init__(self, engine: Engine, settings: Settings, client: WebClient, *,
                 sites: Any = None, clock: Callable[[], datetime] = utcnow,
                 worker: OutboxWorker | None = None) -> None:
        if settings.report_time is None or not settings.digest_channel:
            raise ValueError("the weekly report needs FAULTBOT_REPORT_TIME and a channel")
        self.engine = engine
        self.client = client
        self.channel = settings.digest_channel
        self.weekday, self.at = settings.report_time
        self.tz: ZoneInfo = settings.timezone
        self.sites = sites
        self.clock = clock
        self.worker = worker or OutboxWorker(engine, client, clock=clock,
                                             admins=settings.admins)
        self.scheduler = None

    def trigger(self) -> CronTrigger:
        return CronTrigger(day_of_week=CRON_DAYS[self.weekday], hour=self.at.hour,
                           minute=self.at.minute, timezone=self.tz)

    def timezone(self) -> ZoneInfo:
        return self.tz

    def run(self) -> QueuedReport | None:
        return self.run_due(self.clock())

    def scheduled_at(self, now: datetime) -> datetime:
        """The UTC instant of the latest scheduled report at or before `now` (DST-aware)."""
        local = now.astimezone(self.tz)
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        at = datetime.combine(day, self.at, tzinfo=self.tz)
        if at > local:
            at = datetime.combine(day - timedelta(days=7), self.at, tzinfo=self.tz)
        return at.astimezone(ZoneInfo("UTC"))

    def run_due(self, now: datetime | None = None) -> QueuedReport | None:
        """Queue this week's report if its time has passed (by less than CATCH_UP) and
        none was posted or queued to the channel since, then deliver it; where it stands
        in the outbox, or None when nothing was queued."""
        from bot.fold.checkpoint import log_time
        from bot.report.build import build_report

        now = now or self.clock()
        due = self.scheduled_at(now)
        if now >= due + CATCH_UP:
            return None
        with Session(self.engine) as s:
            done = s.execute(select(SlackReportPost.id).where(
                SlackReportPost.channel == self.channel,
                SlackReportPost.posted_at >= due).limit(1)).first()
            if done is not None:
                return None
            logged = log_time(s.connection())
            report = build_report(s, min(now, logged) if logged else now, self.tz, self.sites)
            key = due.isoformat()
        with Session(self.engine) as s, s.begin():
            if not queue_report(s, self.channel, report, key, now):
                return None  # queued by an earlier run this week: the outbox delivers it
        self.worker.run_once()
        with Session(self.engine) as s:
            state = report_delivery(s, self.channel, key)
        if state is not None and state.charts_error:
            log.warning("weekly report posted without charts: %s", state.charts_error)
        if state is not None:
            log.info("weekly report to %s: %s (ts %s)", state.channel, state.status, state.ts)
        return state
