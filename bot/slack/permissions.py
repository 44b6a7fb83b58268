"""Who may press what: the one permission policy every interactive action goes through.

Two questions are asked on the server for every click, whatever the client shows:

1. **Is this the alert's own message?** An action on an incident must come from the
   channel and message its alert root lives in (for a flapping port, the earlier root
   it reuses). Anything else (another channel, another message, an incident with no
   alert) is refused, and answers only ever go to the alert's channel and thread.
2. **May this person do it?** Per action, a role from settings (FAULTBOT_PERMISSIONS
   over safe defaults in bot/config.py): `nobody`, `admins`, `operators`
   (FAULTBOT_OPERATORS, and admins), or `channel` (members of the alert's channel, and
   operators and admins). Membership is asked of Slack (conversations.members, cached
   for a minute); when Slack cannot say, the answer is no.

Incident ids come from button values, which a forged request can set to anything:
only a real int (not a bool, not a string) in 1..2^31-1 is looked up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.slack.models import SlackAlertMessage

log = logging.getLogger(__name__)

MAX_INCIDENT_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
MEMBERS_TTL_S = 60.0


class Action(StrEnum):
    WHY = "why"
    ACK = "ack"
    SNOOZE = "snooze"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    REMOTE = "remote"
    TEACH = "teach"
    SHARE = "share"  # post an answer into the channel it was asked in


class Refusal(StrEnum):
    """Why an action was refused; each has a notice in templates/slack/answers.j2."""

    NOT_FOUND = "not_found"
    WRONG_PLACE = "wrong_place"
    NOT_ALLOWED = "not_allowed"


def incident_id_of(value: object) -> int | None:
    """A usable incident id from untrusted JSON, or None (then: "not found")."""
    if type(value) is not int:  # bool is an int subclass: `true` must not mean #1
        return None
    return value if 0 < value <= MAX_INCIDENT_ID else None


@dataclass(frozen=True, slots=True)
class AlertHome:
    """Where an incident's alert lives: the root message's channel and ts."""

    channel: str
    ts: str


def alert_home(session: Session, incident_id: int) -> AlertHome | None:
    """The root message an incident's buttons sit on (a flap reuses an earlier root)."""
    anchor = session.scalars(
        select(SlackAlertMessage).where(SlackAlertMessage.incident_id == incident_id)
    ).first()
    if anchor is None:
        return None
    if anchor.root_incident_id != anchor.incident_id:
        root = session.scalars(
            select(SlackAlertMessage).where(
                SlackAlertMessage.incident_id == anchor.root_incident_id
            )
        ).first()
        anchor = root or anchor
    if not anchor.ts:
        return None  # not posted yet: nobody can have pressed its buttons
    return AlertHome(anchor.channel, anchor.ts)


class ChannelMembers:
    """Who is in a channel, asked of Slack and cached briefly; None when unknown."""

    def __init__(
        self,
        client: Any,
        *,
        ttl: float = MEMBERS_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, channel: str) -> frozenset[str] | None:
        now = self.monotonic()
        with self._lock:
            hit = self._cache.get(channel)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        members: set[str] = set()
        cursor = None
        try:
            for _ in range(100):  # 100 pages of 1000: far beyond any alert channel
                resp = self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                members.update(str(m) for m in resp.get("members") or [])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except Exception as exc:  # no scope, channel gone, Slack down: fail closed
            log.warning("could not list the members of %s: %s", channel, exc)
            return None
        found = frozenset(members)
        with self._lock:
            self._cache[channel] = (now, found)
        return found


class Policy:
    """The permission decisions, from settings and a channel-membership lookup."""

    def __init__(
        self, settings: Settings, members: Callable[[str], frozenset[str] | None]
    ) -> None:
        self.settings = settings
        self.members = members

    def role(self, action: Action) -> str:
        return self.settings.permissions.get(action.value, "nobody")

    def is_admin(self, user: str | None) -> bool:
        return bool(user) and user in self.settings.admins

    def is_operator(self, user: str | None) -> bool:
        return self.is_admin(user) or (bool(user) and user in self.settings.operators)

    def allows(self, action: Action, user: str | None, channel: str | None = None) -> bool:
        """May `user` do `action` (on an alert in `channel`, for the channel role)?"""
        role = self.role(action)
        if not user or role == "nobody":
            return False
        if role == "admins":
            return self.is_admin(user)
        if self.is_operator(user):
            return True
        if role == "channel" and channel:
            members = self.members(channel)
            return members is not None and user in members
        return False

    def check_incident(
        self,
        session: Session,
        action: Action,
        raw_id: object,
        user: str | None,
        channel: str | None,
        message_ts: str | None,
    ) -> tuple[int | None, AlertHome | None, Refusal | None]:
        """(incident id, alert home, None) when allowed, else the refusal.

        Order matters for what a stranger can learn: an id that does not parse or has
        no alert is "not found", a real alert pressed from elsewhere is "wrong place",
        and only then is the person's role looked at.
        """
        incident_id = incident_id_of(raw_id)
        if incident_id is None:
            return None, None, Refusal.NOT_FOUND
        home = alert_home(session, incident_id)
        if home is None:
            return incident_id, None, Refusal.NOT_FOUND
        if channel != home.channel or message_ts != home.ts:
            return incident_id, home, Refusal.WRONG_PLACE
        if not self.allows(action, user, home.channel):
            return incident_id, home, Refusal.NOT_ALLOWED
        return incident_id, home, None
