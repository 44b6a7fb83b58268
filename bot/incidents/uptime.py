"""NEVI-style daily uptime per port and per site (23 CFR 680.116(b) applied to one day).

uptime % = (1440 - (outage_min - excluded_min)) / 1440 * 100

- outage: the port could not charge: its status (or its charger's connector 0) was
  Faulted or Unavailable, or its charger was silent (an open connectivity incident).
  A Faulted status whose diagnosis is suppressed (a phantom) or only degraded/advisory
  does not count: the port was in fact usable.
- excluded: outage time whose cause the rule excludes: utility power interruptions and
  site-wide grid events, faults caused by the vehicle, scheduled maintenance. Each
  excluded stretch is listed with its reason.

Everything comes from a handful of set-based queries (status history, incidents,
diagnoses); the per-port work is interval arithmetic in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.incidents.keys import is_silence
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.vocab import Category, Owner

DAY_MIN = 1440.0
Interval = tuple[datetime, datetime]
Port = tuple[str, int]

# Categories that, at site scope (several chargers at once), point to the supply.
_GRID_CATEGORIES = {Category.POWER_LOSS.value, Category.UNDER_VOLTAGE.value,
                    Category.OVER_VOLTAGE.value}
_COUNTS_AS_DOWN = {"safety", "outage"}
_CHUNK = 500


@dataclass(slots=True)
class Exclusion:
    start: datetime
    end: datetime
    reason: str  # "utility", "vehicle", "maintenance"
    incident_id: int | None = None

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass(slots=True)
class PortUptime:
    charger: str
    connector: int
    site: str
    day: date
    outage_min: float
    excluded_min: float
    exclusions: list[Exclusion] = field(default_factory=list)

    @property
    def uptime_pct(self) -> float:
        return (DAY_MIN - (self.outage_min - self.excluded_min)) / DAY_MIN * 100


@dataclass(slots=True)
class SiteUptime:
    site: str
    day: date
    ports: list[PortUptime]

    @property
    def outage_min(self) -> float:
        return sum(p.outage_min for p in self.ports)

    @property
    def excluded_min(self) -> float:
        return sum(p.excluded_min for p in self.ports)

    @property
    def uptime_pct(self) -> float:
        """The mean of the ports' figures (NEVI judges each port; this summarises)."""
        if not self.ports:
            return 100.0
        return sum(p.uptime_pct for p in self.ports) / len(self.ports)

    @property
    def ports_below_97(self) -> int:
        return sum(1 for p in self.ports if p.uptime_pct <= 97.0)


