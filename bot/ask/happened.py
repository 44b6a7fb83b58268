"""What happened to a charger (or a site) in a window: "CP-030 last night".

Incidents that were open at any moment of the window, and the fault reports the
triage made in it (acted on or ignored as phantoms), read with a few bounded queries
from the same stored rows the alerts and the digest use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.answers.model import Cause, cause_of
from bot.incidents.models import DiagnosisRow, Incident, PortStatus

MAX_INCIDENTS = 12
_CHUNK = 500


@dataclass(slots=True)
class Happened:
    name: str  # the charger or the site
    site: str | None
    start: datetime
    end: datetime
    word: str  # the time words as typed ("last night")
    connector: int | None = None
    incidents: list[tuple[Cause, str | None, int | None]] = field(default_factory=list)
    more: int = 0  # incidents beyond MAX_INCIDENTS
    faults: int = 0  # fault reports acted on in the window
    ignored: int = 0  # fault reports judged phantoms in the window
    categories: dict[str, int] = field(default_factory=dict)  # of the faults acted on
    went_down: int = 0  # times a port reported Faulted/Unavailable in the window

    @property
    def quiet(self) -> bool:
        return not (self.incidents or self.faults or self.ignored or self.went_down)


def _overlapping(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(
        Incident.suppressed.is_(False),
        Incident.opened_at <= end,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start),
    )


def charger_window(
    session: Session, charger: str, site: str | None, connector: int | None,
    start: datetime, end: datetime, word: str,
) -> Happened:
    out = Happened(charger, site, start, end, word, connector)
    scope = Incident.charger == charger
    if site:
        scope = or_(scope, and_(Incident.scope == "site", Incident.site == site))
    rows = list(session.scalars(select(Incident).where(_overlapping(start, end), scope)
                                .order_by(Incident.opened_at)))
    rows = [i for i in rows if i.scope != "site" or any(p[0] == charger for p in i.ports or [])]
    if connector is not None:
        rows = [i for i in rows if i.connector in (None, 0, connector) or i.scope == "site"]
    _take(out, rows)
    diag = [DiagnosisRow.charger == charger, DiagnosisRow.ts >= start, DiagnosisRow.ts <= end]
    status = [PortStatus.charger == charger, PortStatus.ts >= start, PortStatus.ts <= end,
              PortStatus.status.in_(("Faulted", "Unavailable"))]
    if connector is not None:
        diag.append(DiagnosisRow.connector.in_((connector, 0)))
        status.append(PortStatus.connector == connector)
    _count(session, out, diag, status)
    return out


def site_window(
    session: Session, site: str, chargers: list[str], start: datetime, end: datetime, word: str
) -> Happened:
    out = Happened(site, site, start, end, word)
    rows = list(session.scalars(select(Incident).where(_overlapping(start, end),
                                                       Incident.site == site)
                                .order_by(Incident.opened_at)))
    _take(out, rows)
    for i in range(0, len(chargers), _CHUNK):
        part = chargers[i:i + _CHUNK]
        _count(session, out,
               [DiagnosisRow.charger.in_(part), DiagnosisRow.ts >= start, DiagnosisRow.ts <= end],
               [PortStatus.charger.in_(part), PortStatus.ts >= start, PortStatus.ts <= end,
                PortStatus.status.in_(("Faulted", "Unavailable"))])
    return out


def _take(out: Happened, rows: list[Incident]) -> None:
    out.incidents = [(cause_of(i), i.charger, i.connector) for i in rows[:MAX_INCIDENTS]]
    out.more = max(0, len(rows) - MAX_INCIDENTS)


def _count(
    session: Session, out: Happened, diag: list[ColumnElement[bool]],
    status: list[ColumnElement[bool]],
) -> None:
    # One row per fault report: its newest diagnosis decides acted-on or ignored.
    latest = (
        select(DiagnosisRow.message_fingerprint, func.max(DiagnosisRow.id).label("id"))
        .where(*diag)
        .group_by(DiagnosisRow.message_fingerprint)
        .subquery()
    )
    found = session.execute(
        select(DiagnosisRow.suppressed, DiagnosisRow.category, func.count())
        .join(latest, DiagnosisRow.id == latest.c.id)
        .group_by(DiagnosisRow.suppressed, DiagnosisRow.category)
    ).all()
    categories: Counter[str] = Counter(out.categories)
    for suppressed, category, n in found:
        if suppressed:
            out.ignored += n
        else:
            out.faults += n
            categories[category] += n
    out.categories = dict(categories.most_common())
    out.went_down += session.scalar(
        select(func.count()).select_from(PortStatus).where(*status)
    ) or 0
