"""site_wide_cause: power faults on several chargers of one site at once point to the supply."""

from __future__ import annotations

from collections import Counter

from bot.triage.rules.base import KEEP_RULES, FaultContext, Verdict
from bot.vocab import Category, Owner, Severity

POWER_CATEGORIES = frozenset({Category.POWER_LOSS, Category.UNDER_VOLTAGE, Category.OVER_VOLTAGE})
# Which cause names the event when members disagree: a dying gasp means the power went.
_PRECEDENCE = (Category.POWER_LOSS, Category.UNDER_VOLTAGE, Category.OVER_VOLTAGE)


def port_label(charger: str, port: int) -> str:
    return f"{charger}/{port}"


def site_wide_cause(ctx: FaultContext) -> Verdict | None:
    if ctx.category not in POWER_CATEGORIES:
        return None
    cfg, say = ctx.cfg, ctx.say
    window = cfg.site_window_s
    members = [
        r
        for r in ctx.site_faults
        if r.category in POWER_CATEGORIES
        and abs((ctx.ts - r.ts).total_seconds()) <= window
        and r.fingerprint != ctx.message.fingerprint
    ]
    chargers = {r.charger for r in members} | {ctx.charger.charger}
    if len(chargers) < cfg.site_min_chargers:
        return None
    # Once the event exists, later members join its cause: one site incident, one owner.
    established = next((r.diagnosis for r in members if r.diagnosis.site_event), None)
    if established is not None:
        category, owner = established.category, established.owner
    else:
        counts = Counter(r.category for r in members)
        counts[ctx.category] += 1
        if counts[Category.POWER_LOSS]:
            category = Category.POWER_LOSS
        else:
            category = max(_PRECEDENCE, key=lambda c: (counts[c], -_PRECEDENCE.index(c)))
        owner = Owner.UTILITY if category is Category.POWER_LOSS else Owner.ELECTRICIAN
    times = [r.ts for r in members] + [ctx.ts]
    first, last = min(times), max(times)
    ports = sorted({port_label(r.charger, r.port) for r in members}
                   | {port_label(ctx.charger.charger, ctx.fault.port)})
    codes = sorted({r.diagnosis.category.value for r in members} | {ctx.category.value})
    # One key for the whole event: reuse the one earlier members already carry.
    key = established.site_event if established is not None else None
    if key is None:
        key = f"{ctx.site}:{category.value}:{first.isoformat()}"
    label = say.label("category", category=category.value)
    span = (last - first).total_seconds()
    site_line = say.evidence("site_ports", ports=ports, codes=[
        say.label("category", category=c) for c in codes], span=span, site=ctx.site)
    return Verdict(
        rule="site_wide_cause",
        category=category,
        severity=Severity.OUTAGE,
        owner=owner,
        summary=say.summary("site_wide_cause", label=label, site=ctx.site, ports=len(ports),
                            chargers=len(chargers), span=span),
        action=say.action("site_wide_cause", category=category.value),
        confidence=min(0.95, 0.75 + 0.05 * len(chargers)),
        evidence=[*ctx.evidence, site_line],
        site_event=key,
        backfill=[r for r in members if r.diagnosis.rule not in KEEP_RULES],
    )
