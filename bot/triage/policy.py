"""When faults on a port count as flapping or recurring, and when a port has recovered.

One definition for both stages that ask: triage (which marks a diagnosis as flapping or
recurring) and incidents (which keeps one incident through flaps, escalates it, and
resolves it after the hold-down). The pipeline hands the same object to both, so the
two can never drift apart. All times are feed time (bot.fold.clock), never wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    # recovery: an incident resolves once its port stayed healthy this long
    hold_down_s: float = 600.0
    # flapping (triage): this many Faulted onsets on one port within the window
    flapping_min_cycles: int = 4
    flapping_window_s: float = 3600.0
    # flapping (incidents): faulted again inside the hold-down this many times
    flaps_to_escalate: int = 3
    # recurrence (triage): the same category on one port this many times in the window,
    # first to last at least the span (faster repeats are flapping, not recurrence)
    recurrence_min: int = 3
    recurrence_window_s: float = 72 * 3600.0
    recurrence_min_span_s: float = 6 * 3600.0
    # recurrence (incidents): an open incident escalates when its occurrences reach these
    escalate_at_occurrences: tuple[int, ...] = (3, 10, 30, 100)

    @property
    def hold_down(self) -> timedelta:
        return timedelta(seconds=self.hold_down_s)


DEFAULT_POLICY = FaultPolicy()
