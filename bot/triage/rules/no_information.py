"""Honest answers when the charger says nothing useful: no_information and unknown_code."""

from __future__ import annotations

from bot.triage.rules.base import FaultContext, Verdict, cap
from bot.vocab import Category, Owner, Severity

# Standard codes that carry no cause by themselves.
SILENT_CODES = frozenset({None, "NoError", "OtherError"})


def informative(text: str | None, uninformative: frozenset[str]) -> bool:
    said = text.strip() if text else ""
    return bool(said) and said.lower() not in uninformative


def _severity(ctx: FaultContext) -> Severity:
    return Severity.OUTAGE if ctx.fault.faulted else Severity.ADVISORY


def no_information(ctx: FaultContext) -> Verdict | None:
    f, cfg, say = ctx.fault, ctx.cfg, ctx.say
    if ctx.entry is not None and ctx.entry.category is not Category.UNKNOWN:
        return None
    if not f.v2 and f.query_code not in SILENT_CODES:
        return None
    blank = frozenset(cfg.uninformative_texts)
    if informative(f.vendor_code, blank) or informative(f.info, blank):
        return None
    said = [cap(t, cfg.evidence_text_cap) for t in (f.vendor_code, f.info) if t and t.strip()]
    evidence = [*ctx.evidence]
    evidence.append(say.evidence("says_nothing", said=said, error_code=f.query_code or ""))
    return Verdict(
        rule="no_information",
        category=Category.UNKNOWN,
        severity=_severity(ctx),
        owner=Owner.REMOTE_OPERATOR,
        summary=say.summary("no_information", said=said,
                            error_code=cap(f.error_code or f.query_code, 60)),
        action=say.action("no_information"),
        confidence=0.2,
        evidence=evidence,
    )


def unknown_code(ctx: FaultContext) -> Verdict:
    """The last rule: something was said, nothing known matched it. Never a guess."""
    f, say = ctx.fault, ctx.say
    code = cap(f.vendor_code or f.info or f.query_code or "", ctx.cfg.evidence_text_cap)
    vendor = ctx.match.vendor or ctx.charger.vendor or f.vendor_sent
    return Verdict(
        rule="unknown_code",
        category=Category.UNKNOWN,
        severity=_severity(ctx),
        owner=Owner.REMOTE_OPERATOR,
        summary=say.summary("unknown_code", code=code, vendor=cap(vendor, 60)),
        action=say.action("unknown_code", code=code, vendor=cap(vendor, 60)),
        confidence=min(ctx.match.confidence, 0.2) if ctx.match.confidence else 0.15,
        evidence=list(ctx.evidence),  # the matcher already says what it looked for
    )
