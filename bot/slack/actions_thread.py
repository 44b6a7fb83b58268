"""Remote actions in the alert thread: the offer as ephemeral thread messages to each
person allowed to act (a channel message would show the buttons to everyone), the
result of every action, and later whether it fixed the fault. All through the outbox,
once each (dedupe keys), after the alert root is out (ref "reply")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.channels import Channels
from bot.actions.models import RemoteAction
from bot.actions.outcomes import DEFAULT_WINDOW, settle
from bot.actions.perform import offered_for
from bot.config import Settings
from bot.incidents.changes import IncidentChange
from bot.incidents.models import Incident
from bot.slack.actions_render import render_offer, render_outcome, render_result
from bot.slack.dbutil import utcnow
from bot.slack.models import SlackAlertMessage
from bot.slack.outbox import enqueue


def allowed_users(settings: Settings) -> list[str]:
    """The people the remote role names (the `channel` role still offers to operators
    only: a channel's members cannot be listed cheaply, and the server checks anyway)."""
    role = settings.permissions.get("remote", "nobody")
    if role == "nobody":
        return []
    people = set(settings.admins) if role == "admins" else settings.admins | settings.operators
    return sorted(people)


def thread_channel(session: Session, incident_id: int) -> str | None:
    anchor = session.scalars(
        select(SlackAlertMessage).where(SlackAlertMessage.incident_id == incident_id)
    ).first()
    return anchor.channel if anchor is not None else None


class ActionOffers:
    """A Pipeline listener (after the AlertPublisher): a new alert gets its offer, and
    each batch may settle whether an earlier action fixed its port."""

    def __init__(
        self,
        settings: Settings,
        channels: Callable[[], Channels],
        *,
        clock: Callable[[], datetime] = utcnow,
        window: Any = DEFAULT_WINDOW,
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.window = window

    def on_changes(self, session: Session, changes: Sequence[IncidentChange]) -> None:
        now = self.clock()
        for change in changes:
            if change.kind == "opened":
                self.offer(session, change.incident_id, now)
        post_outcomes(session, settle(session, now, self.window), self.settings, now)

    def offer(self, session: Session, incident_id: int, now: datetime) -> int:
        incident = session.get(Incident, incident_id)
        channel = thread_channel(session, incident_id)
        if incident is None or channel is None:
            return 0  # no alert thread (not serious enough, suppressed, no channel)
        kinds = [k.value for k in offered_for(incident)]
        if not kinds:
            return 0
        _, unavailable = self.channels().pick(incident.charger or "")
        message = render_offer(incident.id, incident.charger or "", incident.connector or 0,
                               incident.summary, kinds, unavailable)
        sent = 0
        for user in allowed_users(self.settings):
            sent += enqueue(
                session, channel=channel, method="chat.postEphemeral", message=message,
                extra={"user": user}, dedupe_key=f"action-offer:{incident.id}:{user}",
                incident_id=incident.id, ref="reply", now=now,
            )
        return sent


def post_result(session: Session, row: RemoteAction, settings: Settings, now: datetime) -> bool:
    """Who, what, when and the charger's answer, in the alert thread, once."""
    if row.incident_id is None or thread_channel(session, row.incident_id) is None:
        return False
    return enqueue(
        session, channel=thread_channel(session, row.incident_id) or "",
        message=render_result(row, settings.timezone),
        dedupe_key=f"action-result:{row.id}", incident_id=row.incident_id, ref="reply", now=now,
    )


def post_outcomes(
    session: Session, ids: Sequence[int], settings: Settings, now: datetime
) -> None:
    for action_id in ids:
        row = session.get(RemoteAction, action_id)
        if row is None or row.incident_id is None:
            continue
        channel = thread_channel(session, row.incident_id)
        if channel is None:
            continue
        enqueue(
            session, channel=channel, message=render_outcome(row, settings.timezone),
            dedupe_key=f"action-outcome:{row.id}", incident_id=row.incident_id, ref="reply",
            now=now,
        )