def day_window(day: date, tz: ZoneInfo) -> Interval:
    """[local midnight, next local midnight) as UTC instants (23 or 25 h on DST days)."""
    from datetime import UTC

    start = datetime.combine(day, datetime.min.time(), tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in a:
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def _minutes(intervals: Iterable[Interval]) -> float:
    return sum((e - s).total_seconds() for s, e in intervals) / 60


def exclusion_reason(inc: Incident) -> str | None:
    """Why an incident's outage time is excluded by the rule, or None."""
    if inc.suppressed:
        return None
    if inc.scope == "site" and inc.category in _GRID_CATEGORIES:
        return "utility"
    if inc.owner == Owner.UTILITY.value:
        return "utility"
    if inc.owner == Owner.VEHICLE_OEM.value or "vehicle" in (inc.rule or ""):
        return "vehicle"
    return None


def port_uptime(
    session: Session,
    day: date,
    tz: ZoneInfo,
    *,
    site_of: Callable[[str], str] | None = None,
    tz_of: Callable[[str], ZoneInfo | None] | None = None,
    now: datetime | None = None,
    chargers: Iterable[str] | None = None,
) -> list[PortUptime]:
    """Daily uptime of every port known by the end of `day` (or of `chargers`)."""
    site_of = site_of or (lambda c: c)
    windows: dict[str, Interval] = {}

    def window(site: str) -> Interval:
        if site not in windows:
            zone = (tz_of(site) if tz_of else None) or tz
            windows[site] = day_window(day, zone)
        return windows[site]

    lo, hi = day_window(day, tz)
    # Sites in other zones can start up to 14 h either side of the configured zone.
    qlo, qhi = lo - timedelta(hours=14), hi + timedelta(hours=14)
    if now is not None:
        qhi = min(qhi, max(now, qlo))
    only = sorted(set(chargers)) if chargers is not None else None

    statuses = _status_rows(session, qlo, qhi, only)
    incidents = _incidents(session, qlo, qhi, only)
    down_fps = [fp for rows in statuses.values() for _, _, up, fp in rows if not up]
    not_down = _harmless_faults(session, down_fps)

    ports: set[Port] = {p for p in statuses if p[1] > 0}
    by_charger: dict[str, list[Port]] = defaultdict(list)
    for p in ports:
        by_charger[p[0]].append(p)

    # Down intervals per port from its own status and from connector 0.
    down: dict[Port, list[Interval]] = defaultdict(list)
    for (charger, conn), rows in statuses.items():
        end_of_data = qhi if now is None else min(qhi, now)
        spans = _down_spans(rows, end_of_data, not_down)
        targets = by_charger.get(charger, []) if conn == 0 else [(charger, conn)]
        for t in targets:
            down[t].extend(spans)

    cover: dict[Port, list[tuple[Interval, str, int]]] = defaultdict(list)
    end_open = now or qhi
    for inc in incidents:
        span = (inc.opened_at, inc.resolved_at or end_open)
        reason = exclusion_reason(inc)
        if inc.scope == "site":
            targets = [(c, n) for c, n, *_ in inc.ports or []]
            targets = [t for c, n in targets for t in (by_charger[c] if n == 0 else [(c, n)])]
        elif inc.scope == "charger":
            targets = by_charger.get(inc.charger or "", [])
            if is_silence(inc.rule):
                for t in targets:  # silence is an outage whatever the statuses said
                    down[t].append(span)
        else:
            targets = [(inc.charger or "", inc.connector or 0)]
        if reason:
            for t in targets:
                cover[t].append((span, reason, inc.id))

    first_seen = {p: rows[0][0] for p, rows in statuses.items()}
    out: list[PortUptime] = []
    for port in sorted(ports):
        site = site_of(port[0])
        w = [window(site)]
        if first_seen[port] >= w[0][1]:
            continue  # not known yet on this day
        outage = _intersect(_merge(down.get(port, [])), w)
        excl: list[Exclusion] = []
        taken: list[Interval] = []
        for span, reason, inc_id in sorted(cover.get(port, []), key=lambda c: c[0]):
            part = _subtract(_intersect(outage, _intersect([span], w)), _merge(taken))
            for s, e in part:
                excl.append(Exclusion(s, e, reason, inc_id))
            taken.extend(part)
        out.append(
            PortUptime(
                charger=port[0],
                connector=port[1],
                site=site,
                day=day,
                outage_min=round(_minutes(outage), 2),
                excluded_min=round(_minutes(taken), 2),
                exclusions=excl,
            )
        )
    return out


def site_uptime(
    session: Session,
    day: date,
    tz: ZoneInfo,
    *,
    site_of: Callable[[str], str] | None = None,
    tz_of: Callable[[str], ZoneInfo | None] | None = None,
    now: datetime | None = None,
) -> list[SiteUptime]:
    by_site: dict[str, list[PortUptime]] = defaultdict(list)
    for p in port_uptime(session, day, tz, site_of=site_of, tz_of=tz_of, now=now):
        by_site[p.site].append(p)
    return [SiteUptime(site, day, ports) for site, ports in sorted(by_site.items())]


# --- queries ------------------------------------------------------------------------


def _down_spans(
    rows: list[tuple[datetime, str, bool, str]], end: datetime, not_down: set[str]
) -> list[Interval]:
    spans = []
    for i, (ts, _status, up, fp) in enumerate(rows):
        if up or fp in not_down:
            continue
        nxt = rows[i + 1][0] if i + 1 < len(rows) else end
        if nxt > ts:
            spans.append((ts, nxt))
    return spans


def _status_rows(
    session: Session, lo: datetime, hi: datetime, chargers: list[str] | None
) -> dict[Port, list[tuple[datetime, str, bool, str]]]:
    """Each port's status rows in [lo, hi) plus the last one before lo (its state at lo)."""
    ps = PortStatus
    latest = (
        select(ps.charger, ps.connector, func.max(ps.ts).label("ts"))
        .where(ps.ts < lo)
        .group_by(ps.charger, ps.connector)
    )
    if chargers is not None:
        latest = latest.where(ps.charger.in_(chargers))
    latest_sq = latest.subquery()
    before = select(ps.charger, ps.connector, ps.ts, ps.status, ps.up, ps.message_fingerprint)
    before = before.join(
        latest_sq,
        and_(ps.charger == latest_sq.c.charger, ps.connector == latest_sq.c.connector,
             ps.ts == latest_sq.c.ts),
    )
    during = select(
        ps.charger, ps.connector, ps.ts, ps.status, ps.up, ps.message_fingerprint
    ).where(ps.ts >= lo, ps.ts < hi)
    if chargers is not None:
        during = during.where(ps.charger.in_(chargers))
    out: dict[Port, list[tuple[datetime, str, bool, str]]] = defaultdict(list)
    for stmt in (before, during):
        for charger, conn, ts, status, up, fp in session.execute(stmt):
            out[(charger, conn)].append((max(ts, lo), status, up, fp))
    for rows in out.values():
        rows.sort(key=lambda r: r[0])
    return out


def _incidents(
    session: Session, lo: datetime, hi: datetime, chargers: list[str] | None
) -> list[Incident]:
    stmt = select(Incident).where(
        Incident.opened_at < hi,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > lo),
        Incident.suppressed.is_(False),
    )
    if chargers is not None:
        stmt = stmt.where(or_(Incident.charger.in_(chargers), Incident.scope == "site"))
    return list(session.scalars(stmt))


def _harmless_faults(session: Session, fingerprints: list[str]) -> set[str]:
    """Fingerprints of status reports whose latest diagnosis says the port could charge."""
    wanted = sorted(set(fingerprints))
    latest: dict[str, tuple[int, bool, str]] = {}
    for i in range(0, len(wanted), _CHUNK):
        stmt = select(
            DiagnosisRow.message_fingerprint,
            DiagnosisRow.id,
            DiagnosisRow.suppressed,
            DiagnosisRow.severity,
        ).where(DiagnosisRow.message_fingerprint.in_(wanted[i : i + _CHUNK]))
        for fp, row_id, suppressed, severity in session.execute(stmt):
            if fp not in latest or row_id > latest[fp][0]:
                latest[fp] = (row_id, suppressed, severity)
    return {fp for fp, (_, sup, sev) in latest.items() if sup or sev not in _COUNTS_AS_DOWN}
