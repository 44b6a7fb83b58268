"""Modifiers run after the decisive rule: still_working, flapping, recurrence."""

from __future__ import annotations

from dataclasses import replace

from bot.ocpp.events import HEALTHY_STATUSES
from bot.triage.rules.base import FaultContext, Verdict, worse
from bot.triage.rules.safety import SAFETY_CATEGORIES
from bot.triage.rules.site_wide import POWER_CATEGORIES
from bot.vocab import Category, Owner, Severity

_NO_RECURRENCE = SAFETY_CATEGORIES | POWER_CATEGORIES | {Category.EMERGENCY_STOP, Category.UNKNOWN}
_NO_RECURRENCE_RULES = frozenset({"vehicle_following", "not_a_fault", "suspected_phantom"})


def still_working(ctx: FaultContext, v: Verdict) -> Verdict:
    """A 1.6 error code reported with a working status (e.g. Charging) is not an outage."""
    status = ctx.fault.status
    if status is None or status not in HEALTHY_STATUSES:
        return v
    severity = Severity.DEGRADED if v.severity is Severity.OUTAGE else v.severity
    return replace(v, severity=severity,
                   evidence=[*v.evidence, ctx.say.evidence("still_working", status=status)])


def flapping(ctx: FaultContext, v: Verdict) -> Verdict:
    if v.suppressed or not ctx.fault.faulted:
        return v
    cfg, say = ctx.cfg, ctx.say
    n = ctx.port_onsets_in_window
    if n < cfg.policy.flapping_min_cycles:
        return v
    minutes = round(cfg.policy.flapping_window_s / 60)
    return replace(
        v,
        flapping=True,
        rule="flapping",
        severity=worse(v.severity, Severity.DEGRADED),
        summary=say.summary("flapping", n=n, minutes=minutes, base=v.summary),
        action=say.action("flapping", base=v.action),
        evidence=[*v.evidence, say.evidence("flapping", n=n, minutes=minutes)],
    )


def recurrence(ctx: FaultContext, v: Verdict) -> Verdict:
    if (v.suppressed or v.flapping or v.category in _NO_RECURRENCE
            or v.rule in _NO_RECURRENCE_RULES or not ctx.onset):
        return v
    cfg, say = ctx.cfg, ctx.say
    earlier = [
        r.ts
        for r in ctx.port.faults_within(ctx.ts, cfg.policy.recurrence_window_s)
        if r.onset and r.category is v.category and not r.diagnosis.suppressed
        and r.fingerprint != ctx.message.fingerprint
    ]
    n = 1 + len(earlier)
    if n < cfg.policy.recurrence_min:
        return v
    if (ctx.ts - min(earlier)).total_seconds() < cfg.policy.recurrence_min_span_s:
        return v
    label = say.label("category", category=v.category.value)
    hours = round(cfg.policy.recurrence_window_s / 3600)
    e = ctx.entry
    return replace(
        v,
        rule="recurrence",
        owner=Owner.VENDOR_SERVICE,
        severity=worse(v.severity, Severity.DEGRADED),
        summary=say.summary("recurrence", label=label, n=n, hours=hours, base=v.summary),
        action=say.action("recurrence", label=label,
                          escalation=(e.escalation if e is not None and e.escalation else "")),
        confidence=max(v.confidence, 0.7),
        evidence=[*v.evidence, say.evidence("nth_fault", n=n, label=label, hours=hours)],
    )
