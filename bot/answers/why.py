"""`why CP-012`: the state of each port, the cause, what to do and who does it, since
when, what happened before and what the bot ignored.

Read from the stored incidents, diagnoses and status history with a handful of
indexed, bounded queries (no replay), so an answer costs milliseconds on a large fleet
and says exactly what the alerts and the digest say. The queries are SQLAlchemy Core on
bot.store.core_tables and run on a Connection or a Session alike, so `faultbot why`
never imports the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, and_, or_, select

from bot.answers.model import Cause, HistoryItem, Ignored, PortAnswer, WhyAnswer, cause_of
from bot.answers.resolve import resolve_charger
from bot.store.core_tables import core_table
from bot.vocab import Severity

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

HISTORY_DAYS = 7
HISTORY_ITEMS = 10  # per port
IGNORED_ITEMS = 5  # per port
RECENT_INCIDENTS = 5
_ROW_LIMIT = 200  # newest rows read per table; bounds the cost of a chatty charger


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return 0


def why(
    session: Session | Connection,
    text_charger: str,
    connector: int | None = None,
    now: datetime | None = None,
    *,
    sites: Any = None,
    triage: Any = None,
) -> WhyAnswer:
    """Answer "why" for a charger typed by a person (`cp12` finds `CP-012`).

    `triage` (optional): a live TriageEngine; when given, its view adds flapping and
    session facts the database does not hold.
    """
    now = now or datetime.now(UTC)
    answer = WhyAnswer(query=text_charger, now=now, connector=connector)
    match = resolve_charger(session, text_charger)
    if match.unique is None:
        answer.candidates = list(match.matches)
        answer.suggestions = list(match.near)
        return answer
    charger_id = match.unique
    answer.charger = charger_id
    site = sites.site_of(charger_id) if sites is not None else charger_id
    answer.site = site

    chargers = core_table("chargers")
    row = session.execute(
        select(chargers.c.vendor, chargers.c.model, chargers.c.firmware, chargers.c.last_seen)
        .where(chargers.c.id == charger_id)
    ).first()
    if row is not None:
        answer.vendor, answer.model, answer.firmware = row.vendor, row.model, row.firmware
        answer.last_seen = row.last_seen

    since = now - timedelta(days=HISTORY_DAYS)
    incidents, recent = _incidents(session, charger_id, site, now, since)
    answer.recent = [cause_of(i) for i in recent]
    ps = core_table("port_status").c
    statuses = session.execute(
        select(ps.connector, ps.ts, ps.status)
        .where(ps.charger == charger_id, ps.ts >= since, ps.ts <= now)
        .order_by(ps.ts.desc())
        .limit(_ROW_LIMIT)
    ).all()
    dg = core_table("diagnoses").c
    rows = session.execute(
        select(dg.message_fingerprint, dg.connector, dg.ts, dg.category, dg.suppressed,
               dg.rule, dg.body)
        .where(dg.charger == charger_id, dg.ts >= since, dg.ts <= now)
        .order_by(dg.ts.desc(), dg.id.desc())
        .limit(_ROW_LIMIT)
    ).all()
    diagnoses = _final_diagnoses(rows)

    history: dict[int, list[HistoryItem]] = defaultdict(list)
    ignored: dict[int, list[Ignored]] = defaultdict(list)
    status_at: dict[int, tuple[str, datetime]] = {}
    for conn, ts, status in reversed(statuses):  # oldest first
        status_at[conn] = (status, ts)
        if _relevant(status, history[conn]):
            history[conn].append(HistoryItem(ts, "status", status=status))
    for conn, ts, category, suppressed, rule, body in diagnoses:
        summary = str((body or {}).get("summary", ""))
        port = conn or 0
        if suppressed:
            ignored[port].append(Ignored(ts, conn, category, rule, summary))
            history[port].append(HistoryItem(ts, "ignored", category=category, summary=summary))
        else:
            history[port].append(HistoryItem(ts, "fault", category=category, summary=summary))

    by_port: dict[int, list[Cause]] = defaultdict(list)
    for inc in incidents:
        cause = cause_of(inc)
        cause.fix_rates = _fix_rates(session, answer.model, inc.category)
        if inc.scope == "port":
            by_port[inc.connector or 0].append(cause)
        elif inc.category == "connectivity":
            answer.silent = cause
        else:
            answer.charger_causes.append(cause)

    ports: dict[int, PortAnswer] = {}
    cn = core_table("connectors").c
    states = session.execute(
        select(cn.connector_id, cn.status, cn.status_since, cn.error_code,
               cn.vendor_error_code, cn.info)
        .where(cn.charger_id == charger_id)
        .order_by(cn.connector_id)
    )
    for c in states:
        if c.connector_id == 0:
            if c.status in ("Faulted", "Unavailable"):
                ports[0] = PortAnswer(0, c.status, c.status_since, c.error_code,
                                      c.vendor_error_code, c.info)
            continue
        ports[c.connector_id] = PortAnswer(c.connector_id, c.status, c.status_since,
                                           c.error_code, c.vendor_error_code, c.info)
    for conn in set(by_port) | set(history) | set(status_at):
        if conn not in ports and conn != 0:
            ports[conn] = PortAnswer(conn, None, None)
    for conn, (status, ts) in status_at.items():  # the status as of `now`
        port = ports.get(conn)
        if port is not None and port.status_since != ts:
            port.status, port.status_since = status, ts
            port.error_code = port.vendor_error_code = port.info = None
    for conn, port in ports.items():
        port.causes = sorted(by_port.get(conn, []), key=lambda c: (-_rank(c.severity), c.since))
        _recovery_as_of(port, now)
        port.history = sorted(history.get(conn, []), key=lambda h: h.ts)[-HISTORY_ITEMS:]
        port.ignored = ignored.get(conn, [])[:IGNORED_ITEMS]
    if 0 in ports and not ports[0].causes:
        ports[0].history = sorted(history.get(0, []), key=lambda h: h.ts)[-HISTORY_ITEMS:]
    answer.ignored = ignored.get(0, [])[:IGNORED_ITEMS]
    answer.charger_causes.sort(key=lambda c: (-_rank(c.severity), c.since))

    selected = sorted(ports.values(), key=lambda p: p.connector)
    if connector is not None:
        selected = [p for p in selected if p.connector in (connector, 0)]
    answer.ports = selected
    if triage is not None:
        _enrich(answer, triage)
    return answer


def _final_diagnoses(rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """One diagnosis per fault report: the newest row of a report supersedes the earlier
    ones (a suspected phantom later ignored is listed as ignored, not also as a fault)."""
    seen: set[str] = set()
    out: list[tuple[Any, ...]] = []
    for row in rows:  # newest first
        fingerprint = row[0]
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        out.append(tuple(row[1:]))
    return out


def _recovery_as_of(port: PortAnswer, now: datetime) -> None:
    """The stored incident row holds its latest recovery, which may lie after `now`: a port
    whose status as of `now` can charge again is recovering since that status, one still
    faulted is not recovering at all."""
    healthy = port.status is not None and port.status not in ("Faulted", "Unavailable")
    for c in port.causes:
        if healthy and (c.recovering_since is None or c.recovering_since > now):
            c.recovering_since = port.status_since
        elif not healthy and c.recovering_since is not None and c.recovering_since > now:
            c.recovering_since = None


def _incidents(
    session: Session | Connection, charger: str, site: str, now: datetime, since: datetime
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """(incidents open at `now`, incidents that ended in [since, now], newest first), as
    rows with the incident's columns."""
    table = core_table("incidents")
    i = table.c
    stmt = select(table).where(
        i.suppressed.is_(False),
        i.opened_at <= now,
        or_(i.resolved_at.is_(None), i.resolved_at >= since),
        or_(i.charger == charger, and_(i.scope == "site", i.site == site)),
    )
    active, recent = [], []
    for inc in session.execute(stmt):
        if inc.scope == "site" and not any(p[0] == charger for p in inc.ports or []):
            continue
        if inc.resolved_by == "merged":
            continue  # folded into another incident (a site-wide cause), shown there
        if inc.resolved_at is None or inc.resolved_at > now:
            active.append(inc)
        else:
            recent.append(inc)
    recent.sort(key=lambda i: i.resolved_at or now, reverse=True)
    return active, recent[:RECENT_INCIDENTS]


def _relevant(status: str, earlier: list[HistoryItem]) -> bool:
    """Statuses worth a line: not-charging states and the recovery after one; the
    Preparing/Charging/Finishing rhythm of ordinary sessions is left out."""
    if status in ("Faulted", "Unavailable"):
        return True
    last = next((h.status for h in reversed(earlier) if h.kind == "status"), None)
    return last in ("Faulted", "Unavailable") or last is None


def _enrich(answer: WhyAnswer, triage: Any) -> None:
    """Add what only the live engine knows: a port flapping right now."""
    for port in answer.ports:
        if answer.charger and triage.is_flapping(answer.charger, port.connector):
            for cause in port.causes:
                cause.flapping = True


def _fix_rates(session: Session | Connection, model: str | None, category: str) -> list[Any]:
    """What remote actions achieved on this model for this category (at most three)."""
    from bot.actions.stats import rates

    return rates(session, model=model or "", category=category)[:3]
