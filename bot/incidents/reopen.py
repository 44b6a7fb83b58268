"""A person reopens a resolved incident from its alert ("it is not fixed after all").

The incident gets its open_key back, so the next batch's IncidentManager finds it open
again (and resolves it when the port recovers, as usual). The person who reopened it
is recorded as acknowledging it: they are on it, so nobody is re-paged. A slot holds
at most one open incident: when a newer incident is already open there, the old one
stays resolved and the caller says so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.incidents.changes import IncidentChange
from bot.incidents.keys import Slot
from bot.incidents.manager import IncidentNotFound
from bot.incidents.models import Incident


class SlotTaken(Exception):
    """A newer incident is open on the same port, charger or site."""


def reopen(session: Session, incident_id: int, user: str, now: datetime) -> IncidentChange | None:
    """Reopen a resolved incident; None when it is open already (a double click)."""
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise IncidentNotFound(f"no incident #{incident_id}")
    if inc.resolved_at is None:
        return None
    slot = Slot(inc.scope, inc.site, inc.charger, inc.connector)  # type: ignore[arg-type]  # the column holds a Scope
    taken = session.scalars(
        select(Incident.id).where(Incident.open_key.startswith(f"{slot.key}:", autoescape=True))
    ).first()
    if taken is not None:
        raise SlotTaken(f"incident #{taken} is open on {slot.key}")
    inc.open_key = slot.open_key(inc.category)
    inc.resolved_at = None
    inc.resolved_by = None
    inc.recovering_since = None
    inc.snoozed_until = None
    inc.acked_by, inc.acked_at = user, now
    inc.updated_at = max(inc.updated_at, now)
    return IncidentChange(inc.id, "reopened", now, user)

