"""estop_phrase: any spelling of a pressed emergency stop, as the matcher recognised it."""

from __future__ import annotations

from bot.triage.rules.base import FaultContext, Verdict, worse
from bot.vocab import Category, Owner, Severity


def estop_phrase(ctx: FaultContext) -> Verdict | None:
    # False friends (STOPBUTTON_PRESSED: the user ended the session) are vetoed by the
    # matcher's `not:` lists, so a category of emergency_stop here is a real e-stop.
    if ctx.category is not Category.EMERGENCY_STOP:
        return None
    e = ctx.entry
    assert e is not None
    return ctx.from_entry(
        "estop_phrase",
        owner=Owner.SITE_STAFF,
        severity=worse(e.severity, Severity.OUTAGE),
        suppressed=False,
    )
