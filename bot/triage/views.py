"""What the engine exposes besides diagnoses: port/charger views and side channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.triage.diagnosis import Diagnosis


# The fold checkpoint pickles tens of thousands of these. By default each one's state is a
# (None, {slot: value}) pair, and the pickler keeps every such temporary alive until the
# dump ends (its memo holds them): one flat tuple per object is a third of that memory.
def slots_state(obj: Any) -> tuple[Any, ...]:
    return tuple([getattr(obj, name) for name in obj.__slots__])


def set_slots_state(obj: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(obj.__slots__, state, strict=True):
        object.__setattr__(obj, name, value)


@dataclass(slots=True)
class PortEvent:
    """One line of a port's recent history (status changes, faults, sessions, boots)."""

    ts: datetime
    kind: str  # "status", "fault", "session_start", "session_stop", "boot", "recovered"
    status: str | None = None
    detail: str = ""  # error/vendor code, idTag, rule name: short and machine-ish

    __getstate__ = slots_state
    __setstate__ = set_slots_state


@dataclass(slots=True)
class SessionInfo:
    transaction_id: str | None
    id_tag: str | None
    started_at: datetime
    stopped_at: datetime | None = None
    first_wh: float | None = None
    last_wh: float | None = None
    last_meter_at: datetime | None = None
    # charging_without_energy: what the meter said since the energy last moved
    charging_state: str | None = None  # 2.x chargingState (1.6: the port status tells)
    soc: float | None = None  # newest state of charge the vehicle reported (percent)
    progress_at: datetime | None = None  # newest reading that showed energy flowing
    progress_wh: float | None = None  # the register at that reading
    rate_w: float | None = None  # delivery rate at that reading (power, or from the register)
    peak_w: float = 0.0  # the highest delivery rate of the session
    read_at: datetime | None = None  # newest energy or power reading
    flat_readings: int = 0  # readings since progress_at that showed nothing flowing
    flat_checked: bool = False  # this stall was judged already (once per stall)

    __getstate__ = slots_state
    __setstate__ = set_slots_state

    @property
    def energy_wh(self) -> float | None:
        if self.first_wh is None or self.last_wh is None:
            return None
        return self.last_wh - self.first_wh


@dataclass(slots=True)
class PortView:
    charger: str
    connector: int
    status: str | None
    status_since: datetime | None
    diagnosis: Diagnosis | None  # the current fault's latest diagnosis (None when healthy)
    history: list[PortEvent] = field(default_factory=list)  # oldest first
    ignored: list[Diagnosis] = field(default_factory=list)  # suppressed ones, with their why
    session: SessionInfo | None = None
    flapping: bool = False
    recent_faults: int = 0  # fault-bearing messages still in the port's window


@dataclass(slots=True)
class ChargerView:
    charger: str
    site: str
    vendor: str | None
    model: str | None
    firmware: str | None
    last_seen: datetime | None
    heartbeat_interval_s: float | None
    last_boot: datetime | None
    silent: Diagnosis | None  # the silent_charger diagnosis while it stays silent
    ports: list[PortView] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class SuspectSession:
    """A session whose energy reading is suspect (PowerMeterFailure during it)."""

    charger: str
    connector: int
    transaction_id: str | None
    id_tag: str | None
    since: datetime
    reason: str


@dataclass(slots=True, frozen=True)
class UnknownSighting:
    """A vendor code the knowledge base did not know, for bulk recording."""

    vendor: str | None
    model: str | None
    firmware: str | None
    code: str
    info: str | None
    seen_at: datetime
    charger: str = ""


@dataclass(slots=True, frozen=True)
class FlapInfo:
    charger: str
    connector: int
    since: datetime
    cycles: int  # Faulted onsets within the flapping window
