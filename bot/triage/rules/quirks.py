"""Knowledge-base model quirks that reinterpret a fault: not_a_fault, degraded_not_down."""

from __future__ import annotations

from bot.triage.rules.base import FaultContext, Verdict
from bot.vocab import Category, Owner, Severity


def not_a_fault(ctx: FaultContext) -> Verdict | None:
    """A code the model sends for a setting or a state, not a failure (Zaptec 2048)."""
    q = ctx.quirk("not_a_fault")
    if q is None:
        return None
    say = ctx.say
    e = ctx.entry
    return Verdict(
        rule="not_a_fault",
        category=e.category if e else Category.CONFIGURATION,
        severity=Severity.INFO,
        owner=Owner.NONE,
        summary=say.summary("not_a_fault", explanation=q.explanation),
        action=say.action("not_a_fault", entry_action=e.action if e else ""),
        confidence=max(ctx.match.confidence, 0.8),
        evidence=[*ctx.evidence, say.evidence("quirk", id=q.id, explanation=q.explanation)],
        suppressed=True,
    )


def degraded_not_down(ctx: FaultContext) -> Verdict | None:
    """A Faulted that still charges at a reduced level (Alfen 210 safe mode on connector 0)."""
    q = ctx.quirk("degraded_not_down")
    if q is None:
        return None
    say = ctx.say
    evidence = [*ctx.evidence, say.evidence("quirk", id=q.id, explanation=q.explanation)]
    if ctx.entry is not None:
        return ctx.from_entry(
            "degraded_not_down", severity=Severity.DEGRADED, evidence=evidence, suppressed=False
        )
    return Verdict(
        rule="degraded_not_down",
        category=Category.UNKNOWN,
        severity=Severity.DEGRADED,
        owner=Owner.REMOTE_OPERATOR,
        summary=say.summary("degraded_not_down", explanation=q.explanation),
        action=say.action("degraded_not_down"),
        confidence=0.5,
        evidence=evidence,
    )
