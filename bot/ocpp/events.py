"""The normalized OCPP message model: the contract between feeds, store and triage.

Every feed (file replay, webhook, tap, broker) produces `Record`s; the parser turns a
Record into a `Message` (or a `LineError`). A Message keeps the raw frame verbatim and
carries at most one typed *fact* that the rest of faultbot reasons about. Nothing
downstream of `bot.ocpp` looks at raw payload dicts for the facts listed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.ocpp.reasons import DropReason, RejectReason

Direction = Literal["in", "out"]  # in = charger -> CSMS, out = CSMS -> charger

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# Not OCPP: a charger's connection opened or closed, as a log or feed saw it. Kept in
# the message log beside the frames (so it folds in order with them) as
# [0, id, "connected" | "closed", {"closeCode": n, "reason": text}].
CONNECTION = 0

OCPP_VERSIONS = ("1.6", "2.0.1", "2.1")

# The source of frames a feed rebuilds from a CSMS's own tables (SteVe's poller) instead
# of receiving them: their BootNotification says who a charger is, but is not a boot.
TABLE_SOURCE = "steve-db"


@dataclass(slots=True)
class Record:
    """One frame as a feed delivered it, before interpretation."""

    ts: datetime  # when the CSMS (or the feed) saw the frame; timezone-aware UTC
    charger: str
    direction: Direction
    frame: Any  # the decoded OCPP-J array (may still be malformed)
    ocpp: str | None = None  # declared version, None = infer it
    raw: str = ""  # verbatim text of the frame, kept in the message log
    source: str = ""  # where it came from, e.g. "sample.jsonl" or "webhook"
    line: int | None = None  # line number in the source, when there is one
    # Added by the readers: what they had to guess (no CSMS time, no zone, direction);
    # the parser copies these into Message.violations.
    notes: tuple[str, ...] = ()
    # The action of a CALLRESULT when the feed says it (e.g. a broker header), used when
    # the parser has not seen the CALL.
    action_hint: str | None = None


@dataclass(slots=True)
class LineError:
    """A line or delivery that could not be turned into a Message, and why."""

    source: str
    line: int | None
    reason: str  # short, human readable, no traceback (the detail; `kind` is the class)
    excerpt: str = ""  # the first few dozen characters, escaped/printable
    fault: bool = False  # the refused frame reported a fault (DESIGN invariant 3)
    kind: RejectReason = RejectReason.UNKNOWN_SHAPE  # every site names its own (reasons.py)


# --- facts ---------------------------------------------------------------------------


@dataclass(slots=True)
class BootInfo:
    """BootNotification (1.6 and 2.x): who the charger says it is."""

    vendor: str
    model: str
    serial: str | None = None
    firmware: str | None = None
    reason: str | None = None  # 2.x boot reason


@dataclass(slots=True)
class BootReply:
    """The CSMS's answer to a BootNotification."""

    status: str  # Accepted / Pending / Rejected
    interval: int | None = None  # heartbeat interval in seconds


# Statuses in which a port can charge (1.6 ChargePointStatus and 2.x ConnectorStatus).
# Unavailable is left out on purpose: the port cannot charge, whatever the reason.
HEALTHY_STATUSES = frozenset(
    {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Reserved",
        "Occupied",
    }
)


@dataclass(slots=True)
class StatusReport:
    """A connector (or whole-charger, connector 0) status report.

    1.6: status is a ChargePointStatus, error_code a ChargePointErrorCode (or the
    non-standard value the charger sent). 2.x: status is a ConnectorStatusEnumType
    and error_code is None. `faulted` is true for status Faulted; `fault_bearing`
    follows DESIGN contract 2 (1.6: Faulted or errorCode not NoError).
    """

    connector: int
    status: str
    error_code: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    evse: int | None = None  # 2.x evseId
    faulted: bool = False
    fault_bearing: bool = False
    # Why the port is unknown (e.g. 'connectorId "1" is not an integer'): the report is
    # then kept at the station level, connector 0. None when the frame named its port.
    port_problem: str | None = None


