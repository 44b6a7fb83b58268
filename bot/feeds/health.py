"""Feed health: per-feed counters and lag, served as GET /health.

Lag is "now minus the CSMS timestamp of the newest frame this feed stored"; a feed
that has stored nothing yet measures from when it started. /health answers 200 when
every registered feed is live and under the lag threshold, 503 otherwise, so a load
balancer or uptime check can act on it.

With Slack on, a "slack" section (bot.slack.status) shows the connection, the outbox's
pending and failed counts, the last error and the last digest; only "posting stopped"
(a token or scope problem) fails /health.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.ocpp.events import LineError, Record
from bot.ocpp.reasons import RejectReason, counts

if TYPE_CHECKING:
    from bot.feeds.sink import SinkResult


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class FeedHealth:
    name: str
    started_at: datetime = field(default_factory=utcnow)
    live: bool = False  # connected / listening and able to take frames
    received: int = 0  # frames (or messages) the feed took in
    stored: int = 0  # new frames the sink stored
    duplicates: int = 0  # frames the sink already had (redelivery)
    rejected: int = 0  # lines or frames refused as unreadable
    dropped: int = 0  # copies given up (tap queue full, shutdown)
    dead_lettered: int = 0  # broker messages parked in the dead-letter queue
    sink_failures: int = 0
    newest_ts: datetime | None = None
    last_error: str | None = None
    # per bot.ocpp.reasons value: rejected lines and refused requests (RejectReason),
    # frames stored without a fact (DropReason)
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    no_fact: Counter[str] = field(default_factory=Counter)
    refused: int = 0  # whole requests refused (webhook); their lines were never counted
    refused_reasons: Counter[str] = field(default_factory=Counter)

    def note_rejected(self, errors: Iterable[LineError]) -> None:
        """Count refused lines or frames, in total and per reason."""
        kinds = [e.kind for e in errors]
        self.rejected += len(kinds)
        self.rejected_reasons.update(kinds)

    def note_refused(self, kind: RejectReason, n: int = 1) -> None:
        """Count `n` source rows refused before they became records (SteVe, undated)."""
        self.rejected += n
        self.rejected_reasons[kind] += n

    def note_request_refused(self, kind: RejectReason) -> None:
        """Count a request refused whole (webhook: signature, size, type, timeout)."""
        self.refused += 1
        self.refused_reasons[kind] += 1

    def note_result(self, result: SinkResult) -> None:
        """What the sink refused or kept without a fact in one batch."""
        self.note_rejected(result.rejected)
        self.no_fact.update(result.dropped)

    def note_stored(self, records: list[Record], stored: int, duplicates: int) -> None:
        self.stored += stored
        self.duplicates += duplicates
        if records:
            newest = max(r.ts for r in records)
            if self.newest_ts is None or newest > self.newest_ts:
                self.newest_ts = newest

    def lag(self, now: datetime | None = None) -> timedelta:
        now = now or utcnow()
        return max(timedelta(0), now - (self.newest_ts or self.started_at))

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "live": self.live,
            "lag_seconds": round(self.lag(now).total_seconds(), 3),
            "newest_ts": self.newest_ts.isoformat() if self.newest_ts else None,
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "dead_lettered": self.dead_lettered,
            "sink_failures": self.sink_failures,
            "last_error": self.last_error,
            "rejected_by_reason": counts(self.rejected_reasons),
            "no_fact_by_reason": counts(self.no_fact),
            "refused": self.refused,
            "refused_by_reason": counts(self.refused_reasons),
        }


SlackReport = Callable[[datetime], tuple[list[str], dict[str, Any]]]


class HealthState:
    """All feeds of one process."""

    def __init__(
        self,
        max_lag: timedelta = timedelta(minutes=15),
        slack: SlackReport | None = None,
    ) -> None:
        self.max_lag = max_lag
        self.feeds: dict[str, FeedHealth] = {}
        self.slack = slack  # (problems that fail /health, the Slack section)

    def feed(self, name: str) -> FeedHealth:
        if name not in self.feeds:
            self.feeds[name] = FeedHealth(name)
        return self.feeds[name]

    def report(self, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
        now = now or utcnow()
        feeds = {name: f.as_dict(now) for name, f in sorted(self.feeds.items())}
        problems = [
            f"{name}: not live" if not f.live else f"{name}: lag over {self.max_lag}"
            for name, f in sorted(self.feeds.items())
            if not f.live or f.lag(now) > self.max_lag
        ]
        slack_problems: list[str] = []
        slack_body: dict[str, Any] | None = None
        if self.slack is not None:
            try:
                slack_problems, slack_body = self.slack(now)
            except Exception as exc:  # the database may be down: say so, do not crash
                slack_problems, slack_body = [f"slack: status unavailable: {exc}"], None
        ok = bool(self.feeds) and not problems and not slack_problems
        if not self.feeds:
            problems = ["no feed is running"]
        problems = problems + slack_problems
        body: dict[str, Any] = {
            "ok": ok,
            "max_lag_seconds": self.max_lag.total_seconds(),
            "problems": problems,
            "feeds": feeds,
        }
        if self.slack is not None:
            body["slack"] = slack_body
        return ok, body


def add_health_route(web_app: web.Application, health: HealthState) -> None:
    async def handle(_request: web.Request) -> web.Response:
        ok, body = health.report()
        return web.json_response(body, status=200 if ok else 503)

    web_app.router.add_get("/health", handle)


def add_probe_routes(web_app: web.Application, readiness: Any, metrics: Any) -> None:
    """GET /health/live, /health/ready and /metrics (bot.obs.ready, bot.obs.metrics).

    Both of the latter read the database, so they run in a worker thread and never hold
    up the feeds' event loop.
    """
    import asyncio

    async def live(_request: web.Request) -> web.Response:
        return web.json_response({"live": True})

    async def ready(_request: web.Request) -> web.Response:
        ok, body = await asyncio.to_thread(readiness.check)
        return web.json_response(body, status=200 if ok else 503)

    async def scrape(_request: web.Request) -> web.Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        body = await asyncio.to_thread(metrics.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/health/live", live)
    web_app.router.add_get("/health/ready", ready)
    web_app.router.add_get("/metrics", scrape)
