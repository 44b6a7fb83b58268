"""What every reader shows of an incident: one view, built from the row in one place.

The digest (DigestLine), the answers (Cause) and the Slack alert threads (AlertView)
all start from these fields and add their own; they subclass `IncidentView` and build
with `from_incident`, so a field added to incidents is read the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:  # readers may pass a Core row of the table instead (`why`: no ORM)
    from bot.incidents.models import Incident


@dataclass(slots=True, kw_only=True)
class IncidentView:
    incident_id: int
    scope: str  # "port", "charger" or "site"
    site: str
    charger: str | None
    connector: int | None
    category: str
    severity: str
    owner: str
    summary: str
    action: str
    confidence: float
    since: datetime  # opened_at (UTC)
    resolved_at: datetime | None
    occurrences: int
    flapping: bool = False
    acked_by: str | None = None
    model: str | None = None
    ports: int = 1  # ports involved (site incidents cover several)

    @classmethod
    def from_incident(cls, inc: Incident, **extra: Any) -> Self:
        """The view of `inc`; `extra` fills the fields a subclass adds."""
        return cls(
            incident_id=inc.id,
            scope=inc.scope,
            site=inc.site,
            charger=inc.charger,
            connector=inc.connector,
            category=inc.category,
            severity=inc.severity,
            owner=inc.owner,
            summary=inc.summary,
            action=inc.action,
            confidence=float(inc.confidence or 0.0),
            since=inc.opened_at,
            resolved_at=inc.resolved_at,
            occurrences=inc.occurrences or 1,
            flapping=bool(inc.flapping),
            acked_by=inc.acked_by,
            model=inc.model,
            ports=len(inc.ports or []) if inc.scope == "site" else 1,
            **extra,
        )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def open_seconds(self, now: datetime) -> float:
        return open_seconds(self.since, self.resolved_at, now)


def open_seconds(opened_at: datetime, resolved_at: datetime | None, now: datetime) -> float:
    """How long an incident has been open (until `now`), or was open (until resolved)."""
    return max(0.0, ((resolved_at or now) - opened_at).total_seconds())


def evidence_of(inc: Incident, limit: int | None = None) -> list[str]:
    """The evidence lines of the incident's latest diagnosis (contract 2), as text."""
    body = inc.diagnosis if isinstance(inc.diagnosis, dict) else {}
    evidence = body.get("evidence")
    if not isinstance(evidence, list):
        return []
    return [str(e) for e in evidence[:limit]]
