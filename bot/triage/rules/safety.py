"""safety_first / safety_repeat: ground/residual-current and isolation faults.

The generic step for a safety fault comes first (once: reset and watch; repeated: out of
service), then what the manufacturer's manual says for this exact code, and its
escalation: the manual's advice is added to, never replaced (Alfen 101: update the
firmware; if it follows one car, that car goes to its dealer).
"""

from __future__ import annotations

from bot.triage.rules.base import FaultContext, Verdict, worse
from bot.vocab import Category, Owner, Severity

SAFETY_CATEGORIES = frozenset({Category.GROUND_FAULT, Category.ISOLATION_FAULT})


def safety_rule(ctx: FaultContext) -> Verdict | None:
    cat = ctx.category
    if cat not in SAFETY_CATEGORIES:
        return None
    cfg, say = ctx.cfg, ctx.say
    earlier = sum(
        1
        for r in ctx.port.faults_within(ctx.ts, cfg.safety_repeat_window_s)
        if r.category in SAFETY_CATEGORIES and r.fingerprint != ctx.message.fingerprint
    )
    n = earlier + 1
    label = say.label("category", category=cat.value)
    hours = round(cfg.safety_repeat_window_s / 3600)
    evidence = [*ctx.evidence, say.evidence("nth_fault", n=n, label=label, hours=hours)]
    e = ctx.entry
    assert e is not None
    # A manufacturer's own advice follows the generic step; a standard or generic entry's
    # advice is the generic step already, so it is not said twice.
    advice = (
        {"advice": e.action, "escalation": e.escalation or "", "vendor": e.vendor}
        if e.vendor
        else {}
    )
    if n == 1:
        # Once, after rain or a transient, a remote reset is the right first step.
        return ctx.from_entry(
            "safety_first",
            severity=worse(e.severity if e.severity is not Severity.SAFETY else Severity.OUTAGE,
                           Severity.OUTAGE),
            owner=Owner.REMOTE_OPERATOR,
            action=say.action("safety_first", label=label, **advice),
            evidence=evidence,
            suppressed=False,
        )
    return ctx.from_entry(
        "safety_repeat",
        severity=Severity.SAFETY,
        owner=Owner.ELECTRICIAN,
        summary=say.summary("safety_repeat", label=label, n=n, hours=hours, meaning=e.meaning),
        action=say.action("safety_repeat", label=label, **advice),
        evidence=evidence,
        confidence=max(ctx.match.confidence, 0.85),
        suppressed=False,
    )
