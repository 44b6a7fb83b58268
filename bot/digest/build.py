"""Build the daily Digest from the database (a few set-based queries)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from bot.digest.model import (
    SECTION_ORDER,
    VISIT_AFTER_MIN,
    Digest,
    DigestLine,
    DigestSection,
    ExclusionLine,
    FixRate,
    Headline,
    PhantomGroup,
    SiteFigure,
    UnknownCode,
)
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.incidents.uptime import PortUptime, day_window, port_uptime
from bot.incidents.view import open_seconds
from bot.vocab import Severity

_OWNER_SECTION = {
    "site_staff": "on_site",
    "vendor_service": "service",
    "electrician": "service",
    "utility": "service",
    "remote_operator": "remote",
    "driver": "remote",
    "vehicle_oem": "remote",
    "none": "remote",
}
_DOWN = {"safety", "outage"}
UNKNOWN_MODEL = ""  # rendered as "unknown model" by the templates


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return 0


def build_digest(
    session: Session,
    day: date,
    tz: ZoneInfo,
    sites: Any,
    now: datetime,
    *,
    unknown_limit: int = 10,
) -> Digest:
    """The digest for local `day` in `tz` (sites with their own zone use theirs)."""
    lo, hi = day_window(day, tz)
    site_of = sites.site_of if sites is not None else (lambda c: c)
    tz_of = getattr(sites, "timezone_of", None)

    today = port_uptime(session, day, tz, site_of=site_of, tz_of=tz_of, now=now)
    before = port_uptime(session, day - timedelta(days=1), tz, site_of=site_of, tz_of=tz_of,
                         now=now)
    incidents = _incidents(session, lo, hi)
    lines = [_line(inc, now) for inc in incidents]
    sections = _sections(lines)

    ports_down = _ports_down(incidents, today)
    headline = Headline(
        ports_total=len(today),
        ports_down_now=len(ports_down),
        uptime_pct=_mean(p.uptime_pct for p in today),
        previous_pct=_mean(p.uptime_pct for p in before),
        opened=sum(1 for i in incidents if lo <= i.opened_at < hi),
        resolved=sum(1 for i in incidents if i.resolved_at and lo <= i.resolved_at < hi),
        open_now=sum(1 for i in incidents if i.resolved_at is None),
        safety_open=sum(1 for i in incidents if i.resolved_at is None and i.severity == "safety"),
        suspect_sessions=_suspect_sessions(session, lo, hi),
    )
    return Digest(
        day=day,
        timezone=str(tz),
        generated_at=now,
        has_data=_has_data(session, lo, hi),
        headline=headline,
        sections=sections,
        phantoms=_phantoms(session, lo, hi),
        unknown_codes=_unknown_codes(session, unknown_limit),
        sites=_site_figures(today, before),
        regressions=_regressions(session, min(now, hi), site_of),
        fixes=_fixes(session, hi),
    )


def _fixes(session: Session, until: datetime, days: int = 30) -> list[FixRate]:
    """Remote actions judged in the 30 days up to the day's end, most tried first."""
    from bot.actions.stats import rates

    # A past day's digest counts only what was known by its end (same input, same digest).
    found = rates(session, since=until - timedelta(days=days), until=until)
    return [FixRate(r.model, r.category, r.kind, r.fixed, r.total) for r in found[:10]]


def _regressions(session: Session, until: datetime, site_of: Any) -> list[dict[str, Any]]:
    """Fault rates that rose with a firmware or a model (bot.findings), as of `until`."""
    from bot.findings.history import load_history
    from bot.findings.regressions import find_regressions

    return [r.to_json() for r in find_regressions(load_history(session, until, site_of))]


# --- incidents ----------------------------------------------------------------------


def _incidents(session: Session, lo: datetime, hi: datetime) -> list[Incident]:
    """Incidents of the day (overlapping it) and every incident still open."""
    stmt = select(Incident).where(
        Incident.suppressed.is_(False),
        or_(
            Incident.resolved_at.is_(None),
            (Incident.opened_at < hi) & (Incident.resolved_at >= lo),
        ),
    )
    return list(session.scalars(stmt))


def _line(inc: Incident, now: datetime) -> DigestLine:
    minutes = open_seconds(inc.opened_at, inc.resolved_at, now) / 60
    return DigestLine.from_incident(inc, duration_min=minutes)


def _sections(lines: list[DigestLine]) -> list[DigestSection]:
    grouped: dict[str, list[DigestLine]] = defaultdict(list)
    for line in lines:
        key = "recovered" if not line.is_open else _OWNER_SECTION.get(line.owner, "remote")
        if key == "remote" and _dark_too_long(line):
            key, line.visit_due = "on_site", True
        grouped[key].append(line)
    out = []
    for key in SECTION_ORDER:
        items = grouped.get(key, [])
        if key == "recovered":
            items.sort(key=lambda x: (-_rank(x.severity), -x.duration_min, x.incident_id))
        else:
            items.sort(key=lambda x: (-_rank(x.severity), x.since, x.incident_id))
        out.append(DigestSection(key, items))
    return out


def _dark_too_long(line: DigestLine) -> bool:
    """A silent charger still dark after VISIT_AFTER_MIN: remote steps did not bring it back."""
    return line.category == "connectivity" and line.duration_min >= VISIT_AFTER_MIN


