"""On-call alert threads (the Grafana OnCall pattern), fed by the Pipeline.

A new incident at or above FAULTBOT_ALERT_MIN_SEVERITY gets ONE root message in the
alert channel. The root is edited in place as the incident changes (at most one
pending edit per incident: later edits overwrite it). Only changes a human must see
become thread replies: escalated, cause changed, resolved (with duration),
acknowledged (by whom). Suppressed incidents never page. A port that flaps (resolves
and faults again within `flap_window`) reuses its earlier root. The anchor row
(`slack_alert_messages.incident_id` UNIQUE) is claimed in the pipeline's own
transaction, so a restart or a replayed change can never post a second root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.changes import IncidentChange
from bot.incidents.models import Incident
from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.escalations import Escalator
from bot.slack.escape import Mrkdwn
from bot.slack.models import PENDING, SlackAlertMessage, SlackOutbox
from bot.slack.outbox import enqueue
from bot.slack.paging import PagingPolicy, load_paging
from bot.slack.render.budget import SlackMessage, fit
from bot.slack.render.incident import render_alert_reply, render_alert_root
from bot.store.base import table_of
from bot.vocab import Severity

log = logging.getLogger(__name__)

REPLY_KINDS = frozenset({"escalated", "cause_changed", "resolved", "acknowledged", "reopened"})


def flap_key(incident: Incident) -> str:
    """The place a fault is on (not its cause: a flapping port may change its story)."""
    return f"{incident.scope}|{incident.site}|{incident.charger or ''}|{incident.connector or 0}"


def _severity_rank(value: str) -> int:
    try:
        return Severity(value).rank
    except ValueError:
        return -1


class AlertPublisher:
    """The Pipeline listener that turns incident changes into alert-thread outbox rows."""

    def __init__(
        self,
        engine: Engine | None,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        flap_window: timedelta = timedelta(hours=1),
        update_debounce: timedelta = timedelta(seconds=2),
        on_enqueued: Callable[[], None] | None = None,
        paging: PagingPolicy | None = None,
    ) -> None:
        """`paging`: the paging policy (default: FAULTBOT_PAGING, read on first use,
        which may raise PagingError); it says who is mentioned, re-notified, and where."""
        self.engine = engine
        self.settings = settings
        self.channel = settings.alert_channel
        self.min_rank = settings.alert_min_severity.rank
        self.tz = settings.timezone
        self.clock = clock
        self.flap_window = flap_window
        self.update_debounce = update_debounce
        self.on_enqueued = on_enqueued  # e.g. OutboxWorker.kick
        self._paging = paging

    @cached_property
    def paging(self) -> PagingPolicy:
        """Read on first use, so commands that never alert (`faultbot ask`) do not need
        the file; `faultbot run` reads it at start-up and stops on a bad one."""
        if self._paging is not None:
            return self._paging
        return load_paging(self.settings.paging_file)

    @cached_property
    def escalator(self) -> Escalator:
        return Escalator(
            self.engine, self.settings, self.paging, clock=self.clock,
            on_enqueued=self.on_enqueued,
        )

    def channel_for(self, incident: Incident) -> str | None:
        """The paging file's route for the incident's site or owner, else the alert channel."""
        return self.paging.channel_for(incident.site, incident.owner, self.channel)

    def _root(
        self,
        incident: Incident,
        anchor: SlackAlertMessage | None,
        now: datetime,
        *,
        flaps: int = 0,
    ) -> SlackMessage:
        return render_alert_root(
            incident,
            self.tz,
            now,
            flaps=flaps,
            page=Mrkdwn(self.escalator.mention_for(incident)),
            snoozed_by=anchor.snoozed_by if anchor is not None else None,
        )

    def qualifies(self, incident: Incident, now: datetime) -> bool:
        """Worth paging: serious enough, not suppressed, still open, not snoozed."""
        if incident.suppressed or incident.resolved_at is not None:
            return False
        if incident.snoozed_until is not None and incident.snoozed_until > now:
            return False
        return _severity_rank(incident.severity) >= self.min_rank

    def on_changes(self, session: Session, changes: Sequence[IncidentChange]) -> None:
        """Called by the Pipeline in its transaction; writes outbox rows only."""
        if not (self.channel or self.paging.routes) or not changes:
            return
        now = self.clock()
        ids = {c.incident_id for c in changes}
        incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
        anchors = {
            a.incident_id: a
            for a in session.scalars(
                select(SlackAlertMessage).where(SlackAlertMessage.incident_id.in_(ids))
            )
        }
        queued = False
        opened: set[int] = set()  # roots claimed in this batch page through the root itself
        # Root edits are collected and written once per root at the end: a batch with
        # many occurrences of one fault makes one chat.update, not one per frame.
        edits: dict[int, tuple[Incident, SlackAlertMessage, bool]] = {}
        for change in changes:
            incident = incidents.get(change.incident_id)
            if incident is None:
                continue
            anchor = anchors.get(incident.id)
            if anchor is None:
                if change.kind == "resolved" or not self.qualifies(incident, now):
                    continue
                anchor = self._open(session, incident, now)
                if anchor is not None:
                    anchors[incident.id] = anchor
                    opened.add(incident.id)
                    queued = True
                continue
            if change.kind == "opened":  # a replayed "opened" already has its root
                continue
            # People pressing buttons want to see the result at once; automatic edits
            # wait a little so a burst of occurrences becomes one chat.update.
            human = change.kind in ("acknowledged", "resolved", "snoozed", "reopened")
            previous = edits.get(anchor.root_incident_id)
            edits[anchor.root_incident_id] = (
                incident,
                anchor,
                human or bool(previous and previous[2]),
            )
            if change.kind in REPLY_KINDS:
                self._reply_for(session, incident, anchor, change, now)
            if incident.id not in opened:
                self._follow_paging(session, incident, change, now)
            queued = True
        if edits:
            self._edit_many(session, edits, now)
        if queued and self.on_enqueued is not None:
            self.on_enqueued()

    def _follow_paging(
        self, session: Session, incident: Incident, change: IncidentChange, now: datetime
    ) -> None:
        """Acknowledged or resolved: stop re-notifying. Severity rose: page the new
        severity's people now and plan its steps."""
        if change.kind in ("acknowledged", "resolved"):
            self.escalator.cancel(session, incident.id, change.kind)
        elif change.kind == "escalated" and self.qualifies(incident, now):
            self.escalator.plan(session, incident, now, escalated=True)

    # -- opening -------------------------------------------------------------------
    def _open(
        self, session: Session, incident: Incident, now: datetime
    ) -> SlackAlertMessage | None:
        key = flap_key(incident)
        earlier = self._recent_root(session, key, incident.id, now)
        root_id = earlier.root_incident_id if earlier is not None else incident.id
        channel = earlier.channel if earlier is not None else self.channel_for(incident)
        if channel is None:
            return None  # no route and no alert channel: nowhere to page
        inserted = insert_ignore(
            session,
            table_of(SlackAlertMessage),
            {
                "incident_id": incident.id,
                "root_incident_id": root_id,
                "channel": channel,
                "ts": earlier.ts if earlier is not None else None,
                "flap_key": key,
                "created_at": now,
            },
        )
        if not inserted:
            return None  # another worker or an earlier run already alerted it
        anchor = session.scalars(
            select(SlackAlertMessage).where(SlackAlertMessage.incident_id == incident.id)
        ).one()
        self.escalator.plan(session, incident, now)
        if earlier is None:
            enqueue(
                session,
                channel=anchor.channel,
                message=self._root(incident, anchor, now),
                dedupe_key=f"alert-root:{incident.id}",
                incident_id=incident.id,
                ref="root",
                now=now,
            )
            return anchor
        # A flap: same place, the earlier root comes back to life instead of a new one.
        flaps = self._flap_count(session, root_id)
        self._edit(session, incident, anchor, now, flaps=flaps)
        self._reply(session, incident, anchor, "reopened", now, f"reopened:{incident.id}")
        return anchor

    def _recent_root(
        self, session: Session, key: str, incident_id: int, now: datetime
    ) -> SlackAlertMessage | None:
        rows = session.execute(
            select(SlackAlertMessage, Incident.resolved_at)
            .join(Incident, Incident.id == SlackAlertMessage.incident_id)
            .where(SlackAlertMessage.flap_key == key, SlackAlertMessage.incident_id != incident_id)
            .order_by(SlackAlertMessage.id.desc())
            .limit(1)
        ).first()
        if rows is None:
            return None
        anchor, resolved_at = rows
        if resolved_at is None or now - resolved_at <= self.flap_window:
            return anchor
        return None

    def _flap_count(self, session: Session, root_id: int) -> int:
        ids = session.scalars(
            select(SlackAlertMessage.id).where(SlackAlertMessage.root_incident_id == root_id)
        ).all()
        return max(0, len(ids) - 1)

    # -- following -----------------------------------------------------------------
    def _reply_for(
        self,
        session: Session,
        incident: Incident,
        anchor: SlackAlertMessage,
        change: IncidentChange,
        now: datetime,
    ) -> None:
        # One reply per person acknowledging and one per resolution, however often a
        # button is clicked; escalations are distinct by time and detail.
        if change.kind == "acknowledged":
            key = f"acknowledged:{incident.acked_by}"
        elif change.kind == "resolved":  # a reopened incident may resolve again later
            at = incident.resolved_at
            key = f"resolved:{at.isoformat()}" if at is not None else "resolved"
        elif change.kind == "reopened":  # by a person; each reopening is news
            key = f"reopened-by:{change.detail}:{change.at.isoformat()}"
        else:
            key = f"{change.kind}:{change.at.isoformat()}:{change.detail}"
        self._reply(session, incident, anchor, change.kind, now, key, detail=change.detail)

    def _edit_many(
        self,
        session: Session,
        edits: dict[int, tuple[Incident, SlackAlertMessage, bool]],
        now: datetime,
    ) -> None:
        """One root edit per thread, with two queries for the whole batch."""
        roots = list(edits)
        flaps = dict(
            session.execute(
                select(SlackAlertMessage.root_incident_id, func.count())
                .where(SlackAlertMessage.root_incident_id.in_(roots))
                .group_by(SlackAlertMessage.root_incident_id)
            ).all()
        )
        keys = {f"alert-update:{r}": r for r in roots}
        pending = {
            row.coalesce_key: row
            for row in session.scalars(
                select(SlackOutbox).where(
                    SlackOutbox.coalesce_key.in_(list(keys)), SlackOutbox.status == PENDING
                )
            )
        }
        for root_id, (incident, anchor, human) in edits.items():
            message = self._root(
                incident, anchor, now, flaps=max(0, int(flaps.get(root_id, 1)) - 1)
            )
            not_before = now if human else now + self.update_debounce
            key = f"alert-update:{root_id}"
            row = pending.get(key)
            if row is not None:
                row.payload = fit(message).as_kwargs()
                if row.attempts == 0:
                    row.next_attempt_at = not_before
                continue
            session.add(
                SlackOutbox(
                    method="chat.update",
                    channel=anchor.channel,
                    payload=fit(message).as_kwargs(),
                    coalesce_key=key,
                    incident_id=incident.id,
                    ref="update",
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=not_before,
                    created_at=now,
                )
            )

    def _edit(
        self,
        session: Session,
        incident: Incident,
        anchor: SlackAlertMessage,
        now: datetime,
        *,
        flaps: int = 0,
    ) -> None:
        enqueue(
            session,
            channel=anchor.channel,
            method="chat.update",
            message=self._root(incident, anchor, now, flaps=flaps),
            coalesce_key=f"alert-update:{anchor.root_incident_id}",
            incident_id=incident.id,
            ref="update",
            now=now,
        )

    def _reply(
        self,
        session: Session,
        incident: Incident,
        anchor: SlackAlertMessage,
        kind: str,
        now: datetime,
        key: str,
        *,
        detail: str = "",
    ) -> None:
        who = incident.acked_by if kind == "acknowledged" else None
        if kind == "reopened" and detail:
            who = detail  # reopened by a person (a flap's automatic reopen has no detail)
        enqueue(
            session,
            channel=anchor.channel,
            message=render_alert_reply(kind, incident, self.tz, now, detail=detail, who=who),
            dedupe_key=f"alert-reply:{incident.id}:{key}"[:200],
            incident_id=incident.id,
            ref="reply",
            now=now,
        )
