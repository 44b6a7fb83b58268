"""`site Depot North`: ports down, site-level causes, who must act."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.answers.model import SiteAnswer, cause_of
from bot.answers.resolve import resolve_site
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.vocab import Severity

_CHUNK = 500


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return 0


def site(session: Session, text_site: str, now: datetime | None = None, *,
         sites: Any = None) -> SiteAnswer:
    from bot.store.models import Connector
    from bot.store.queries import all_charger_ids
    from bot.store.sites import SiteMap

    now = now or datetime.now(UTC)
    sites = sites if sites is not None else SiteMap()
    answer = SiteAnswer(query=text_site, now=now)
    match = resolve_site(session, text_site, sites)
    if match.unique is None:
        answer.candidates = list(match.matches)
        answer.suggestions = list(match.near)
        return answer
    name = match.unique
    answer.site = name
    answer.address = sites.address_of(name)
    members = sites.chargers_in(name, all_charger_ids(session))
    answer.chargers = len(members)

    # Incidents active at `now` (so `--now` answers as of that moment).
    incidents: list[Incident] = list(session.scalars(
        select(Incident).where(
            Incident.site == name,
            Incident.suppressed.is_(False),
            Incident.opened_at <= now,
            or_(Incident.resolved_at.is_(None), Incident.resolved_at > now),
        )
    ))
    ignored = 0
    for i in range(0, len(members), _CHUNK):
        part = members[i : i + _CHUNK]
        status = {
            (c.charger_id, c.connector_id): c.status
            for c in session.scalars(select(Connector).where(Connector.charger_id.in_(part)))
            if c.connector_id != 0
        }
        status.update(_status_at(session, part, now))
        for (charger, conn), st in status.items():
            if conn == 0:
                continue
            answer.ports_total += 1
            if st in ("Faulted", "Unavailable"):
                answer.ports_down.append((charger, conn, st))
        ignored += session.scalar(
            select(func.count()).select_from(DiagnosisRow).where(
                DiagnosisRow.charger.in_(part),
                DiagnosisRow.suppressed.is_(True),
                DiagnosisRow.ts >= now - timedelta(hours=24),
                DiagnosisRow.ts <= now,
            )
        ) or 0
    answer.ignored_today = ignored
    answer.ports_down.sort()

    owners: Counter[str] = Counter()
    for inc in sorted(incidents, key=lambda x: (-_rank(x.severity), x.opened_at)):
        cause = cause_of(inc)
        owners[inc.owner] += 1
        if inc.scope == "site":
            answer.site_causes.append(cause)
        elif inc.category == "connectivity":
            answer.silent.append(inc.charger or "")
            answer.port_causes.append((inc.charger or "", None, cause))
        else:
            port = inc.connector if inc.scope == "port" else None
            answer.port_causes.append((inc.charger or "", port, cause))
    answer.by_owner = dict(owners.most_common())
    return answer


def _status_at(session: Session, chargers: list[str], now: datetime) -> dict[tuple[str, int], str]:
    """Each port's last reported status at or before `now` (from the status history)."""
    ps = PortStatus
    latest = (
        select(ps.charger, ps.connector, func.max(ps.ts).label("ts"))
        .where(ps.charger.in_(chargers), ps.ts <= now)
        .group_by(ps.charger, ps.connector)
        .subquery()
    )
    stmt = select(ps.charger, ps.connector, ps.status).join(
        latest,
        and_(ps.charger == latest.c.charger, ps.connector == latest.c.connector,
             ps.ts == latest.c.ts),
    )
    return {(c, n): st for c, n, st in session.execute(stmt)}
