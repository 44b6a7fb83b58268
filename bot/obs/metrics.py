"""GET /metrics in the Prometheus text format (prometheus-client).

Feed counters and lag come from this process's HealthState. Diagnoses, open incidents,
the Slack outbox and the last digest are read from the database at scrape time, so
every worker reports the same figures and a restart loses none (small grouped queries
over indexed tables). Slack API errors are counted as they happen, per method, by
wrapping the process's Slack client (`count_slack_errors`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from bot.feeds.health import HealthState, utcnow
from bot.vocab import Severity

log = logging.getLogger(__name__)

# Raw SQL on purpose: these read tables other stages own, and a plain GROUP BY stays
# valid whatever those stages add to their models.
_DIAGNOSES = "SELECT category, rule, COUNT(*) FROM diagnoses GROUP BY category, rule"
_INCIDENTS = ("SELECT severity, COUNT(*) FROM incidents WHERE resolved_at IS NULL "
              "AND suppressed = :no GROUP BY severity")
_OUTBOX = "SELECT status, COUNT(*) FROM slack_outbox GROUP BY status"
_DIGEST = ("SELECT channel, MAX(claimed_at) FROM slack_digest_runs WHERE messages > 0 "
           "GROUP BY channel")


class FaultbotCollector(Collector):
    def __init__(self, engine: Engine | None, health: HealthState) -> None:
        self.engine = engine
        self.health = health

    def collect(self) -> Iterable[Metric]:
        yield from self._feeds()
        if self.engine is not None:
            yield from self._database(self.engine)

    def _feeds(self) -> Iterable[Metric]:
        now = utcnow()
        families = {
            "received": CounterMetricFamily("faultbot_feed_frames_received",
                                            "Frames (or messages) a feed took in.",
                                            labels=["feed"]),
            "stored": CounterMetricFamily("faultbot_feed_frames_stored",
                                          "New frames a feed stored.", labels=["feed"]),
            "rejected": CounterMetricFamily("faultbot_feed_frames_rejected",
                                            "Lines or frames a feed refused as unreadable.",
                                            labels=["feed"]),
        }
        lag = GaugeMetricFamily("faultbot_feed_lag_seconds",
                                "Now minus the CSMS time of the newest frame the feed stored.",
                                labels=["feed"])
        live = GaugeMetricFamily("faultbot_feed_live", "1 when the feed is connected.",
                                 labels=["feed"])
        for name, feed in sorted(self.health.feeds.items()):
            for attr, family in families.items():
                family.add_metric([name], getattr(feed, attr))
            lag.add_metric([name], feed.lag(now).total_seconds())
            live.add_metric([name], 1.0 if feed.live else 0.0)
        yield from families.values()
        yield lag
        yield live

    def _database(self, engine: Engine) -> Iterable[Metric]:
        up = GaugeMetricFamily("faultbot_database_up",
                               "1 when the scrape could read the database.")
        diagnoses = CounterMetricFamily("faultbot_diagnoses",
                                        "Diagnoses made, per category and rule.",
                                        labels=["category", "rule"])
        incidents = GaugeMetricFamily("faultbot_incidents_open",
                                      "Open incidents (not suppressed), per severity.",
                                      labels=["severity"])
        outbox = GaugeMetricFamily("faultbot_slack_outbox",
                                   "Slack outbox calls per status (pending, failed, ...).",
                                   labels=["status"])
        digest = GaugeMetricFamily("faultbot_digest_last_posted_timestamp_seconds",
                                   "When the newest digest was queued, per channel (Unix time).",
                                   labels=["channel"])
        try:
            with engine.connect() as conn:
                diag_rows = conn.execute(text(_DIAGNOSES)).all()
                open_rows: dict[str, int] = {
                    r[0]: r[1] for r in conn.execute(text(_INCIDENTS), {"no": False})}
                outbox_rows: dict[str, int] = {r[0]: r[1] for r in conn.execute(text(_OUTBOX))}
                digest_rows = conn.execute(text(_DIGEST)).all()
        except Exception as exc:  # the feeds' figures still count when the database is down
            log.warning("metrics: cannot read the database: %s", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        for category, rule, count in sorted(diag_rows):
            diagnoses.add_metric([category, rule], count)
        yield diagnoses
        for severity in Severity:
            incidents.add_metric([severity.value], open_rows.get(severity.value, 0))
        yield incidents
        for status in sorted({"pending", "failed", *outbox_rows}):
            outbox.add_metric([status], outbox_rows.get(status, 0))
        yield outbox
        for channel, when in sorted(digest_rows, key=lambda r: r[0]):
            if when is not None:
                digest.add_metric([channel], _unix(when))
        yield digest


def _unix(value: datetime | str) -> float:
    """A stored UTC time as Unix seconds (raw SQL on SQLite gives text, without a zone)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class Metrics:
    """One process's registry: the collector above and the Slack error counter."""

    def __init__(self, engine: Engine | None, health: HealthState) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(FaultbotCollector(engine, health))
        self.slack_errors = Counter(
            "faultbot_slack_api_errors", "Slack Web API calls that failed, per method.",
            ["method"], registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def count_slack_errors(self, client: Any) -> Any:
        """Wrap `client.api_call` (every WebClient method goes through it) so a failed
        call counts against its method; the error itself is raised as before."""
        original = client.api_call
        errors = self.slack_errors

        @functools.wraps(original)
        def api_call(api_method: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(api_method, *args, **kwargs)
            except Exception:
                errors.labels(method=api_method).inc()
                raise

        client.api_call = api_call
        return client
