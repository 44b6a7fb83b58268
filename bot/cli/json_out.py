"""The `--json` shapes of `why`, `site`, `status`, `log` and `kb stats` (README,
"JSON for scripts"). Times are ISO 8601 in UTC with a `Z`. A diagnosis is always the
contract-2 object exactly as `explain --json` prints it: the incident row keeps the
output of Diagnosis.to_json() for its latest diagnosis, and that is what is shown.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

from bot.ocpp.reasons import counts
from bot.text import CONTROL


def dumps(obj: Any) -> str:
    """One line of JSON. C1 controls and bidi overrides in charger text become JSON
    escapes: the same value for a JSON reader, inert on a terminal."""
    text = json.dumps(obj, ensure_ascii=False)
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# --- why / site ---------------------------------------------------------------------


def _diagnoses(session: Session | Connection, causes: list[Any]) -> dict[int, dict[str, Any]]:
    from sqlalchemy import select

    from bot.store.core_tables import core_table

    ids = {c.incident_id for c in causes}
    if not ids:
        return {}
    i = core_table("incidents").c
    rows = session.execute(select(i.id, i.diagnosis).where(i.id.in_(ids)))
    return {i: body for i, body in rows}


def _cause(c: Any, diagnoses: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "incident": {
            "id": c.incident_id,
            "scope": c.scope,
            "site": c.site,
            "charger": c.charger,
            "connector": c.connector,
            "opened_at": when(c.since),
            "resolved_at": when(c.resolved_at),
            "recovering_since": when(getattr(c, "recovering_since", None)),
            "occurrences": c.occurrences,
            "flapping": c.flapping,
            "acked_by": c.acked_by,
        },
        "diagnosis": diagnoses.get(c.incident_id),
    }


def _ignored(i: Any) -> dict[str, Any]:
    return {"ts": when(i.ts), "connector": i.connector, "category": i.category,
            "rule": i.rule, "summary": i.summary}


def why_json(session: Session | Connection, a: Any) -> dict[str, Any]:
    causes = [*a.charger_causes, *a.recent, *(p for port in a.ports for p in port.causes)]
    if a.silent is not None:
        causes.append(a.silent)
    d = _diagnoses(session, causes)
    return {
        "query": a.query,
        "now": when(a.now),
        "found": a.found,
        "charger": a.charger,
        "candidates": list(a.candidates),
        "suggestions": list(a.suggestions),
        "connector": a.connector,
        "site": a.site,
        "vendor": a.vendor,
        "model": a.model,
        "firmware": a.firmware,
        "last_seen": when(a.last_seen),
        "ports_down": a.ports_down if a.found else 0,
        "silent": _cause(a.silent, d) if a.silent is not None else None,
        "charger_causes": [_cause(c, d) for c in a.charger_causes],
        "ports": [
            {
                "connector": p.connector,
                "status": p.status,
                "status_since": when(p.status_since),
                "error_code": p.error_code,
                "vendor_error_code": p.vendor_error_code,
                "info": p.info,
                "down": p.down,
                "recovering": p.recovering,
                "causes": [_cause(c, d) for c in p.causes],
                "history": [{"ts": when(h.ts), "kind": h.kind, "status": h.status,
                             "category": h.category, "summary": h.summary} for h in p.history],
                "ignored": [_ignored(i) for i in p.ignored],
            }
            for p in a.ports
        ],
        "ignored": [_ignored(i) for i in a.ignored],
        "recent": [_cause(c, d) for c in a.recent],
    }


def site_json(session: Session | Connection, a: Any) -> dict[str, Any]:
    causes = [*a.site_causes, *(c for _, _, c in a.port_causes)]
    d = _diagnoses(session, causes)
    return {
        "query": a.query,
        "now": when(a.now),
        "found": a.found,
        "site": a.site,
        "candidates": list(a.candidates),
        "suggestions": list(a.suggestions),
        "address": a.address,
        "chargers": a.chargers,
        "ports_total": a.ports_total,
        "ports_down": [{"charger": ch, "connector": port, "status": status}
                       for ch, port, status in a.ports_down],
        "site_causes": [_cause(c, d) for c in a.site_causes],
        "port_causes": [{"charger": ch, "connector": port, **_cause(c, d)}
                        for ch, port, c in a.port_causes],
        "by_owner": dict(a.by_owner),
        "silent": list(a.silent),
        "ignored_today": a.ignored_today,
    }


# --- status / log -------------------------------------------------------------------


def status_json(scope: str | None, ids: set[str], ports: list[Any], chargers: dict[str, Any],
                sites: Any) -> dict[str, Any]:
    by_charger: dict[str, list[Any]] = {i: [] for i in sorted(ids)}
    for p in ports:
        by_charger.setdefault(p.charger_id, []).append(p)
    out = []
    for cid, rows in by_charger.items():
        ch = chargers.get(cid)
        out.append({
            "charger": cid,
            "site": sites.site_of(cid),
            "vendor": ch.vendor if ch is not None else None,
            "model": ch.model if ch is not None else None,
            "firmware": ch.firmware if ch is not None else None,
            "last_seen": when(ch.last_seen) if ch is not None else None,
            "ports": [
                {
                    "connector": p.connector_id,  # 0: the whole charger
                    "status": p.status,
                    "error_code": p.error_code,
                    "vendor_id": p.vendor_id,
                    "vendor_error_code": p.vendor_error_code,
                    "info": p.info,
                    "since": when(p.status_since),
                }
                for p in rows
            ],
        })
    return {"scope": scope, "chargers": out}


def log_json(m: Any) -> dict[str, Any]:
    """A contract-1 object (so the output can be ingested again) plus what faultbot read.
    A stored row that could not be decoded (bot.store.queries.UnreadableRow) has no
    frame: it says so under "unreadable", with the stored bytes in hex."""
    bad = getattr(m, "unreadable", None)
    if bad is not None:
        return {"ts": when(m.ts), "charger": m.charger, "occurred_at": when(m.occurred_at),
                "id": m.id, "unreadable": {"codec": bad.codec, "error": bad.error,
                                           "stored_hex": bad.stored.hex()}}
    try:
        frame = json.loads(m.raw)
    except ValueError:
        frame = m.raw
    return {
        "ts": when(m.ts),
        "charger": m.charger,
        "dir": m.direction,
        "ocpp": m.ocpp_version,
        "frame": frame,
        "occurred_at": when(m.occurred_at),
        "action": m.action,
        "message_type": m.message_type,
        "version_inferred": m.version_inferred,
        "violations": list(m.violations),
    }


# --- kb stats -----------------------------------------------------------------------


def kb_stats_json(kb: Any, per_vendor: dict[str, int], categories: dict[str, int],
                  missing: list[str]) -> dict[str, Any]:
    vendors = sorted(kb.vendors.values(), key=lambda v: v.name.casefold())
    lexicon = kb.lexicon
    return {
        "entries": len(kb.entries),
        "standard_entries": sum(1 for e in kb.entries if e.vendor is None),
        "vendors": [{"name": v.name, "entries": per_vendor.get(v.name, 0),
                     "code_format": str(getattr(v.code_format, "value", v.code_format)),
                     "scheme": v.scheme} for v in vendors],
        "categories": dict(sorted(categories.items())),
        "categories_missing": missing,
        "phrasing_blocks": len(kb.phrasings),
        "phrases": sum(len(b.phrases) for b in kb.phrasings),
        "quirks": len(kb.quirks),
        "lexicon": None if lexicon is None else {
            "families": len(lexicon.families), "abbreviations": len(lexicon.words)},
    }


def ingest_json(files: list[str], s: Any, t: Any, f: Any, context: Any,
                shown: list[Any]) -> dict[str, Any]:
    """`faultbot ingest --json`: the closing summary (the same figures as the text)."""
    return {
        "files": files,
        "frames": s.frames,
        "stored": s.stored,
        "duplicates": s.duplicates,
        "expired": s.expired,
        "chargers": len(s.chargers),
        "faults": {"read": f.read, "diagnosed": f.diagnosed, "suppressed": f.suppressed,
                   "rejected": f.rejected, "repeats": f.repeats, "undiagnosed": f.undiagnosed},
        "triage": {"diagnoses": len(t.diagnoses), "incidents_opened": t.count("opened"),
                   "incidents_resolved": t.count("resolved"),
                   "unknown_code_sightings": t.unknown_codes},
        "versions_inferred": s.inferred,
        "kept_with_warnings": s.violations,
        "context_lines": dict(sorted(context.counts.items())),
        "rejected": s.rejected_count,
        "rejected_by_reason": counts(s.rejected_reasons),  # bot.ocpp.reasons.RejectReason
        "no_fact_by_reason": counts(s.dropped),  # frames kept without a fact: DropReason
        "rejected_shown": [
            {"source": e.source, "line": e.line, "reason": e.reason, "excerpt": e.excerpt,
             "fault": e.fault, "kind": str(e.kind)}
            for e in shown
        ],
    }
