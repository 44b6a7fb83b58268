"""Re-notifying people when nobody acknowledges an alert (the paging policy's steps).

When an alert root is claimed, the AlertPublisher asks `plan()` to write one
`slack_escalations` row per re-notify step of the matching paging rule, in the same
transaction, due at (alert time + step.after) by the publisher's clock. `run_due(now)`
fires what is due: each row leaves `pending` only through a conditional UPDATE in the
transaction that queues its thread reply (with a dedupe key), so a restart, a replay
or a second worker can neither lose a page nor send it twice.

At firing time the incident decides: acknowledged, resolved or gone cancels the step;
snoozed moves it to the end of the snooze. An alert whose severity rises gets the new
rule's steps, and pages the new rule's people at once (the root edit does not notify).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.models import SlackAlertMessage, SlackEscalation
from bot.slack.outbox import enqueue
from bot.slack.paging import PagingPolicy, Target, duration_text
from bot.slack.render.page import render_page
from bot.store.base import table_of

log = logging.getLogger(__name__)

PENDING, SENT, CANCELLED = "pending", "sent", "cancelled"
TICK_S = 15.0  # how often `run_forever` looks for due steps
_BATCH = 500


class Escalator:
    def __init__(
        self,
        engine: Engine | None,
        settings: Settings,
        paging: PagingPolicy,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.paging = paging
        self.tz = settings.timezone
        self.clock = clock
        self.on_enqueued = on_enqueued

    def mention_for(self, incident: Incident) -> str:
        """Who the root message pages (markup from checked ids), or ""."""
        rule = self.paging.rule_for(incident.severity, incident.category, incident.owner)
        return rule.target.mention() if rule is not None and rule.target is not None else ""

    # -- planning (in the publisher's transaction) -------------------------------------
    def plan(
        self, session: Session, incident: Incident, now: datetime, *, escalated: bool = False
    ) -> None:
        rule = self.paging.rule_for(incident.severity, incident.category, incident.owner)
        if rule is None:
            return
        steps: list[tuple[str, timedelta, Target]] = [
            (f"{incident.severity}/{n}", step.after, step.target)
            for n, step in enumerate(rule.steps, start=1)
        ]
        if escalated and rule.target is not None:
            steps.insert(0, (f"{incident.severity}/0", timedelta(0), rule.target))
        for key, after, target in steps:
            insert_ignore(
                session,
                table_of(SlackEscalation),
                {
                    "incident_id": incident.id,
                    "step": key,
                    "due_at": now + after,
                    "mention": json.dumps(target.as_json()),
                    "status": PENDING,
                    "created_at": now,
                },
            )

    def cancel(self, session: Session, incident_id: int, why: str) -> None:
        """Acknowledged or resolved: the steps still pending will not page."""
        session.execute(
            update(SlackEscalation)
            .where(SlackEscalation.incident_id == incident_id, SlackEscalation.status == PENDING)
            .values(status=CANCELLED, note=why)
        )

    # -- firing ------------------------------------------------------------------------
    def run_due(self, now: datetime | None = None) -> int:
        """Fire every step due by `now`; returns how many pages were queued."""
        if self.engine is None:
            return 0
        now = now or self.clock()
        with Session(self.engine) as s:
            ids = s.scalars(
                select(SlackEscalation.id)
                .where(SlackEscalation.status == PENDING, SlackEscalation.due_at <= now)
                .order_by(SlackEscalation.due_at, SlackEscalation.id)
                .limit(_BATCH)
            ).all()
        fired = 0
        for row_id in ids:
            try:  # one transaction per step: one bad row affects only itself
                with Session(self.engine, expire_on_commit=False) as s, s.begin():
                    fired += self._fire(s, row_id, now)
            except Exception:
                log.exception("escalation %s could not be fired", row_id)
        if fired and self.on_enqueued is not None:
            self.on_enqueued()
        return fired

    def run_forever(self, stop: threading.Event, every: float = TICK_S) -> None:
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("escalation pass failed")
            stop.wait(every)

    def _fire(self, s: Session, row_id: int, now: datetime) -> int:
        row = s.get(SlackEscalation, row_id)
        if row is None or row.status != PENDING:
            return 0
        incident = s.get(Incident, row.incident_id)
        anchor = s.scalars(
            select(SlackAlertMessage).where(SlackAlertMessage.incident_id == row.incident_id)
        ).first()
        claim = update(SlackEscalation).where(
            SlackEscalation.id == row_id, SlackEscalation.status == PENDING
        )
        if incident is not None and anchor is not None and _snoozed(incident, now):
            s.execute(claim.values(due_at=incident.snoozed_until))  # page when it wakes
            return 0
        why = _why_not(incident, anchor)
        if why is not None:
            s.execute(claim.values(status=CANCELLED, note=why))
            return 0
        assert incident is not None and anchor is not None  # _why_not said so
        fired = s.execute(claim.values(status=SENT, fired_at=now))
        if fired.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
            return 0  # another worker fired it in between
        target = Target.from_json(json.loads(row.mention or "{}"))
        first = row.step.endswith("/0")
        after = duration_text(max(timedelta(0), row.due_at - row.created_at))
        enqueue(
            s,
            channel=anchor.channel,
            message=render_page(
                incident, self.tz, now, mention=target.mention(), after=after, first=first
            ),
            dedupe_key=f"page:{incident.id}:{row.step}"[:200],
            incident_id=incident.id,
            ref="reply",
            now=now,
        )
        log.info("paged %s for incident %s (%s)", target.name, incident.id, row.step)
        return 1


def _snoozed(incident: Incident, now: datetime) -> bool:
    return (
        incident.resolved_at is None
        and not incident.acked_by
        and incident.snoozed_until is not None
        and incident.snoozed_until > now
    )


def _why_not(incident: Incident | None, anchor: SlackAlertMessage | None) -> str | None:
    if incident is None or anchor is None:
        return "no alert"
    if incident.resolved_at is not None:
        return "resolved"
    if incident.acked_by:
        return "acknowledged"
    if incident.suppressed:
        return "suppressed"
    return None


def note_snoozer(session: Session, incident_id: int, user: str) -> None:
    """Remember who snoozed, for the root message (the incident keeps only until when)."""
    session.execute(
        update(SlackAlertMessage)
        .where(SlackAlertMessage.incident_id == incident_id)
        .values(snoozed_by=user[:64])
    )
