"""fault_while_charging: a Faulted port whose session's meter keeps rising is an advisory."""

from __future__ import annotations

from dataclasses import replace

from bot.triage.phrasing import Phrasebook
from bot.triage.rules.base import FaultContext, Verdict
from bot.triage.state import FaultRecord
from bot.vocab import Severity


def charging_quirk(ctx: FaultContext, v: Verdict) -> Verdict:
    """Modifier: a KB quirk says this model reports advisories as Faulted while charging."""
    if v.suppressed or v.severity is Severity.SAFETY:
        return v
    q = ctx.quirk("fault_while_charging_advisory")
    if q is None or ctx.port.session_at(ctx.ts, 0) is None:
        return v
    say = ctx.say
    return replace(
        v,
        rule="fault_while_charging",
        severity=Severity.ADVISORY,
        suppressed=True,
        summary=say.summary("fault_while_charging_quirk", base=v.summary),
        action=say.action("fault_while_charging", base=v.action),
        evidence=[*v.evidence, say.evidence("quirk", id=q.id, explanation=q.explanation)],
    )


def fault_while_charging(rec: FaultRecord, rise_wh: float, tx: str | None,
                         say: Phrasebook) -> Verdict:
    """Superseding verdict once the meter rose `rise_wh` while the port stayed Faulted."""
    d = rec.diagnosis
    return Verdict(
        rule="fault_while_charging",
        category=rec.category,
        severity=Severity.ADVISORY,
        owner=d.owner,
        summary=say.summary("fault_while_charging", wh=rise_wh, base=d.summary),
        action=say.action("fault_while_charging", base=d.action),
        confidence=max(0.7, min(d.confidence, 0.9)),
        evidence=[*rec.base_evidence, say.evidence("meter_rose", wh=rise_wh, tx=tx or "?")],
        suppressed=True,
    )