@dataclass(slots=True)
class ProblemEvent:
    """One 2.x NotifyEvent eventData entry that reports (or clears) a problem."""

    component: str
    variable: str
    actual_value: str
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool = False
    trigger: str | None = None
    event_id: int | None = None
    evse: int | None = None
    connector: int | None = None
    severity: int | None = None  # 2.1 only


@dataclass(slots=True)
class EventReport:
    """NotifyEvent: the problem entries it carries (non-problem entries are dropped)."""

    problems: list[ProblemEvent]


@dataclass(slots=True)
class SecurityEvent:
    type: str
    tech_info: str | None = None


@dataclass(slots=True)
class Heartbeat:
    pass


@dataclass(slots=True)
class TransactionUpdate:
    """Start/Stop/TransactionEvent/MeterValues folded into one shape.

    kind: "start", "update" or "stop". energy_wh is the register reading
    (Energy.Active.Import.Register) when the message carries one.
    """

    kind: Literal["start", "update", "stop"]
    connector: int | None = None
    transaction_id: str | None = None
    id_tag: str | None = None
    energy_wh: float | None = None
    power_w: float | None = None
    reason: str | None = None  # stop reason / 2.x triggerReason
    evse: int | None = None  # 2.x evse id (connector is the connector within it)
    soc: float | None = None  # the vehicle's state of charge in percent, when sampled
    charging_state: str | None = None  # 2.x transactionInfo.chargingState (Charging...)


@dataclass(slots=True)
class CallError:
    """A CALLERROR frame: a failed message exchange, not a faulted port."""

    code: str
    description: str
    for_action: str | None = None  # the action of the CALL it answers, when known


@dataclass(slots=True)
class ConnectionEvent:
    """A connection opened or closed; a close code when the log or feed gave one."""

    event: Literal["connected", "closed"]
    close_code: int | None = None
    reason: str | None = None


Fact = (
    BootInfo
    | BootReply
    | StatusReport
    | EventReport
    | SecurityEvent
    | Heartbeat
    | TransactionUpdate
    | CallError
    | ConnectionEvent
)


class _NoViolations(list[str]):
    """The one shared violations list of every message that has none.

    Most messages have none; one empty list each would be a container per message for
    the garbage collector to walk while a batch is held. It is read-only so sharing it
    is safe: adding to it raises (no code adds violations after parsing).
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a message without violations shares a read-only list; assign a new one")

    # Every mutator raises (the shared empty list must stay empty).
    append = extend = insert = __setitem__ = __iadd__ = __imul__ = _read_only  # type: ignore[assignment]  # see above


NO_VIOLATIONS: list[str] = _NoViolations()


@dataclass(slots=True)
class Message:
    """A parsed OCPP-J frame with its normalized fact (if any)."""

    ts: datetime  # CSMS-seen time (Record.ts), UTC aware
    occurred_at: datetime  # payload timestamp when sane, else ts; used for ordering
    charger: str
    direction: Direction
    message_type: int  # CALL / CALLRESULT / CALLERROR, or CONNECTION (not a frame)
    unique_id: str
    action: str | None  # CALL action; for results: the matched CALL's action if known
    payload: dict[str, Any]
    ocpp_version: str
    version_inferred: bool
    raw: str  # verbatim frame text; a compact dump only when a feed delivered no text
    fingerprint: str  # stable id for idempotent storage (charger, direction, frame)
    fact: Fact | None = None
    # schema/plausibility problems; messages without any share NO_VIOLATIONS (read-only)
    violations: list[str] = field(default_factory=list)
    source: str = ""
    line: int | None = None
    no_fact: DropReason | None = None  # why `fact` is None, when something was dropped

    @property
    def is_fault_bearing(self) -> bool:
        """DESIGN contract 2: messages that get a Diagnosis."""
        f = self.fact
        if f is None:  # most frames (heartbeats, replies): asked for each of them
            return False
        if isinstance(f, StatusReport):
            return f.fault_bearing
        if isinstance(f, EventReport):
            return any(not p.cleared for p in f.problems)
        return False
