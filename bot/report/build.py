"""Build the WeeklyReport from the store: uptime per site and day, the week's incidents,
and the findings (regressions, connection health) over the same stored history."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.digest.model import UnknownCode
from bot.incidents.models import Incident
from bot.incidents.uptime import day_window, port_uptime
from bot.report.model import (
    CLEARED_WITHOUT_VISIT,
    SERVICE_VISIT,
    TREND_DAYS,
    WEEK_DAYS,
    CauseRow,
    ChronicPort,
    OwnerRow,
    SiteTrend,
    Visits,
    WeeklyReport,
)

_DOWN = {"safety", "outage"}
TOP_CAUSES = 8
TOP_CHRONIC = 5
TOP_UNKNOWN = 10


def build_report(session: Session, now: datetime, tz: ZoneInfo, sites: Any = None) -> WeeklyReport:
    """The report for the 7 local days ending with `now`'s, trend over 30."""
    site_of: Callable[[str], str] = sites.site_of if sites is not None else (lambda c: c)
    tz_of = getattr(sites, "timezone_of", None)
    last = now.astimezone(tz).date()
    days = tuple(last - timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1))
    week_lo = day_window(days[-WEEK_DAYS], tz)[0]
    incidents = _week_incidents(session, week_lo, now)
    return WeeklyReport(
        generated_at=now, timezone=str(tz), days=days,
        incidents=len(incidents),
        sites=_trends(session, days, tz, site_of, tz_of, now),
        causes=_causes(incidents, week_lo, now),
        owners=_owners(incidents, week_lo, now),
        chronic=_chronic(incidents, week_lo, now, site_of),
        visits=_visits(incidents),
        regressions=_regressions(session, now, site_of),
        connection=_connection(session, week_lo, now),
        **_unknown(session),
    )


def _trends(session: Session, days: tuple[date, ...], tz: ZoneInfo,
            site_of: Callable[[str], str], tz_of: Any, now: datetime) -> list[SiteTrend]:
    per_site: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    ports: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for day in days:
        if day_window(day, tz)[0] >= now:
            continue
        for p in port_uptime(session, day, tz, site_of=site_of, tz_of=tz_of, now=now):
            per_site[p.site][day].append(p.uptime_pct)
            ports[p.site].add((p.charger, p.connector))
    out = []
    for site in sorted(per_site):
        by_day = per_site[site]
        series = tuple(_mean(by_day[d]) if by_day.get(d) else None for d in days)
        week = [v for v in series[-WEEK_DAYS:] if v is not None]
        before = [v for v in series[-2 * WEEK_DAYS:-WEEK_DAYS] if v is not None]
        if not week:
            continue
        out.append(SiteTrend(site, len(ports[site]), series,
                             _mean(week), _mean(before) if before else None))
    out.sort(key=lambda s: (s.week_pct, s.site))  # worst first
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _week_incidents(session: Session, lo: datetime, now: datetime) -> list[Incident]:
    return list(session.scalars(
        select(Incident).where(Incident.suppressed.is_(False), Incident.opened_at >= lo,
                               Incident.opened_at < now)
        .order_by(Incident.opened_at, Incident.id)))


def _down_min(inc: Incident, lo: datetime, now: datetime) -> float:
    if inc.severity not in _DOWN:
        return 0.0
    start = max(_aware(inc.opened_at), lo)
    end = min(_aware(inc.resolved_at) if inc.resolved_at else now, now)
    return max(0.0, (end - start).total_seconds() / 60.0)


def _causes(incidents: list[Incident], lo: datetime, now: datetime) -> list[CauseRow]:
    rows: dict[tuple[str, str], list[float]] = defaultdict(list)
    for inc in incidents:
        rows[(inc.category, inc.owner)].append(_down_min(inc, lo, now))
    out = [CauseRow(cat, owner, len(mins), round(sum(mins), 1))
           for (cat, owner), mins in rows.items()]
    out.sort(key=lambda r: (-r.incidents, -r.downtime_min, r.category, r.owner))
    return out[:TOP_CAUSES]


def _owners(incidents: list[Incident], lo: datetime, now: datetime) -> list[OwnerRow]:
    rows: dict[str, list[float]] = defaultdict(list)
    for inc in incidents:
        rows[inc.owner].append(_down_min(inc, lo, now))
    out = [OwnerRow(owner, len(mins), round(sum(mins), 1)) for owner, mins in rows.items()]
    out.sort(key=lambda r: (-r.incidents, r.owner))
    return out


def _chronic(incidents: list[Incident], lo: datetime, now: datetime,
             site_of: Callable[[str], str]) -> list[ChronicPort]:
    """Ports (or whole chargers) with the most downtime and the most repeats."""
    down: dict[tuple[str, int], float] = defaultdict(float)
    count: Counter[tuple[str, int]] = Counter()
    cats: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for inc in incidents:
        if inc.scope == "site" or inc.charger is None:
            continue
        key = (inc.charger, inc.connector or 0)
        down[key] += _down_min(inc, lo, now)
        count[key] += 1
        cats[key][inc.category] += 1
    chronic = [k for k in count if count[k] >= 2 or down[k] >= 60.0]
    chronic.sort(key=lambda k: (-down[k], -count[k], k))
    return [ChronicPort(c, n, site_of(c), round(down[(c, n)], 1), count[(c, n)],
                        min(cats[(c, n)].items(), key=lambda kv: (-kv[1], kv[0]))[0])
            for c, n in chronic[:TOP_CHRONIC]]


def _visits(incidents: list[Incident]) -> Visits:
    cleared = recovered = service = 0
    for inc in incidents:
        if inc.owner in SERVICE_VISIT:
            service += 1
        elif inc.resolved_at is not None and inc.owner in CLEARED_WITHOUT_VISIT:
            cleared += 1
            recovered += inc.resolved_by == "recovered"
    return Visits(cleared, recovered, service)


def _regressions(session: Session, until: datetime, site_of: Any) -> list[dict[str, Any]]:
    from bot.findings.history import load_history
    from bot.findings.regressions import find_regressions

    return [r.to_json() for r in find_regressions(load_history(session, until, site_of))]


def _connection(session: Session, lo: datetime, until: datetime) -> list[dict[str, Any]]:
    from bot.findings.connection import stored_connection_issues

    return [f.to_json() for f in stored_connection_issues(session, lo, until)]


def _unknown(session: Session) -> dict[str, Any]:
    from bot.kb.runtime import RuntimeEntries

    rows = RuntimeEntries(session.get_bind().engine).unknown(1000)
    shown = [UnknownCode(vendor=u.vendor or None, model=u.model or None, code=u.code,
                         info=u.info, count=u.count, chargers=u.chargers,
                         last_seen=u.last_seen) for u in rows[:TOP_UNKNOWN]]
    return {"unknown_codes": shown, "unknown_total": len(rows)}


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
