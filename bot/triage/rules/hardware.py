"""Single-part failures with a fixed first action: reset, meter and reader failures."""

from __future__ import annotations

from bot.triage.rules.base import FaultContext, Verdict
from bot.vocab import Category, Owner, Severity


def _is(ctx: FaultContext, code: str, category: Category) -> bool:
    return ctx.fault.query_code == code or ctx.category is category


def _verdict(ctx: FaultContext, rule: str, category: Category, severity: Severity,
             owner: Owner, extra: list[str]) -> Verdict:
    e = ctx.entry
    # A vendor entry says more than our generic sentence; the standard code's does not.
    summary = e.meaning if e is not None and e.vendor else ctx.say.summary(rule)
    confidence = ctx.match.confidence if e is not None else 0.6
    return Verdict(
        rule=rule,
        category=category,
        severity=severity,
        owner=owner,
        summary=summary,
        action=ctx.say.action(rule),
        confidence=max(confidence, 0.6),
        evidence=[*ctx.evidence, *extra],
    )


def reset_failure(ctx: FaultContext) -> Verdict | None:
    if not _is(ctx, "ResetFailure", Category.RESET_FAILURE):
        return None
    extra = []
    asked = ctx.charger.reset_requested_at
    if asked is not None and asked <= ctx.ts:
        extra.append(ctx.say.evidence("reset_requested", seconds=(ctx.ts - asked).total_seconds()))
    return _verdict(ctx, "reset_failure", Category.RESET_FAILURE, Severity.OUTAGE,
                    Owner.SITE_STAFF, extra)


def meter_failure(ctx: FaultContext) -> Verdict | None:
    if not _is(ctx, "PowerMeterFailure", Category.POWER_METER):
        return None
    extra = []
    session = ctx.port.session_at(ctx.ts, ctx.cfg.session_linger_s)
    if session is not None:
        extra.append(ctx.say.evidence("session_suspect", tx=session.transaction_id or "?"))
    # Charging may go on with a failed meter; only a Faulted port is an outage.
    severity = Severity.OUTAGE if ctx.fault.status == "Faulted" else Severity.DEGRADED
    return _verdict(ctx, "meter_failure", Category.POWER_METER, severity,
                    Owner.REMOTE_OPERATOR, extra)


def reader_failure(ctx: FaultContext) -> Verdict | None:
    if not _is(ctx, "ReaderFailure", Category.READER):
        return None
    return _verdict(ctx, "reader_failure", Category.READER, Severity.DEGRADED,
                    Owner.REMOTE_OPERATOR, [])
