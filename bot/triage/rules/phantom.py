"""phantom_boot_fault: models that report Faulted at boot and Available moments later.

Choice: the engine does not hold boot-window faults back. The Faulted gets its
diagnosis at once (rule `suspected_phantom`, advisory, when the model is known for it:
from a KB quirk of kind boot_fault_window, or learned after `phantom_learn_after` boots
of the model that showed the pattern). When the port reports a healthy status inside
the window, `phantom_verdict` builds a superseding, suppressed diagnosis for the same
message (rule `phantom_boot_fault`). A Faulted that is still Faulted after the window
keeps its first diagnosis. `explain` keeps the last diagnosis per message.
"""

from __future__ import annotations

from bot.triage.phrasing import Phrasebook
from bot.triage.rules.base import FaultContext, Verdict
from bot.triage.state import FaultRecord, ModelStats
from bot.vocab import Category, Owner, Severity

# The pattern is about unspecific boot-time faults, never a safety or e-stop report.
PHANTOM_CATEGORIES = frozenset({Category.INTERNAL_ERROR, Category.UNKNOWN})


def model_suspected(ctx: FaultContext) -> bool:
    if ctx.quirk("boot_fault_window") is not None:
        return True
    stats = ctx.model_stats
    return (
        stats is not None
        and stats.phantoms >= ctx.cfg.phantom_learn_after
        and ctx.category in PHANTOM_CATEGORIES
    )


def suspected_phantom(ctx: FaultContext) -> Verdict | None:
    if ctx.boot_age_s is None or not ctx.fault.faulted or not model_suspected(ctx):
        return None
    say = ctx.say
    e = ctx.entry
    stats = ctx.model_stats
    evidence = list(ctx.evidence)
    q = ctx.quirk("boot_fault_window")
    if q is not None:
        evidence.append(say.evidence("quirk", id=q.id, explanation=q.explanation))
    if stats is not None and stats.phantoms:
        evidence.append(say.evidence("model_pattern", model=ctx.charger.model or "?",
                                     phantoms=stats.phantoms, boots=stats.boots))
    return Verdict(
        rule="suspected_phantom",
        category=e.category if e else Category.UNKNOWN,
        severity=Severity.ADVISORY,
        owner=Owner.NONE,
        summary=say.summary("suspected_phantom", age=ctx.boot_age_s,
                            model=ctx.charger.model or ""),
        action=say.action("suspected_phantom", window=ctx.boot_window_s or 0,
                          base=e.action if e else ""),
        confidence=0.6,
        evidence=evidence,
    )


def phantom_verdict(rec: FaultRecord, *, age_s: float, recovered_after_s: float, status: str,
                    model: str | None, stats: ModelStats | None, quirk_text: str | None,
                    say: Phrasebook) -> Verdict:
    """The superseding, suppressed verdict once the port recovered inside the window."""
    evidence = list(rec.base_evidence)
    evidence.append(say.evidence("recovered", status=status, seconds=recovered_after_s))
    if quirk_text:
        evidence.append(quirk_text)
    if stats is not None and stats.phantoms:
        evidence.append(say.evidence("model_pattern", model=model or "?",
                                     phantoms=stats.phantoms, boots=stats.boots))
    return Verdict(
        rule="phantom_boot_fault",
        category=rec.category,
        severity=Severity.INFO,
        owner=Owner.NONE,
        summary=say.summary("phantom_boot_fault", age=age_s, recovered=recovered_after_s,
                            status=status, model=model or ""),
        action=say.action("phantom_boot_fault"),
        confidence=0.9 if quirk_text else min(0.9, 0.6 + 0.05 * (stats.phantoms if stats else 0)),
        evidence=evidence,
        suppressed=True,
    )
