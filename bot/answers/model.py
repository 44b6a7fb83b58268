"""Answers to "why is this charger down?" and "how is this site?", as plain data.

Built by bot.answers.why / bot.answers.site from the stored diagnoses, incidents and
status history (the same truth the digest and alerts use), rendered to text by
templates/answers/*.j2 and to Block Kit by the Slack stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.incidents.view import IncidentView, evidence_of


@dataclass(slots=True, kw_only=True)
class Cause(IncidentView):
    """The current explanation of a fault: a contract-2 diagnosis plus its incident.

    `resolved_at` is set for past incidents (WhyAnswer.recent).
    """

    rule: str
    evidence: list[str]
    updated_at: datetime
    recovering_since: datetime | None = None
    # How often each remote action fixed this category on this model (bot.actions.stats
    # Rate), most tried first: quoted next to the advice.
    fix_rates: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class HistoryItem:
    ts: datetime
    kind: str  # "status" or "fault" or "ignored"
    status: str | None = None
    category: str | None = None
    summary: str = ""


@dataclass(slots=True)
class Ignored:
    ts: datetime
    connector: int | None
    category: str
    rule: str
    summary: str  # why it was ignored, in the diagnosis' words


@dataclass(slots=True)
class PortAnswer:
    connector: int
    status: str | None
    status_since: datetime | None
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    causes: list[Cause] = field(default_factory=list)  # most urgent first
    history: list[HistoryItem] = field(default_factory=list)  # oldest first
    ignored: list[Ignored] = field(default_factory=list)

    @property
    def down(self) -> bool:
        return self.status in ("Faulted", "Unavailable") or any(
            c.severity in ("safety", "outage") and c.recovering_since is None
            for c in self.causes
        )

    @property
    def recovering(self) -> bool:
        """Back to a charging-capable status, its incident still in the recovery hold-down."""
        return not self.down and any(c.recovering_since is not None for c in self.causes)


@dataclass(slots=True)
class WhyAnswer:
    query: str
    now: datetime
    charger: str | None = None  # resolved id; None when ambiguous or unknown
    candidates: list[str] = field(default_factory=list)  # several chargers match
    suggestions: list[str] = field(default_factory=list)  # near misses: did you mean
    connector: int | None = None  # asked about one port
    site: str | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    last_seen: datetime | None = None
    silent: Cause | None = None  # the charger stopped talking
    charger_causes: list[Cause] = field(default_factory=list)  # charger- or site-wide
    ports: list[PortAnswer] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)  # charger-wide ignored faults
    recent: list[Cause] = field(default_factory=list)  # incidents over in the last days

    @property
    def found(self) -> bool:
        return self.charger is not None

    @property
    def ambiguous(self) -> bool:
        return self.charger is None and len(self.candidates) > 1

    @property
    def ports_down(self) -> int:
        return sum(1 for p in self.ports if p.down)

    @property
    def ports_recovering(self) -> int:
        return sum(1 for p in self.ports if p.recovering)


@dataclass(slots=True)
class SiteAnswer:
    query: str
    now: datetime
    site: str | None = None
    candidates: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    address: str | None = None
    chargers: int = 0
    ports_total: int = 0
    ports_down: list[tuple[str, int, str]] = field(default_factory=list)  # charger, port, status
    site_causes: list[Cause] = field(default_factory=list)  # site-level (power, grid)
    port_causes: list[tuple[str, int | None, Cause]] = field(default_factory=list)
    by_owner: dict[str, int] = field(default_factory=dict)  # owner -> open incidents
    silent: list[str] = field(default_factory=list)  # chargers not talking
    ignored_today: int = 0

    @property
    def found(self) -> bool:
        return self.site is not None

    @property
    def ambiguous(self) -> bool:
        return self.site is None and len(self.candidates) > 1


def cause_of(inc: Any) -> Cause:
    """A Cause from an incident: an Incident object, or a row of the incidents table."""
    return Cause.from_incident(
        inc,
        rule=inc.rule,
        evidence=evidence_of(inc, limit=8),
        updated_at=inc.updated_at,
        recovering_since=inc.recovering_since,
    )
