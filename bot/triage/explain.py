"""Replay messages through a fresh engine: one final diagnosis per fault-bearing message.

Used by `faultbot explain` (no database). Later evidence may supersede a message's first
diagnosis (a boot fault that turned out phantom, a site-wide dip, a vehicle that
follows); the replay keeps the latest diagnosis of each message, in input order.
Exact duplicate frames (same fingerprint) are redeliveries, as in the store: skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.fold.clock import FeedClock
from bot.ocpp.events import Message
from bot.triage.diagnosis import Diagnosis
from bot.triage.engine import TriageEngine


@dataclass(slots=True)
class Replay:
    diagnoses: list[Diagnosis] = field(default_factory=list)  # one per fault-bearing message
    messages: int = 0
    duplicates: int = 0
    inferred: int = 0  # messages whose OCPP version was inferred
    superseded: int = 0  # first diagnoses replaced by later evidence
    timed: list[Diagnosis] = field(default_factory=list)  # tick() diagnoses (silent chargers)


def replay(messages: Iterable[Message], engine: TriageEngine, *,
           charger: str | None = None) -> Replay:
    out = Replay()
    slots: dict[str, int] = {}
    final: list[Diagnosis | None] = []
    owners: list[str] = []
    seen: set[str] = set()
    clock = FeedClock()  # the same clock and grid as the pipeline's fold
    for m in messages:
        if m.fingerprint in seen:
            out.duplicates += 1
            continue
        seen.add(m.fingerprint)
        out.messages += 1
        out.inferred += m.version_inferred
        due = clock.advance(m.ts)
        if due is not None:
            out.timed.extend(engine.tick(due))
        if m.is_fault_bearing:
            slots[m.fingerprint] = len(final)
            final.append(None)
            owners.append(m.charger)
        for d in engine.observe(m):
            i = slots.get(d.message_fingerprint)
            if i is None:
                continue
            if final[i] is not None:
                out.superseded += 1
            final[i] = d
    out.diagnoses = [d for d, who in zip(final, owners, strict=True)
                     if d is not None and (charger is None or who == charger)]
    if charger is not None:
        out.timed = [d for d in out.timed if d.charger == charger]
    return out
