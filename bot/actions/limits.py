"""The limits every remote action passes, manual or automatic: one reset per port per
hour, and never a reset for a safety fault that has come back (resetting hides it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions.kinds import RESETS, Kind
from bot.actions.models import ATTEMPTED, RemoteAction
from bot.incidents.models import Incident

RESET_EVERY = timedelta(hours=1)
SAFETY_MEMORY = timedelta(days=1)  # an earlier safety fault this long ago still counts


def repeated_safety(session: Session, incident: Incident, now: datetime) -> bool:
    """A safety fault seen before on this port: more than once in this incident, or
    an earlier safety incident of the same category within a day."""
    if incident.severity != "safety":
        return False
    if incident.occurrences > 1 or incident.flaps > 0:
        return True
    earlier = session.scalar(
        select(func.count()).select_from(Incident).where(
            Incident.id != incident.id,
            Incident.charger == incident.charger,
            Incident.connector == incident.connector,
            Incident.category == incident.category,
            Incident.severity == "safety",
            Incident.opened_at >= now - SAFETY_MEMORY,
        )
    )
    return bool(earlier)


def recent_reset(session: Session, charger: str, connector: int, now: datetime) -> bool:
    """A reset of this port (manual or automatic, whatever it answered) in the last hour.
    A charger-wide reset (connector 0) counts for every port, and vice versa."""
    ports = [RemoteAction.connector.in_([connector, 0])] if connector else []
    found = session.scalar(
        select(func.count()).select_from(RemoteAction).where(
            RemoteAction.charger == charger,
            *ports,
            RemoteAction.kind.in_([k.value for k in RESETS]),
            RemoteAction.status.in_(ATTEMPTED),
            RemoteAction.requested_at > now - RESET_EVERY,
        )
    )
    return bool(found)


def refusal(session: Session, incident: Incident, kind: Kind, now: datetime) -> str | None:
    """Why `kind` may not be done for `incident` now (a reason code), or None."""
    if kind not in RESETS:
        return None
    if repeated_safety(session, incident, now):
        return "repeated_safety"
    if recent_reset(session, incident.charger or "", incident.connector or 0, now):
        return "rate_limited"
    return None
