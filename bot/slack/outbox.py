"""The persisted outbox: every message we post or edit is a row first.

Producers (alert threads, digests, answers to mentions) `enqueue()` rows inside their
own transaction, so a Slack outage can never lose what was decided. The
`OutboxWorker` claims a row (UPDATE ... WHERE status='pending': only one worker wins),
calls Slack (bot.slack.delivery), and records the ts.

- Exactly once: every post carries its row's key in message metadata; after an
  ambiguous failure the row is marked `unsure_since` and the next attempt first looks
  the key up in the channel (or thread) and adopts the message it finds.
- Fast recovery: a 429 waits exactly Retry-After and does not grow the backoff; other
  retryable failures back off per row from `BACKOFF_BASE`, capped at `BACKOFF_CAP`.
- Order is kept per lane: one incident's thread (root, edits, replies), or one channel
  for rows without an incident (digest parts). A row in backoff holds only its lane.
  Posts to one channel are paced (`pace` seconds apart, Slack's 1/s per channel).
- Failures are classified (bot.slack.errors) and stored with the row; permanent and
  configuration errors reach the admins (bot.slack.notices); blocks Slack refuses are
  sent again as text only; token and scope errors stop all posting until fixed.
- The weekly report (ref "report") is recorded in slack_report_posts when it lands (the
  digest links to it); its charts (ref "charts", delivery.UPLOAD_FILES) wait for it in
  its channel's lane and go into its thread. Charts are an extra: a failure that will
  not pass (no files:write) fails that row alone and never stops other posts.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot.slack import delivery
from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.errors import CONFIGURATION, PERMANENT, RETRYABLE, SlackFailure, token_kind
from bot.slack.models import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SlackAlertMessage,
    SlackOutbox,
    SlackReportPost,
)
from bot.slack.notices import NOTICE_REF, notify_admins
from bot.slack.render.budget import SlackMessage, fit
from bot.store.base import table_of

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

BACKOFF_BASE = 0.5  # seconds after the first failure, doubling per failure ...
BACKOFF_CAP = 2.0  # ... but never longer: Slack outages end, and alerts are urgent
RATE_LIMIT_DEFAULT = 1.0  # a 429 without Retry-After (Slack always sends one)
# A token or scope problem: nothing in the row is at fault, so keep it and try again
# now and then (the operator may fix the token and restart, or grant the scope).
STOPPED_BACKOFF = 300.0
SENDING_LEASE = timedelta(minutes=5)
IDEMPOTENT_METHODS = frozenset({"chat.update", "views.publish"})
PACED_METHODS = frozenset({"chat.postMessage"})  # Slack: 1 message/s per channel


def enqueue(
    session: Session,
    *,
    channel: str,
    message: SlackMessage | None = None,
    method: str = "chat.postMessage",
    extra: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    coalesce_key: str | None = None,
    incident_id: int | None = None,
    ref: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Add one outbound call to the outbox, in the caller's transaction.

    Returns False when nothing new was queued: `dedupe_key` already used (a retry,
    a restart), or a pending row with the same `coalesce_key` was overwritten.
    """
    now = now or utcnow()
    payload: dict[str, Any] = dict(extra or {})
    if message is not None:
        payload.update(fit(message).as_kwargs())
    if method == "chat.postMessage":
        # A URL in vendor text must never unfold into a big preview.
        payload.setdefault("unfurl_links", False)
        payload.setdefault("unfurl_media", False)
    if coalesce_key is not None:
        pending = session.scalars(
            select(SlackOutbox)
            .where(SlackOutbox.coalesce_key == coalesce_key, SlackOutbox.status == PENDING)
            .order_by(SlackOutbox.id)
            .limit(1)
        ).first()
        if pending is not None:
            pending.payload = payload
            if not_before is not None and pending.attempts == 0:
                pending.next_attempt_at = not_before
            return False
    values = {
        "method": method,
        "channel": channel,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "coalesce_key": coalesce_key,
        "incident_id": incident_id,
        "ref": ref,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    if dedupe_key is None:
        session.add(SlackOutbox(**values))
        session.flush()
        return True
    return insert_ignore(session, table_of(SlackOutbox), values)


class _Outcome:
    SENT, RETRY, FAILED, WAIT = "sent", "retry", "failed", "wait"


@dataclass(slots=True)
class DeliveryState:
    """What this worker last saw of Slack, for /health and App Home."""

    last_ok_at: datetime | None = None
    last_failure: SlackFailure | None = None
    last_failure_at: datetime | None = None
    stopped: str | None = None  # why posting is stopped (token / scope), or None

    def connection(self, now: datetime, paused_until: datetime | None) -> str:
        if self.stopped:
            return "stopped"
        if self.last_failure_at is None or (
            self.last_ok_at is not None and self.last_ok_at >= self.last_failure_at
        ):
            return "ok" if self.last_ok_at is not None else "unknown"
        if self.last_failure is not None and self.last_failure.rate_limited:
            return "rate_limited"
        if paused_until is not None and paused_until > now:
            return "unreachable"
        return "degraded"


def record_report(session: Session, channel: str, ts: str, now: datetime) -> None:
    """Remember a posted weekly report (channel, ts) once: the daily digest links to the
    latest (bot.slack.report_post.latest_report)."""
    insert_ignore(session, table_of(SlackReportPost),
                  {"channel": channel, "ts": ts, "posted_at": now})


class OutboxWorker:
    """Delivers pending outbox rows. Several workers may run: claims keep sends single."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] | None = None,
        pace: float = 1.0,
        batch: int = 200,
        jitter: float = 0.0,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        admins: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self._stop = threading.Event()
        self.sleep = sleep or (lambda s: self._stop.wait(s))
        self.pace = pace
        self.batch = batch
        self.jitter = jitter
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.admins = admins
        self.state = DeliveryState()
        self._last_sent: dict[str, datetime] = {}
        self._paused_until: datetime | None = None  # Slack unreachable or rate limited
        self._wake = threading.Event()

    # -- public --------------------------------------------------------------------
    def kick(self) -> None:
        """Wake `run_forever` now (something was just enqueued)."""
        self._wake.set()

    def run_forever(self, stop_event: threading.Event, idle: float = 1.0) -> None:
        self._stop = stop_event
        while not stop_event.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("outbox delivery pass failed")
                sent = 0
            if not sent:
                self._wake.wait(min(idle, self._until_due(idle)))
                self._wake.clear()

    def run_once(self) -> int:
        """Send every row that is due now, lane by lane in order; returns how many
        were delivered."""
        now = self.clock()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        self._recover_stale(now)
        delivered = 0
        blocked: set[str] = set()
        while True:
            rows = self._due_heads(blocked)
            if not rows:
                return delivered
            progressed = False
            for row_id, lane, channel in rows:
                if self._stop.is_set():
                    return delivered
                outcome = self._deliver(row_id, channel)
                if outcome == _Outcome.SENT:
                    delivered += 1
                    progressed = True
                elif outcome == _Outcome.FAILED:
                    progressed = True
                else:
                    blocked.add(lane)
                if self._paused_until is not None and self.clock() < self._paused_until:
                    return delivered
            if not progressed:
                return delivered

    def pending(self) -> int:
        with Session(self.engine) as s:
            n = s.scalar(select(func.count()).where(SlackOutbox.status == PENDING))
            return int(n or 0)

    @property
    def paused_until(self) -> datetime | None:
        return self._paused_until

    # -- internals -----------------------------------------------------------------
    def _until_due(self, idle: float) -> float:
        """Seconds until the pause ends or the next row is due (to wake on time)."""
        now = self.clock()
        if self._paused_until is not None and self._paused_until > now:
            return max(0.01, (self._paused_until - now).total_seconds())
        with Session(self.engine) as s:
            # Rows due now but not sent wait behind a lane head: its retry is the event.
            nxt = s.scalar(
                select(func.min(SlackOutbox.next_attempt_at)).where(
                    SlackOutbox.status == PENDING,
                    (SlackOutbox.attempts > 0) | (SlackOutbox.next_attempt_at > now),
                )
            )
        if nxt is None:
            return idle
        return max(0.05, (nxt - now).total_seconds())

    def _recover_stale(self, now: datetime) -> None:
        """A worker died between claim and answer. Edits are re-sent (idempotent); a
        post whose outcome is unknown is looked up in the channel before it is sent."""
        cutoff = now - SENDING_LEASE
        with Session(self.engine) as s, s.begin():
            stale = s.scalars(
                select(SlackOutbox).where(
                    SlackOutbox.status == SENDING, SlackOutbox.claimed_at < cutoff
                )
            ).all()
            for row in stale:
                row.status = PENDING
                if row.method not in IDEMPOTENT_METHODS:
                    row.unsure_since = row.unsure_since or row.claimed_at
                row.last_error = "outcome unknown: the worker stopped while sending"

    def _due_heads(self, blocked: set[str]) -> list[tuple[int, str, str]]:
        """(row id, lane, channel) of the first deliverable row of each lane.

        A lane is one incident's thread (its root incident) or, for rows without an
        incident, one channel. A row in retry backoff blocks the rows after it in its
        lane (order is kept there); a row merely not due yet (a debounced edit) is
        stepped over. Other lanes go on.
        """
        now = self.clock()
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    SlackOutbox.id,
                    SlackOutbox.channel,
                    SlackOutbox.attempts,
                    SlackOutbox.next_attempt_at,
                    SlackOutbox.incident_id,
                    SlackAlertMessage.root_incident_id,
                )
                .outerjoin(
                    SlackAlertMessage, SlackAlertMessage.incident_id == SlackOutbox.incident_id
                )
                .where(SlackOutbox.status == PENDING)
                .order_by(SlackOutbox.id)
                .limit(self.batch)
            ).all()
        heads: OrderedDict[str, tuple[int, str]] = OrderedDict()
        for row_id, channel, attempts, next_at, incident_id, root_id in rows:
            lane = f"incident:{root_id or incident_id}" if incident_id else f"channel:{channel}"
            if lane in blocked or lane in heads:
                continue
            if next_at > now:
                if attempts > 0:
                    blocked.add(lane)
                continue
            heads[lane] = (row_id, channel)
        return [(row_id, lane, channel) for lane, (row_id, channel) in heads.items()]

    def _anchor_ts(self, s: Session, row: SlackOutbox) -> tuple[str | None, str | None]:
        """(channel, ts) of the incident's root message, or (None, reason)."""
        anchor = s.scalars(
            select(SlackAlertMessage).where(SlackAlertMessage.incident_id == row.incident_id)
        ).first()
        if anchor is None:
            return None, "no alert message for this incident"
        if anchor.root_incident_id != anchor.incident_id:
            root = s.scalars(
                select(SlackAlertMessage).where(
                    SlackAlertMessage.incident_id == anchor.root_incident_id
                )
            ).first()
            anchor = root or anchor
        if anchor.ts:
            return anchor.channel, anchor.ts
        root_row = s.scalars(
            select(SlackOutbox).where(
                SlackOutbox.incident_id == anchor.incident_id, SlackOutbox.ref == "root"
            )
        ).first()
        if root_row is not None and root_row.status == FAILED:
            return None, f"root message failed: {root_row.last_error}"
        return None, None  # the root is not out yet: wait for it

    def _report_anchor(self, s: Session, payload: dict[str, Any]) -> tuple[str | None, str | None]:
        """(channel, ts) of the report a charts row belongs to, or (None, reason), or
        (None, None) while the report is not out yet."""
        report = s.scalars(select(SlackOutbox).where(
            SlackOutbox.dedupe_key == payload.get("report_key"))).first()
        if report is None:
            return None, "no report message for these charts"
        if report.status == FAILED:
            return None, f"report message failed: {report.last_error}"
        if report.status != SENT or not report.result_ts:
            return None, None
        answered = s.scalars(select(SlackReportPost.channel).where(
            SlackReportPost.ts == report.result_ts)).first()  # the id Slack answered with
        return answered or report.channel, report.result_ts

    def _deliver(self, row_id: int, channel: str) -> str:
        now = self.clock()
        with Session(self.engine) as s, s.begin():
            row = s.get(SlackOutbox, row_id)
            if row is None or row.status != PENDING:
                return _Outcome.WAIT
            payload = dict(row.payload)
            if row.ref in ("reply", "update", "charts"):
                # a row that goes into (or edits) an earlier message waits for its ts
                anchor_channel, ts_or_reason = (
                    self._report_anchor(s, payload) if row.ref == "charts"
                    else self._anchor_ts(s, row))
                if anchor_channel is None:
                    if ts_or_reason is None:
                        return _Outcome.WAIT
                    row.status, row.last_error = FAILED, ts_or_reason
                    row.error_class = PERMANENT.value
                    return _Outcome.FAILED
                payload["channel"] = anchor_channel
                payload["ts" if row.ref == "update" else "thread_ts"] = ts_or_reason
            payload.setdefault("channel", row.channel)
            if row.method == "chat.postMessage":
                delivery.stamp(
                    payload, row.dedupe_key or f"outbox:{row.id}", row.ref, row.incident_id
                )
            claimed = s.execute(
                update(SlackOutbox)
                .where(SlackOutbox.id == row_id, SlackOutbox.status == PENDING)
                .values(status=SENDING, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
                return _Outcome.WAIT
            method, ref, incident_id = row.method, row.ref, row.incident_id
            unsure_since = row.unsure_since
        result = self._send(method, payload, channel, unsure_since)
        fallback: delivery.CallResult | None = None
        if result.failure is not None and result.failure.wants_text_fallback:
            # The same words without blocks: late and plain beats lost.
            fallback = self._send(method, delivery.text_only(payload), channel, None)
        return self._record(
            row_id, method, ref, incident_id, channel, payload, now, result, fallback
        )

    def _send(
        self, method: str, payload: dict[str, Any], channel: str, unsure_since: datetime | None
    ) -> delivery.CallResult:
        if method == delivery.UPLOAD_FILES:
            # Files cannot be looked up like a post: after a lost answer they are
            # uploaded again (charts twice at worst, never none).
            return delivery.upload_files(self.client, payload)
        if unsure_since is not None and method not in IDEMPOTENT_METHODS:
            found = delivery.lookup(self.client, payload, unsure_since)
            if found is not None:
                if found.adopted:
                    log.info(
                        "slack %s to %s had landed (ts %s): adopted, not posted again",
                        method,
                        channel,
                        found.ts,
                    )
                return found
        if method in PACED_METHODS:
            self._wait_for_pace(channel)
        result = delivery.call(self.client, method, payload)
        if method in PACED_METHODS:
            self._last_sent[channel] = self.clock()
        return result

    def _record(
        self,
        row_id: int,
        method: str,
        ref: str | None,
        incident_id: int | None,
        channel: str,
        payload: dict[str, Any],
        claimed_at: datetime,
        result: delivery.CallResult,
        fallback: delivery.CallResult | None,
    ) -> str:
        now = self.clock()
        failure = result.failure
        with Session(self.engine) as s, s.begin():
            row = s.get(SlackOutbox, row_id)
            assert row is not None
            row.attempts += 1
            # A pending row with a permanent error is a text-only copy being retried
            # after its blocks were refused: keep why, whatever happens to the copy.
            refused_before = row.error_detail if row.error_class == PERMANENT else None
            sent = result if result.ok else fallback if fallback and fallback.ok else None
            if sent is not None:
                self.state.last_ok_at = now
                self.state.stopped = None
                row.status, row.sent_at, row.result_ts = SENT, now, sent.ts
                row.unsure_since = None
                if refused_before is not None:
                    refused, _, detail = refused_before.partition(": ")
                    row.last_error = refused or None
                    row.error_detail = f"{detail} (sent as text only)".strip()
                else:
                    row.last_error = row.error_class = row.error_detail = None
                if ref == "root" and sent.ts:
                    s.execute(
                        update(SlackAlertMessage)
                        .where(SlackAlertMessage.incident_id == incident_id)
                        # The id Slack answers with: the setting may name the channel
                        # (#ops), but clicks on the alert report the id.
                        .values(
                            ts=sent.ts, channel=sent.channel or payload["channel"], posted_at=now
                        )
                    )
                if ref == "report" and sent.ts:  # the digest links to the latest report
                    record_report(s, sent.channel or payload["channel"], sent.ts, now)
                if failure is None:
                    return _Outcome.SENT
            assert failure is not None
            retry_copy = fallback.failure if fallback is not None else None
            if retry_copy is not None and retry_copy.error_class == RETRYABLE:
                # The blocks are refused for good but the text-only copy only met an
                # outage: retry that copy, never the blocks, and tell the admins now.
                self._tell_admins(s, ref, failure, channel, method, now)
                row.payload = delivery.text_only(payload)
                refused = f"{failure.error}: {failure.detail}" if failure.detail else failure.error
                return self._retry(
                    s, row, method, channel, retry_copy, claimed_at, now, refused=refused
                )
            self.state.last_failure, self.state.last_failure_at = failure, now
            row.last_error = _error_text(failure)
            row.error_class = failure.error_class.value
            row.error_detail = failure.detail or None
            if sent is not None:  # delivered as text only: still tell the admins
                row.error_detail = f"{failure.detail} (sent as text only)".strip()
                log.warning(
                    "slack %s to %s refused (%s: %s); sent as text only",
                    method,
                    channel,
                    failure.error,
                    failure.detail or "no detail",
                )
                self._tell_admins(s, ref, failure, channel, method, now)
                return _Outcome.SENT
            if failure.error_class in (PERMANENT, CONFIGURATION) and (
                    not failure.stops_posting or method == delivery.UPLOAD_FILES):
                row.status = FAILED
                log.error(
                    "slack %s to %s failed for good: %s %s",
                    method,
                    channel,
                    failure.error,
                    failure.detail,
                )
                self._tell_admins(s, ref, failure, channel, method, now)
                return _Outcome.FAILED
            return self._retry(
                s, row, method, channel, failure, claimed_at, now, refused=refused_before
            )

    def _retry(
        self,
        s: Session,
        row: SlackOutbox,
        method: str,
        channel: str,
        failure: SlackFailure,
        claimed_at: datetime,
        now: datetime,
        refused: str | None = None,
    ) -> str:
        """Put the row back for another attempt after a failure that may pass. `refused`
        is set when the blocks were refused for good and the retry sends text only."""
        self.state.last_failure, self.state.last_failure_at = failure, now
        row.last_error = _error_text(failure)
        row.error_class = (PERMANENT if refused else failure.error_class).value
        row.error_detail = refused or failure.detail or None
        row.status = PENDING
        if failure.stops_posting:
            delay = STOPPED_BACKOFF
            self.state.stopped = self._stop_reason(failure)
            log.error("slack posting stopped: %s", self.state.stopped)
            self._pause(delay)
            self._tell_admins(s, row.ref, failure, channel, method, now)
        elif failure.rate_limited:
            # Exactly what Slack asked; not an error, so the backoff does not grow.
            delay = failure.retry_after if failure.retry_after is not None else RATE_LIMIT_DEFAULT
            self._pause(delay)
        else:
            row.failures += 1
            delay = self._backoff(row.failures)
            if failure.error == "network":
                self._pause(delay)  # Slack unreachable: no point trying other lanes now
        if failure.ambiguous and method not in IDEMPOTENT_METHODS:
            row.unsure_since = row.unsure_since or claimed_at
        row.next_attempt_at = now + timedelta(seconds=delay)
        log.info(
            "slack %s to %s: %s%s; retry in %.1fs",
            method,
            channel,
            failure.error,
            " (may have landed: will look it up)" if row.unsure_since else "",
            delay,
        )
        return _Outcome.RETRY

    def _stop_reason(self, failure: SlackFailure) -> str:
        token = token_kind(getattr(self.client, "token", None))
        if failure.error == "missing_scope":
            return f"the {token} lacks a scope: {failure.detail or 'see Slack'}"
        return f"the {token} was refused: {failure.error}"

    def _tell_admins(
        self,
        s: Session,
        ref: str | None,
        failure: SlackFailure,
        channel: str,
        method: str,
        now: datetime,
    ) -> None:
        if ref == NOTICE_REF or not self.admins:
            return  # a notice about a failed notice would loop
        notify_admins(s, self.admins, failure, channel=channel, method=method, now=now)

    def _wait_for_pace(self, channel: str) -> None:
        last = self._last_sent.get(channel)
        if last is None:
            return
        wait = (last + timedelta(seconds=self.pace) - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)

    def _backoff(self, failures: int) -> float:
        base = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, failures - 1))
        return base + (random.uniform(0, self.jitter) if self.jitter else 0.0)

    def _pause(self, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until


def _error_text(failure: SlackFailure) -> str:
    """The short reason stored with a row (a network failure keeps its detail)."""
    return f"network: {failure.detail}" if failure.error == "network" else failure.error
