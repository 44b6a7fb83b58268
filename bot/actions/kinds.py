"""The remote actions, the OCPP calls that carry them, and which ones an incident's
diagnosis calls for."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    SOFT_RESET = "soft_reset"
    HARD_RESET = "hard_reset"
    UNLOCK = "unlock"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"
    TRIGGER_STATUS = "trigger_status"


RESETS = frozenset({Kind.SOFT_RESET, Kind.HARD_RESET})
ORDER = tuple(Kind)

# What in a diagnosis's action text (knowledge base and triage wording) asks for what.
_RESET = re.compile(r"\b(reset|reboot|restart|power[- ]cycle)", re.IGNORECASE)
_UNLOCK = re.compile(r"\bunlock", re.IGNORECASE)
_OUT_OF_SERVICE = re.compile(r"\b(out of service|unavailable|inoperative|take .* offline)",
                             re.IGNORECASE)
_UNLOCK_CATEGORIES = frozenset({"connector_lock"})
_OUT_OF_SERVICE_SEVERITIES = frozenset({"safety", "outage"})


def kind_of(value: object) -> Kind | None:
    """A Kind from untrusted input (a button value), else None."""
    try:
        return Kind(str(value))
    except ValueError:
        return None


def offered(category: str, severity: str, action: str, connector: int | None) -> list[Kind]:
    """The actions an incident's diagnosis calls for, in button order. Status refresh
    is always harmless; resets only where the advice says reset; unlock for a lock
    fault or when the advice says unlock; (un)availability for outages and safety."""
    kinds: set[Kind] = {Kind.TRIGGER_STATUS}
    if _RESET.search(action):
        kinds |= RESETS
    # A charger-wide incident has no connector to unlock.
    if connector and (category in _UNLOCK_CATEGORIES or _UNLOCK.search(action)):
        kinds.add(Kind.UNLOCK)
    if severity in _OUT_OF_SERVICE_SEVERITIES or _OUT_OF_SERVICE.search(action):
        kinds |= {Kind.UNAVAILABLE, Kind.AVAILABLE}
    return [k for k in ORDER if k in kinds]


def ocpp_call(kind: Kind, version: str | None, connector: int | None) -> tuple[str, dict[str, Any]]:
    """(action, payload) of the CALL for `kind` in the charger's OCPP version."""
    port = connector or 0
    if version in ("2.0.1", "2.1"):
        evse: dict[str, Any] = {"id": port} if port else {}
        if kind in RESETS:
            return "Reset", {"type": "OnIdle" if kind is Kind.SOFT_RESET else "Immediate"}
        if kind is Kind.UNLOCK:
            return "UnlockConnector", {"evseId": port, "connectorId": 1}
        if kind in (Kind.UNAVAILABLE, Kind.AVAILABLE):
            status = "Inoperative" if kind is Kind.UNAVAILABLE else "Operative"
            return "ChangeAvailability", {"operationalStatus": status,
                                          **({"evse": evse} if evse else {})}
        return "TriggerMessage", {"requestedMessage": "StatusNotification",
                                  **({"evse": {**evse, "connectorId": 1}} if evse else {})}
    if kind in RESETS:
        return "Reset", {"type": "Soft" if kind is Kind.SOFT_RESET else "Hard"}
    if kind is Kind.UNLOCK:
        return "UnlockConnector", {"connectorId": port}
    if kind in (Kind.UNAVAILABLE, Kind.AVAILABLE):
        status = "Inoperative" if kind is Kind.UNAVAILABLE else "Operative"
        return "ChangeAvailability", {"connectorId": port, "type": status}
    return "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": port}
