"""In-memory history the rules read: per port, charger, model, site and vehicle (idTag).

Everything is bounded: deques with a maximum length, time windows pruned on use, and
LRU maps for chargers and vehicles, so a 10,000-charger fleet stays a few tens of MB.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.ocpp.events import ProblemEvent
from bot.triage.diagnosis import Diagnosis
from bot.triage.views import PortEvent, SessionInfo, set_slots_state, slots_state
from bot.vocab import Category

T = TypeVar("T")

class Capped(list[T]):
    """A list that keeps only its newest `limit` items (limits are small: tens)."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __reduce__(self) -> Any:
        # Pickled into the fold checkpoint: the limit and the items, without the
        # per-object (None, {"limit": n}) state the default would build.
        return (type(self), (self.limit,), None, iter(self))

    def append(self, item: T) -> None:
        super().append(item)
        if len(self) > self.limit:
            del self[0]

    def drop_before(self, start: datetime, key: Callable[[T], datetime]) -> None:
        """Drop the leading items older than `start` (items are roughly time-ordered)."""
        n = 0
        for item in self:
            if key(item) >= start:
                break
            n += 1
        if n:
            del self[:n]


@dataclass(slots=True)
class FaultRecord:
    """A fault-bearing message and its current (latest) diagnosis."""

    fingerprint: str
    ts: datetime
    charger: str
    port: int
    category: Category
    diagnosis: Diagnosis
    rules: set[str] = field(default_factory=set)  # rules that diagnosed it so far
    base_evidence: list[str] = field(default_factory=list)  # what the fault itself said
    onset: bool = True  # starts a fault episode (repeats of an open fault do not)
    id_tag: str | None = None
    boot_window_s: float | None = None  # set when it came within a boot window
    energy_at_fault: float | None = None
    faulted: bool = True  # a Faulted status (or an event), not only a non-NoError code
    v2_unexplained: bool = False  # 2.x Faulted diagnosed before its NotifyEvent arrived


@dataclass(slots=True)
class PortState:
    connector: int
    history_len: int
    faults_len: int
    ignored_len: int
    status: str | None = None
    status_at: datetime | None = None  # occurred_at of the report that set `status`
    status_since: datetime | None = None
    open_fault: FaultRecord | None = None
    flapping_since: datetime | None = None
    session: SessionInfo | None = None
    last_session: SessionInfo | None = None
    last_problem: tuple[datetime, ProblemEvent] | None = None  # 2.x: newest open problem
    # Capped lists, not deques: an empty deque costs ~600 bytes and most ports never fault.
    faults: Capped[FaultRecord] = field(init=False)
    onsets: Capped[datetime] = field(init=False)
    history: Capped[PortEvent] = field(init=False)
    ignored: Capped[Diagnosis] = field(init=False)

    __getstate__ = slots_state
    __setstate__ = set_slots_state

    def __post_init__(self) -> None:
        self.faults = Capped(self.faults_len)
        self.onsets = Capped(16)
        self.history = Capped(self.history_len)
        self.ignored = Capped(self.ignored_len)

    def session_at(self, ts: datetime, linger_s: float) -> SessionInfo | None:
        """The session on the port at `ts`: the running one, or one that just ended."""
        if self.session is not None:
            return self.session
        last = self.last_session
        if (last is not None and last.stopped_at is not None
                and (ts - last.stopped_at).total_seconds() <= linger_s):
            return last
        return None

    def faults_within(self, now: datetime, window_s: float) -> Iterator[FaultRecord]:
        start = now - timedelta(seconds=window_s)
        for rec in self.faults:
            if start <= rec.ts <= now:
                yield rec


@dataclass(slots=True)
class ChargerState:
    charger: str
    vendor_sent: str | None = None  # as the charger sent it
    vendor: str | None = None  # canonical (resolved by the knowledge base)
    model: str | None = None
    firmware: str | None = None
    boot_at: datetime | None = None
    interval_s: float | None = None
    last_in: datetime | None = None  # newest CSMS-seen time of an inbound frame
    silent: Diagnosis | None = None
    reset_requested_at: datetime | None = None
    site: str | None = None
    ports: dict[int, PortState] = field(default_factory=dict)
    tx_ports: dict[str, int] = field(default_factory=dict)  # transaction id -> port
    quirks_key: tuple[str | None, str | None, str | None] | None = None
    quirks: tuple[Any, ...] = ()
    boot_faults: list[FaultRecord] = field(default_factory=list)  # awaiting recovery

    __getstate__ = slots_state
    __setstate__ = set_slots_state


@dataclass(slots=True)
class ModelStats:
    boots: int = 0
    phantoms: int = 0  # boots followed by a Faulted that recovered within the window


class LRU(OrderedDict[Any, Any]):
    """An OrderedDict that forgets its least recently used keys beyond `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __reduce__(self) -> Any:
        # Pickled into the fold checkpoint: rebuild with the limit, then the items in order.
        return (type(self), (self.limit,), None, None, iter(self.items()))

    def touch(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


def prune(dq: deque[FaultRecord], now: datetime, window_s: float) -> None:
    """Drop records older than the window from the left of a time-ordered deque."""
    start = now - timedelta(seconds=window_s)
    while dq and dq[0].ts < start:
        dq.popleft()
