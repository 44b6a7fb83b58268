"""What became of every fault report a command read (DESIGN invariant 3).

Each fault-bearing frame ends diagnosed (possibly suppressed, with the reason in the
diagnosis), rejected (with its line and reason), or is a repeat of a frame already
handled. `undiagnosed` counts anything else; it should always be 0, and the output
says so loudly when it is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.triage.diagnosis import Diagnosis


@dataclass(slots=True)
class FaultTally:
    read: int = 0
    diagnosed: int = 0
    suppressed: int = 0  # of the diagnosed
    rejected: int = 0
    repeats: int = 0
    undiagnosed: int = 0


def tally(
    fault_fingerprints: set[str], diagnoses: Iterable[Diagnosis], *, rejected: int, repeats: int
) -> FaultTally:
    """fault_fingerprints: the fault-bearing messages triage saw; diagnoses: what it said
    (the last diagnosis of a message is its final word)."""
    final: dict[str, Diagnosis] = {}
    for d in diagnoses:
        fp = d.message_fingerprint
        if fp in fault_fingerprints:
            final[fp] = d
    diagnosed = len(final)
    return FaultTally(
        read=len(fault_fingerprints) + rejected + repeats,
        diagnosed=diagnosed,
        suppressed=sum(1 for d in final.values() if d.suppressed),
        rejected=rejected,
        repeats=repeats,
        undiagnosed=len(fault_fingerprints) - diagnosed,
    )
