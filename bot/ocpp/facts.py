"""Fact builders: one typed fact per OCPP message that triage reasons about.

Each builder takes the payload (and, for results, the payload of the CALL it
answers), appends what it had to work around to `violations`, and returns the fact,
or a `NoFact` naming its `DropReason` (bot.ocpp.reasons) when the fields the fact is
about are missing or of the wrong type. The
rule: a fact is built only from fields that identify *what* it is about (a
StatusNotification without an integer connectorId or a status string cannot be
placed on a port, so it gets no fact); optional or descriptive fields that are
unusable are dropped from the fact and the raw payload keeps them.

Vendor free text longer than TEXT_LIMIT is cut in the fact (raw keeps it all).
Odd Unicode is kept as sent (escaping is the display's job), except what no database
can store: a lone surrogate or NUL becomes U+FFFD in the fact, with a violation.

Port numbers must fit the store's 32-bit columns. A StatusNotification whose
connectorId (1.6) or evseId (2.x) is negative or too big for any real charger cannot
be placed anywhere and is refused (`Unusable`, which the parser turns into a rejected
line). One whose port is merely unusable (null, missing, "1", 1.5, true) is kept at
the station level (connector 0) with `port_problem` naming the fault in the frame, so
a Faulted report is still diagnosed. Out-of-range numbers in optional fields are
dropped from the fact with a violation.
"""

from __future__ import annotations

from typing import Any, Literal

from bot.ocpp.cleaning import storable, unstorable
from bot.ocpp.events import (
    BootInfo,
    BootReply,
    CallError,
    EventReport,
    Fact,
    Heartbeat,
    ProblemEvent,
    SecurityEvent,
    StatusReport,
    TransactionUpdate,
)
from bot.ocpp.reasons import DropReason, NoFact

TEXT_LIMIT = 500
MAX_PORT = 2**31 - 1  # the store's INTEGER columns; also far beyond any real charger

# One value per reason: builders return these instead of None (frozen, so shareable).
_NO = {r: NoFact(r) for r in DropReason}


class Unusable(ValueError):
    """The frame names something no store or rule can use (e.g. connectorId -1)."""

# NotifyEvent variables whose value says "something is wrong" (compared case-folded).
PROBLEM_VARIABLES = frozenset(
    {"problem", "tripped", "fault", "faulted", "error", "alarm", "failure", "malfunction"}
)
# actualValue texts that mean "no problem" for such a variable.
_NOT_A_PROBLEM = frozenset({"false", "0", "", "no", "off", "none", "ok", "normal", "cleared"})

_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_SOC = "SoC"
_SCALE = {"wh": 1.0, "kwh": 1000.0, "mwh": 1_000_000.0, "w": 1.0, "kw": 1000.0, "mw": 1e6}


def call_fact(
    version: str, action: str, payload: dict[str, Any], violations: list[str]
) -> Fact | NoFact:
    """The fact a CALL carries, if its action is one triage knows."""
    builder = _CALL_BUILDERS.get(action)
    if builder is None:
        return _NO[DropReason.UNTRACKED_ACTION]
    return builder(version, payload, violations)


# The actions whose CALLRESULT carries a fact (result_fact returns None for the rest).
RESULT_FACT_ACTIONS = frozenset({"BootNotification", "StartTransaction"})


def result_fact(
    action: str | None,
    payload: dict[str, Any],
    call_payload: dict[str, Any] | None,
    violations: list[str],
) -> Fact | NoFact:
    """The fact a CALLRESULT carries, given the action and payload of its CALL."""
    if action == "BootNotification":
        status = payload.get("status")
        if not isinstance(status, str):
            return _NO[DropReason.NO_BOOT_STATUS]
        interval = _small_int(payload.get("interval"), "interval", violations)
        return BootReply(status=_clean(status, "status", violations), interval=interval)
    if action == "StartTransaction":
        tx = payload.get("transactionId")
        if not _is_int(tx) and not isinstance(tx, str):
            return _NO[DropReason.NO_TRANSACTION_ID]
        call = call_payload or {}
        connector = call.get("connectorId")
        id_tag = call.get("idTag")
        return TransactionUpdate(
            kind="start",
            connector=_small_int(connector, "connectorId", violations),
            transaction_id=_clean(str(tx), "transactionId", violations),
            id_tag=_text(id_tag, "idTag", violations) if isinstance(id_tag, str) else None,
            energy_wh=_number(call.get("meterStart")),
        )
    return _NO[DropReason.UNTRACKED_ACTION]