def _ports_down(incidents: list[Incident], ports: list[PortUptime]) -> set[tuple[str, int]]:
    by_charger: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for p in ports:
        by_charger[p.charger].append((p.charger, p.connector))
    down: set[tuple[str, int]] = set()
    for inc in incidents:
        if inc.resolved_at is not None or inc.severity not in _DOWN:
            continue
        if inc.scope == "port":
            down.add((inc.charger or "", inc.connector or 0))
        elif inc.scope == "charger":
            down.update(by_charger.get(inc.charger or "", [(inc.charger or "", 0)]))
        else:
            for charger, conn, *_ in inc.ports or []:
                down.update(by_charger.get(charger, []) if conn == 0 else [(charger, conn)])
    return down


# --- uptime -------------------------------------------------------------------------


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def _site_figures(today: list[PortUptime], before: list[PortUptime]) -> list[SiteFigure]:
    by_site: dict[str, list[PortUptime]] = defaultdict(list)
    for p in today:
        by_site[p.site].append(p)
    prev: dict[str, list[float]] = defaultdict(list)
    for p in before:
        prev[p.site].append(p.uptime_pct)
    figures = []
    for site, ports in by_site.items():
        excl: dict[str, tuple[float, set[tuple[str, int]]]] = {}
        for p in ports:
            for e in p.exclusions:
                minutes, touched = excl.get(e.reason, (0.0, set()))
                touched.add((p.charger, p.connector))
                excl[e.reason] = (minutes + e.minutes, touched)
        figures.append(
            SiteFigure(
                site=site,
                ports=len(ports),
                uptime_pct=_mean(p.uptime_pct for p in ports) or 100.0,
                previous_pct=_mean(prev.get(site, [])),
                outage_min=round(sum(p.outage_min for p in ports), 1),
                excluded_min=round(sum(p.excluded_min for p in ports), 1),
                ports_below_97=sum(1 for p in ports if p.uptime_pct <= 97.0),
                exclusions=[
                    ExclusionLine(reason, round(minutes, 1), len(touched))
                    for reason, (minutes, touched) in sorted(excl.items())
                ],
            )
        )
    figures.sort(key=lambda f: (f.uptime_pct, f.site))  # worst first
    return figures


# --- side facts ---------------------------------------------------------------------


def _has_data(session: Session, lo: datetime, hi: datetime) -> bool:
    in_status = exists().where(PortStatus.ts >= lo, PortStatus.ts < hi)
    in_diag = exists().where(DiagnosisRow.ts >= lo, DiagnosisRow.ts < hi)
    if session.scalar(select(in_status)) or session.scalar(select(in_diag)):
        return True
    from bot.store.models import Charger

    seen = exists().where(Charger.last_seen >= lo, Charger.first_seen < hi)
    return bool(session.scalar(select(seen)))


def _phantoms(session: Session, lo: datetime, hi: datetime) -> list[PhantomGroup]:
    from bot.store.models import Charger

    model = func.coalesce(DiagnosisRow.model, Charger.model, UNKNOWN_MODEL)
    stmt = (
        select(
            model.label("model"),
            DiagnosisRow.rule,
            func.count(),
            func.count(func.distinct(DiagnosisRow.charger)),
            func.min(DiagnosisRow.id),
        )
        .outerjoin(Charger, Charger.id == DiagnosisRow.charger)
        .where(DiagnosisRow.suppressed.is_(True), DiagnosisRow.ts >= lo, DiagnosisRow.ts < hi)
        .group_by(model, DiagnosisRow.rule)
    )
    groups = list(session.execute(stmt))
    examples = {}
    if groups:
        ids = [g[4] for g in groups]
        for row_id, body in session.execute(
            select(DiagnosisRow.id, DiagnosisRow.body).where(DiagnosisRow.id.in_(ids))
        ):
            examples[row_id] = (body or {}).get("summary", "")
    out = [
        PhantomGroup(model=m or UNKNOWN_MODEL, rule=rule, count=n, chargers=c,
                     reason=examples.get(first, ""))
        for m, rule, n, c, first in groups
    ]
    out.sort(key=lambda g: (-g.count, g.model, g.rule))
    return out


def _suspect_sessions(session: Session, lo: datetime, hi: datetime) -> int:
    from bot.store.models import ChargingSession as CS

    stmt = select(func.count()).where(
        CS.energy_suspect.is_(True),
        or_(CS.started_at.is_(None), CS.started_at < hi),
        or_(CS.stopped_at.is_(None), CS.stopped_at >= lo),
    )
    return int(session.scalar(stmt) or 0)


def _unknown_codes(session: Session, limit: int) -> list[UnknownCode]:
    """Vendor codes the knowledge base does not know (the KB stage's runtime store)."""
    try:
        from bot.kb.runtime import RuntimeEntries
    except ImportError:
        return []
    runtime = RuntimeEntries(session.get_bind().engine)  # reads only: any connection will do
    out = []
    for u in runtime.unknown(limit):
        out.append(
            UnknownCode(
                vendor=getattr(u, "vendor", None),
                model=getattr(u, "model", None),
                code=str(getattr(u, "code", "")),
                info=getattr(u, "info", None),
                count=int(getattr(u, "count", 0) or getattr(u, "sightings", 0) or 0),
                chargers=int(getattr(u, "chargers", 0) or 0),
                last_seen=getattr(u, "last_seen", None),
            )
        )
    return out
