"""The persisted outbox: every message we post or edit is a row first.

Producers (alert threads, digests, answers to mentions) `enqueue()` rows inside their
own transaction, so a Slack outage can never lose what was decided. The
`OutboxWorker` claims a row (UPDATE ... WHERE status='pending': only one worker wins),
calls Slack, and records the ts. It retries with backoff on 429 (honouring
Retry-After), 5xx, network errors and retryable `ok:false` errors; permanent errors
mark the row failed with the reason. Rows of one channel go out in order, about one
per second.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.models import FAILED, PENDING, SENDING, SENT, SlackAlertMessage, SlackOutbox
from bot.slack.render.budget import SlackMessage, fit

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# ok:false errors worth retrying (Slack says "try again later" with HTTP 200).
RETRYABLE_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "message_limit_exceeded",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
# The token is wrong or revoked: nothing in the row is at fault, so keep it and wait
# (slowly) for an operator to fix the configuration instead of dropping alerts.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
MAX_BACKOFF = 300.0
AUTH_BACKOFF = 600.0
SENDING_LEASE = timedelta(minutes=5)
IDEMPOTENT_METHODS = frozenset({"chat.update", "views.publish"})


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
    return insert_ignore(session, SlackOutbox.__table__, values)  # type: ignore[arg-type]


class _Outcome:
    SENT, RETRY, FAILED, WAIT = "sent", "retry", "failed", "wait"


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
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self._stop = threading.Event()
        self.sleep = sleep or (lambda s: self._stop.wait(s))
        self.pace = pace
        self.batch = batch
        self.jitter = jitter
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
                self._wake.wait(idle)
                self._wake.clear()

    def run_once(self) -> int:
        """Send every row that is due now, channel by channel in order; returns how many
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
            for row_id, channel in rows:
                if self._stop.is_set():
                    return delivered
                outcome = self._deliver(row_id, channel)
                if outcome == _Outcome.SENT:
                    delivered += 1
                    progressed = True
                elif outcome == _Outcome.FAILED:
                    progressed = True
                else:
                    blocked.add(channel)
                if self._paused_until is not None and self.clock() < self._paused_until:
                    return delivered
            if not progressed:
                return delivered

    def pending(self) -> int:
        with Session(self.engine) as s:
            return len(s.scalars(select(SlackOutbox.id).where(SlackOutbox.status == PENDING)).all())

    # -- internals -----------------------------------------------------------------
    def _recover_stale(self, now: datetime) -> None:
        """A worker died between claim and answer. Re-send edits (idempotent); a post
        whose outcome is unknown is marked failed rather than risk a duplicate."""
        cutoff = now - SENDING_LEASE
        with Session(self.engine) as s, s.begin():
            stale = s.scalars(
                select(SlackOutbox).where(
                    SlackOutbox.status == SENDING, SlackOutbox.claimed_at < cutoff
                )
            ).all()
            for row in stale:
                if row.method in IDEMPOTENT_METHODS:
                    row.status = PENDING
                else:
                    row.status = FAILED
                    row.last_error = "outcome unknown: the worker stopped while sending"

    def _due_heads(self, blocked: set[str]) -> list[tuple[int, str]]:
        """The first deliverable row of each channel, oldest channel first.

        A row in retry backoff blocks the rows after it in its channel (order is
        kept); a row merely not due yet (a debounced edit) is stepped over.
        """
        now = self.clock()
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    SlackOutbox.id,
                    SlackOutbox.channel,
                    SlackOutbox.attempts,
                    SlackOutbox.next_attempt_at,
                )
                .where(SlackOutbox.status == PENDING)
                .order_by(SlackOutbox.id)
                .limit(self.batch)
            ).all()
        heads: OrderedDict[str, int] = OrderedDict()
        for row_id, channel, attempts, next_at in rows:
            if channel in blocked or channel in heads:
                continue
            if next_at > now:
                if attempts > 0:
                    blocked.add(channel)
                continue
            heads[channel] = row_id
        return [(row_id, channel) for channel, row_id in heads.items()]

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

    def _deliver(self, row_id: int, channel: str) -> str:
        now = self.clock()
        with Session(self.engine) as s, s.begin():
            row = s.get(SlackOutbox, row_id)
            if row is None or row.status != PENDING:
                return _Outcome.WAIT
            payload = dict(row.payload)
            if row.ref in ("reply", "update"):
                anchor_channel, ts_or_reason = self._anchor_ts(s, row)
                if anchor_channel is None:
                    if ts_or_reason is None:
                        return _Outcome.WAIT
                    row.status, row.last_error = FAILED, ts_or_reason
                    return _Outcome.FAILED
                payload["channel"] = anchor_channel
                payload["ts" if row.ref == "update" else "thread_ts"] = ts_or_reason
            payload.setdefault("channel", row.channel)
            claimed = s.execute(
                update(SlackOutbox)
                .where(SlackOutbox.id == row_id, SlackOutbox.status == PENDING)
                .values(status=SENDING, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return _Outcome.WAIT
            method, ref, incident_id, attempts = row.method, row.ref, row.incident_id, row.attempts
        self._wait_for_pace(channel)
        outcome, ts, error, delay, sent_to = self._call(method, payload, attempts + 1)
        self._last_sent[channel] = self.clock()
        with Session(self.engine) as s, s.begin():
            row = s.get(SlackOutbox, row_id)
            assert row is not None
            row.attempts += 1
            if outcome == _Outcome.SENT:
                row.status, row.sent_at, row.result_ts, row.last_error = (
                    SENT,
                    self.clock(),
                    ts,
                    None,
                )
                if ref == "root" and ts:
                    s.execute(
                        update(SlackAlertMessage)
                        .where(SlackAlertMessage.incident_id == incident_id)
                        # The id Slack answers with: the setting may name the channel
                        # (#ops), but clicks on the alert report the id.
                        .values(
                            ts=ts, channel=sent_to or payload["channel"], posted_at=self.clock()
                        )
                    )
            elif outcome == _Outcome.FAILED:
                row.status, row.last_error = FAILED, error
                log.warning("slack %s to %s failed for good: %s", method, channel, error)
            else:
                row.status, row.last_error = PENDING, error
                row.next_attempt_at = self.clock() + timedelta(seconds=delay)
                log.info("slack %s to %s: %s; retry in %.0fs", method, channel, error, delay)
        return outcome

    def _wait_for_pace(self, channel: str) -> None:
        last = self._last_sent.get(channel)
        if last is None:
            return
        wait = (last + timedelta(seconds=self.pace) - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)

    def _backoff(self, attempts_hint: int) -> float:
        base = min(MAX_BACKOFF, 2.0 ** min(attempts_hint, 9))
        return base + (random.uniform(0, self.jitter) if self.jitter else 0.0)

    def _call(
        self, method: str, payload: dict[str, Any], attempts: int
    ) -> tuple[str, str | None, str, float, str | None]:
        """(outcome, ts, error, retry delay in seconds, channel id Slack answered with)."""
        try:
            resp = self.client.api_call(method, json=payload)
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error") or f"http_{status}")
            if status == 429 or error in ("ratelimited", "rate_limited"):
                delay = _retry_after(exc.response.headers) or self._backoff(attempts)
                self._pause(delay)
                return _Outcome.RETRY, None, f"{error} (retry after {delay:.0f}s)", delay, None
            if status >= 500 or error in RETRYABLE_ERRORS:
                return _Outcome.RETRY, None, error, self._backoff(attempts), None
            if error in AUTH_ERRORS:
                self._pause(AUTH_BACKOFF)
                return _Outcome.RETRY, None, error, AUTH_BACKOFF, None
            return _Outcome.FAILED, None, error, 0.0, None
        except (URLError, OSError, TimeoutError) as exc:
            delay = self._backoff(attempts)
            self._pause(delay)  # Slack unreachable: no point trying other channels now
            return _Outcome.RETRY, None, f"network: {exc}", delay, None
        ts = resp.get("ts") or resp.get("message_ts")
        channel = resp.get("channel")
        return _Outcome.SENT, ts, "", 0.0, channel if isinstance(channel, str) else None

    def _pause(self, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until


def _retry_after(headers: Any) -> float | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None