def call_error_fact(frame: list[Any], for_action: str | None, violations: list[str]) -> CallError:
    code = frame[2] if len(frame) > 2 else None
    description = frame[3] if len(frame) > 3 else None
    if not isinstance(code, str):
        violations.append(f"CALLERROR code {code!r} is not text")
        code = str(code)
    if not isinstance(description, str):
        if description is not None:
            violations.append("CALLERROR description is not text")
        description = "" if description is None else str(description)
    return CallError(
        code=_cut(code, "errorCode", violations) or "",
        description=_cut(description, "errorDescription", violations) or "",
        for_action=for_action,
    )


# --- CALL builders ---------------------------------------------------------------------


def _boot(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    if version == "1.6":
        vendor, model = p.get("chargePointVendor"), p.get("chargePointModel")
        if not isinstance(vendor, str) or not isinstance(model, str):
            return _NO[DropReason.NO_IDENTITY]
        serial = p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber")
        return BootInfo(
            vendor=_cut(vendor, "chargePointVendor", v) or "",
            model=_cut(model, "chargePointModel", v) or "",
            serial=_text(serial, "chargePointSerialNumber", v),
            firmware=_text(p.get("firmwareVersion"), "firmwareVersion", v),
        )
    station = p.get("chargingStation")
    if not isinstance(station, dict):
        return _NO[DropReason.NO_IDENTITY]
    vendor, model = station.get("vendorName"), station.get("model")
    if not isinstance(vendor, str) or not isinstance(model, str):
        return _NO[DropReason.NO_IDENTITY]
    return BootInfo(
        vendor=_cut(vendor, "vendorName", v) or "",
        model=_cut(model, "model", v) or "",
        serial=_text(station.get("serialNumber"), "serialNumber", v),
        firmware=_text(station.get("firmwareVersion"), "firmwareVersion", v),
        reason=_text(p.get("reason"), "reason", v),
    )


def _status(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    if version == "1.6":
        status = p.get("status")
        if not isinstance(status, str):
            # no status: nothing to say about the port (the violation says why)
            return _NO[DropReason.NO_STATUS]
        connector, problem = _port_field(p, "connectorId", v)
        error_code = p.get("errorCode")  # missing/garbled: the schema violation says so
        error_code = _clean(error_code, "errorCode", v) if isinstance(error_code, str) else None
        status = _clean(status, "status", v)
        faulted = status == "Faulted"
        return StatusReport(
            connector=connector,
            status=status,
            error_code=error_code,
            vendor_id=_text(p.get("vendorId"), "vendorId", v),
            vendor_error_code=_text(p.get("vendorErrorCode"), "vendorErrorCode", v),
            info=_text(p.get("info"), "info", v),
            faulted=faulted,
            fault_bearing=faulted or (error_code is not None and error_code != "NoError"),
            port_problem=problem,
        )
    status = p.get("connectorStatus")
    if not isinstance(status, str):
        return _NO[DropReason.NO_STATUS]
    status = _clean(status, "connectorStatus", v)
    port, problem = _port_field(p, "evseId", v)
    evse: int | None = port
    sent: Any = p.get("connectorId")
    usable = _is_int(sent) and 0 <= sent <= MAX_PORT
    connector_id: int = sent if usable and problem is None else 0
    if problem is not None:
        evse = None  # station level, like 1.6 connector 0
    elif not usable:
        v.append(f"connectorId {_show(sent)} is not a usable connector number; ignored")
    faulted = status == "Faulted"
    return StatusReport(
        connector=connector_id,
        status=status,
        evse=evse,
        faulted=faulted,
        fault_bearing=faulted,
        port_problem=problem,
    )


def _port_field(p: dict[str, Any], name: str, v: list[str]) -> tuple[int, str | None]:
    """(port, problem) for a status report's port field.

    A usable integer is the port. Negative or out-of-range integers are refused
    (Unusable): the frame names a port that cannot exist. Anything else (missing,
    null, text, fraction, boolean) leaves the port unknown: station level (0), with
    the problem in words for the violation list and the diagnosis evidence.
    """
    value = p.get(name, _ABSENT)
    if _is_int(value):
        if value < 0:
            raise Unusable(f"{name} {value} is negative; ports are numbered from 0")
        if value > MAX_PORT:
            raise Unusable(f"{name} {_show(value)} is out of range (max {MAX_PORT})")
        return value, None
    if value is _ABSENT:
        problem = f"{name} is missing"
    elif value is None:
        problem = f"{name} is null"
    else:
        problem = f"{name} {_show(value)} is not an integer"
    v.append(f"{problem}: port unknown, reported at the station level")
    return 0, problem


_ABSENT: Any = object()


def _notify_event(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    data = p.get("eventData")
    if not isinstance(data, list):
        return _NO[DropReason.NO_EVENT_DATA]
    problems: list[ProblemEvent] = []
    for entry in data:
        if isinstance(entry, dict):
            problem = _problem(entry, v)
            if problem is not None:
                problems.append(problem)
    return EventReport(problems=problems)


def _problem(e: dict[str, Any], v: list[str]) -> ProblemEvent | None:
    component = _object(e.get("component"))
    variable = _object(e.get("variable"))
    comp_name, var_name = component.get("name"), variable.get("name")
    if not isinstance(var_name, str):
        return None
    if not isinstance(comp_name, str):
        if var_name.casefold() not in PROBLEM_VARIABLES:
            return None
        # A problem report without a usable component is still a problem report.
        v.append(f"component.name {_show(comp_name)} is not text; component unknown")
        comp_name = ""
    raw_value = e.get("actualValue")
    value = (
        raw_value if isinstance(raw_value, str) else ("" if raw_value is None else str(raw_value))
    )
    tech_code, tech_info = e.get("techCode"), e.get("techInfo")
    cleared = e.get("cleared") is True
    folded = var_name.casefold()
    value_says_problem = value.strip().casefold() not in _NOT_A_PROBLEM
    is_problem_var = folded in PROBLEM_VARIABLES
    if is_problem_var:
        # Problem=false is the problem going away, with or without the cleared flag.
        cleared = cleared or not value_says_problem
    elif folded == "availabilitystate" and value == "Faulted":
        pass
    elif tech_code is None and tech_info is None and not cleared:
        return None  # an ordinary reading, not a problem report
    evse = _object(component.get("evse"))
    severity, trigger = e.get("severity"), e.get("trigger")
    return ProblemEvent(
        component=_cut(comp_name, "component.name", v) or "",
        variable=_cut(var_name, "variable.name", v) or "",
        actual_value=_cut(value, "actualValue", v) or "",
        tech_code=_text(tech_code, "techCode", v),
        tech_info=_text(tech_info, "techInfo", v),
        cleared=cleared,
        trigger=_text(trigger, "trigger", v) if isinstance(trigger, str) else None,
        event_id=_small_int(e.get("eventId"), "eventId", v),
        evse=_small_int(evse.get("id"), "evse.id", v),
        connector=_small_int(evse.get("connectorId"), "evse.connectorId", v),
        severity=_small_int(severity, "severity", v),
    )


def _security(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    kind = p.get("type")
    if not isinstance(kind, str):
        return _NO[DropReason.NO_EVENT_TYPE]
    return SecurityEvent(
        type=_cut(kind, "type", v) or "", tech_info=_text(p.get("techInfo"), "techInfo", v)
    )


# A Heartbeat fact has no fields, so every heartbeat shares one (a third of all frames
# in a fleet's traffic: one object less each for memory and the garbage collector).
_HEARTBEAT = Heartbeat()


def _heartbeat(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    return _HEARTBEAT


def _start_16(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    connector = p.get("connectorId")
    id_tag = p.get("idTag")
    return TransactionUpdate(
        kind="start",
        connector=_small_int(connector, "connectorId", v),
        id_tag=_text(id_tag, "idTag", v) if isinstance(id_tag, str) else None,
        energy_wh=_number(p.get("meterStart")),
    )


def _stop_16(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    tx = p.get("transactionId")
    id_tag = p.get("idTag")
    reason = p.get("reason")
    energy = _number(p.get("meterStop"))
    if energy is None:
        energy, _ = _meter_readings(p.get("transactionData"), version)
    return TransactionUpdate(
        kind="stop",
        transaction_id=_tx_id(tx, v),
        id_tag=_text(id_tag, "idTag", v) if isinstance(id_tag, str) else None,
        energy_wh=energy,
        reason=_text(reason, "reason", v) if isinstance(reason, str) else None,
    )


def _meter_values(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    energy, power = _meter_readings(p.get("meterValue"), version)
    if version == "1.6":
        connector, tx = p.get("connectorId"), p.get("transactionId")
        return TransactionUpdate(
            kind="update",
            connector=_small_int(connector, "connectorId", v),
            transaction_id=_tx_id(tx, v),
            energy_wh=energy,
            power_w=power,
            soc=_soc(p.get("meterValue")),
        )
    return TransactionUpdate(
        kind="update", evse=_small_int(p.get("evseId"), "evseId", v), energy_wh=energy,
        power_w=power, soc=_soc(p.get("meterValue")),
    )


_TX_KINDS: dict[str, Literal["start", "update", "stop"]] = {
    "Started": "start", "Updated": "update", "Ended": "stop"
}


def _transaction_event(version: str, p: dict[str, Any], v: list[str]) -> Fact | NoFact:
    kind = _TX_KINDS.get(str(p.get("eventType")))
    if kind is None:
        return _NO[DropReason.UNKNOWN_TRANSACTION_EVENT]
    info = _object(p.get("transactionInfo"))
    evse = _object(p.get("evse"))
    token = _object(p.get("idToken"))
    energy, power = _meter_readings(p.get("meterValue"), version)
    tx = info.get("transactionId")
    reason = info.get("stoppedReason") if kind == "stop" else None
    reason = reason or p.get("triggerReason")
    id_token = token.get("idToken")
    state = info.get("chargingState")
    return TransactionUpdate(
        kind=kind,
        connector=_small_int(evse.get("connectorId"), "evse.connectorId", v),
        evse=_small_int(evse.get("id"), "evse.id", v),
        transaction_id=_text(tx, "transactionId", v) if isinstance(tx, str) else None,
        id_tag=_text(id_token, "idToken", v) if isinstance(id_token, str) else None,
        energy_wh=energy,
        power_w=power,
        reason=_text(reason, "triggerReason", v) if isinstance(reason, str) else None,
        soc=_soc(p.get("meterValue")),
        charging_state=state if isinstance(state, str) and len(state) <= 32 else None,
    )


_CALL_BUILDERS = {
    "BootNotification": _boot,
    "StatusNotification": _status,
    "NotifyEvent": _notify_event,
    "SecurityEventNotification": _security,
    "Heartbeat": _heartbeat,
    "StartTransaction": _start_16,
    "StopTransaction": _stop_16,
    "MeterValues": _meter_values,
    "TransactionEvent": _transaction_event,
}


# --- helpers ----------------------------------------------------------------------------


def _meter_readings(meter_values: Any, version: str) -> tuple[float | None, float | None]:
    """(energy Wh, power W) from the last reading of each in a meterValue list.

    1.6: value is a string; measurand defaults to the energy register; unit defaults
    to Wh/W. 2.x: value is a number; unitOfMeasure {unit, multiplier (power of 10)}.
    """
    if not isinstance(meter_values, list):
        return None, None
    energy = power = None
    for mv in meter_values:
        samples = mv.get("sampledValue") if isinstance(mv, dict) else None
        if not isinstance(samples, list):
            continue
        for s in samples:
            if not isinstance(s, dict):
                continue
            measurand = s.get("measurand", _ENERGY)
            if measurand != _ENERGY and measurand != _POWER:
                continue
            if s.get("phase") is not None:
                continue  # per-phase values are parts of the total, not the total
            value = _number(s.get("value"))
            if value is None:
                continue
            if version == "1.6":
                unit = s.get("unit")
                multiplier = 0
            else:
                uom = _object(s.get("unitOfMeasure"))
                unit = uom.get("unit")
                multiplier = uom.get("multiplier", 0)
                if not _is_int(multiplier):
                    multiplier = 0
            scale = _SCALE.get(unit.casefold(), 1.0) if isinstance(unit, str) else 1.0
            value = value * scale * (10.0**multiplier if multiplier else 1.0)
            if measurand == _ENERGY:
                energy = value
            else:
                power = value
    return energy, power


def _soc(meter_values: Any) -> float | None:
    """The vehicle's state of charge (percent) from the last SoC sample, when reported."""
    if not isinstance(meter_values, list):
        return None
    soc = None
    for mv in meter_values:
        samples = mv.get("sampledValue") if isinstance(mv, dict) else None
        if not isinstance(samples, list):
            continue
        for s in samples:
            if isinstance(s, dict) and s.get("measurand") == _SOC:
                value = _number(s.get("value"))
                if value is not None and 0.0 <= value <= 100.0:
                    soc = value
    return soc


def _object(value: Any) -> dict[str, Any]:
    """A JSON object field, or an empty one when the frame put something else there."""
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _text(value: Any, name: str, violations: list[str]) -> str | None:
    """An optional free-text field: numbers become text, other types are dropped."""
    if value is None:
        return None
    if isinstance(value, str):
        return _cut(value, name, violations)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _cut(value: str, name: str, violations: list[str]) -> str | None:
    if len(value) > TEXT_LIMIT:
        violations.append(f"{name}: {len(value)} chars, cut to {TEXT_LIMIT} in the fact")
        value = value[:TEXT_LIMIT]
    return _clean(value, name, violations)


def _clean(value: str, name: str, violations: list[str]) -> str:
    """`value` without what a database cannot store (lone surrogates, NUL)."""
    if unstorable(value):
        violations.append(f"{name}: invalid Unicode or NUL replaced with U+FFFD in the fact")
        return storable(value)
    return value


def _small_int(value: Any, name: str, violations: list[str]) -> int | None:
    """An optional integer field that must fit the store's columns, else None."""
    if not _is_int(value):
        return None
    if -MAX_PORT <= value <= MAX_PORT:
        return int(value)
    violations.append(f"{name} {_show(value)} is out of range; ignored")
    return None


def _tx_id(tx: Any, violations: list[str]) -> str | None:
    if _is_int(tx):
        return str(tx)
    if isinstance(tx, str):
        return _text(tx, "transactionId", violations)
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
