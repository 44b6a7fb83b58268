"""vehicle_following: EV-comm / over-current faults that follow one idTag across chargers."""

from __future__ import annotations

from bot.triage.rules.base import KEEP_RULES, FaultContext, Verdict
from bot.vocab import Category, Owner, Severity

VEHICLE_CATEGORIES = frozenset({Category.EV_COMMUNICATION, Category.OVERCURRENT})


def vehicle_following(ctx: FaultContext) -> Verdict | None:
    if ctx.category not in VEHICLE_CATEGORIES or not ctx.id_tag:
        return None
    cfg, say = ctx.cfg, ctx.say
    members = [
        r
        for r in ctx.vehicle_faults
        if r.category in VEHICLE_CATEGORIES
        and abs((ctx.ts - r.ts).total_seconds()) <= cfg.vehicle_window_s
        and r.fingerprint != ctx.message.fingerprint
    ]
    others = {r.charger for r in members} - {ctx.charger.charger}
    if len(others) < cfg.vehicle_min_other_chargers:
        return None
    chargers = sorted(others | {ctx.charger.charger})
    label = say.label("category", category=ctx.category.value)
    days = max(1, round(cfg.vehicle_window_s / 86400))
    return Verdict(
        rule="vehicle_following",
        category=ctx.category,
        severity=Severity.ADVISORY,
        owner=Owner.VEHICLE_OEM,
        summary=say.summary("vehicle_following", label=label, id_tag=ctx.id_tag,
                            chargers=len(chargers)),
        action=say.action("vehicle_following", id_tag=ctx.id_tag),
        confidence=min(0.9, 0.75 + 0.05 * (len(others) - cfg.vehicle_min_other_chargers)),
        evidence=[*ctx.evidence, say.evidence("vehicle_chargers", id_tag=ctx.id_tag,
                                              label=label, chargers=chargers, days=days)],
        backfill=[r for r in members if r.diagnosis.rule not in KEEP_RULES],
    )
