"""The general case: what the knowledge base says the code means (kb_match, standard_code)."""

from __future__ import annotations

from dataclasses import replace

from bot.triage.rules.base import FaultContext, Verdict
from bot.vocab import Category


def kb_match(ctx: FaultContext) -> Verdict | None:
    # A manual entry may know a code without it being a fault class (BTC STOPBUTTON_PRESSED:
    # the driver ended the session): its meaning still beats "unknown code".
    if ctx.entry is None or ctx.match.method in ("standard", "none"):
        return None
    return ctx.from_entry("kb_match")


def standard_code(ctx: FaultContext) -> Verdict | None:
    """Only the OCPP errorCode (or 2.x component/variable) is known."""
    e = ctx.entry
    if e is None or e.category is Category.UNKNOWN:
        return None
    v = ctx.from_entry("standard_code")
    f = ctx.fault
    if f.vendor_code:
        # The vendor said more than the standard code, and we could not read it.
        v = replace(v, confidence=min(v.confidence, 0.5))
    return v
