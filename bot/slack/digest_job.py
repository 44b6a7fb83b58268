"""The daily digest: scheduled once per channel per local day, whatever restarts,
catch-ups or extra workers happen.

APScheduler (3.x BackgroundScheduler, one process) fires a CronTrigger at
FAULTBOT_DIGEST_TIME in FAULTBOT_TIMEZONE; the job and a start-up catch-up both call
`run_due(now)`, which posts a day's digest only after claiming the unique
`slack_digest_runs(channel, local_date)` row in the same transaction that queues the
messages. Late by up to `CATCH_UP` (6 h) still posts; later than that the day is
skipped. Digest times between 01:00 and 03:00 local are refused: on the autumn DST
change those wall-clock times happen twice (and in spring not at all).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from bot.config import Settings, check_digest_time
from bot.schedule import CronJob
from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.models import SlackDigestRun
from bot.slack.outbox import OutboxWorker, enqueue
from bot.slack.render.digest import render_digest_messages
from bot.slack.report_post import latest_report
from bot.store.base import table_of

log = logging.getLogger(__name__)

JOB_ID = "faultbot-daily-digest"
CATCH_UP = timedelta(hours=6)
MISFIRE_GRACE = int(CATCH_UP.total_seconds())

DigestBuilder = Callable[[Session, date, ZoneInfo, Any, datetime], Any]


def _default_builder(session: Session, day: date, tz: ZoneInfo, sites: Any, now: datetime) -> Any:
    """The digest as of the log's clock (never later than `now`), like `faultbot digest`:
    the same stored messages give the same ports down and uptime, whenever it posts."""
    from bot.digest.build import build_digest
    from bot.fold.checkpoint import log_time

    logged = log_time(session.connection())
    return build_digest(session, day, tz, sites, min(now, logged) if logged else now)


def _default_sites(settings: Settings) -> Any:
    try:
        from bot.store.sites import SiteMap
    except ImportError:  # the store's site map is optional for the digest
        return None
    return SiteMap.from_settings(settings)


@dataclass(slots=True)
class DigestRunResult:
    channel: str
    local_date: date
    posted: bool  # False: someone already did this day (or nothing was due)
    messages: int = 0
    trigger: str = ""


class DigestScheduler(CronJob):
    """The daily digest (start-up catch-up included: a restart after the hour still
    posts today's)."""

    job_id = JOB_ID
    job_name = "faultbot daily digest"
    misfire_grace_s = MISFIRE_GRACE

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        client: WebClient | None,
        *,
        build: DigestBuilder | None = None,
        sites: Any = None,
        clock: Callable[[], datetime] = utcnow,
        worker: OutboxWorker | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.tz = settings.timezone
        self.at = check_digest_time(settings.digest_time)
        self.channels = [settings.digest_channel] if settings.digest_channel else []
        self.build = build or _default_builder
        self._sites = sites
        self.clock = clock
        self.worker = worker or (
            OutboxWorker(engine, client, clock=clock, admins=settings.admins) if client else None
        )
        self.scheduler = None

    @property
    def sites(self) -> Any:
        if self._sites is None:
            self._sites = _default_sites(self.settings)
        return self._sites

    # -- schedule ------------------------------------------------------------------
    def trigger(self) -> CronTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.tz)

    def timezone(self) -> ZoneInfo:
        return self.tz

    def run(self) -> list[DigestRunResult]:
        return self.run_due(self.clock())

    # -- the work ------------------------------------------------------------------
    def scheduled_at(self, local_date: date) -> datetime:
        """The UTC instant of the digest on a local date (DST-aware)."""
        return datetime.combine(local_date, self.at, tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    def due_dates(self, now: datetime) -> list[date]:
        """Local dates whose digest time has passed by less than the catch-up window."""
        today = now.astimezone(self.tz).date()
        out = []
        for d in (today - timedelta(days=1), today):
            at = self.scheduled_at(d)
            if at <= now < at + CATCH_UP:
                out.append(d)
        return out

    def report_day(self, local_date: date) -> date:
        """A morning digest reports on yesterday; an evening one (18:00 on) on the day."""
        return local_date if self.at >= time(18, 0) else local_date - timedelta(days=1)

    def run_due(self, now: datetime | None = None) -> list[DigestRunResult]:
        now = now or self.clock()
        results = []
        for local_date in self.due_dates(now):
            trigger = (
                "schedule"
                if now - self.scheduled_at(local_date) < timedelta(minutes=5)
                else "catch-up"
            )
            for channel in self.channels:
                results.append(self.post(channel, local_date, now, trigger=trigger))
        if any(r.posted for r in results) and self.worker is not None:
            self.worker.run_once()
        return results

    def post(
        self, channel: str, local_date: date, now: datetime, *, trigger: str = "manual"
    ) -> DigestRunResult:
        """Claim (channel, local_date) and queue the digest of the day before it.

        The claim and the outbox rows commit together: if building fails, nothing is
        claimed and a later run may try again; once claimed, nobody posts it again.
        """
        day = self.report_day(local_date)
        with Session(self.engine) as s, s.begin():
            claimed = insert_ignore(
                s,
                table_of(SlackDigestRun),
                {
                    "channel": channel,
                    "local_date": local_date,
                    "claimed_at": now,
                    "trigger": trigger,
                    "messages": 0,
                },
            )
            if not claimed:
                return DigestRunResult(channel, local_date, False, trigger=trigger)
            digest = self.build(s, day, self.tz, self.sites, now)
            messages = render_digest_messages(digest, self.tz, report=latest_report(s, channel))
            for i, message in enumerate(messages):
                enqueue(
                    s,
                    channel=channel,
                    message=message,
                    dedupe_key=f"digest:{channel}:{local_date.isoformat()}:{i}",
                    # The stable key Slack keeps with the post: a lost reply is looked
                    # up by it instead of posting the day's digest twice.
                    extra={
                        "metadata": {
                            "event_type": "faultbot_digest",
                            "event_payload": {"day": local_date.isoformat(), "part": i},
                        }
                    },
                    now=now,
                )
            s.execute(
                update(SlackDigestRun)
                .where(SlackDigestRun.channel == channel, SlackDigestRun.local_date == local_date)
                .values(messages=len(messages))
            )
        log.info("digest for %s queued to %s in %d message(s)", day, channel, len(messages))
        return DigestRunResult(channel, local_date, True, len(messages), trigger)
