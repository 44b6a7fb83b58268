"""Contract-1 lines for answer and digest tests (real frames, fed through the Pipeline)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_uid = count(1000)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def iso(minute: float) -> str:
    return at(minute).isoformat().replace("+00:00", "Z")


def call(minute: float, charger: str, action: str, payload: dict) -> str:
    return json.dumps({"ts": iso(minute), "charger": charger, "dir": "in", "ocpp": "1.6",
                       "frame": [2, str(next(_uid)), action, payload]})


def boot(minute: float, charger: str, vendor: str = "Acme EV", model: str = "AC-22 Pro") -> str:
    return call(minute, charger, "BootNotification",
                {"chargePointVendor": vendor, "chargePointModel": model})


def status(minute: float, charger: str, st: str, conn: int = 1, error: str = "NoError",
           **extra: str) -> str:
    return call(minute, charger, "StatusNotification",
                {"connectorId": conn, "errorCode": error, "status": st,
                 "timestamp": iso(minute), **extra})


def heartbeat(minute: float, charger: str) -> str:
    return call(minute, charger, "Heartbeat", {})


def phantom_boots(chargers: list[str], start: float = 0) -> list[str]:
    """One model that reports Faulted + InternalError at every boot, then Available."""
    lines = []
    for i, c in enumerate(chargers):
        m = start + i * 20
        lines += [boot(m, c), status(m + 0.05, c, "Faulted", error="InternalError"),
                  status(m + 0.12, c, "Available")]
    return lines


def broken_switch(charger: str, minute: float) -> list[str]:
    return [boot(minute, charger, "Acme EV", "DC-50"), status(minute + 1, charger, "Available"),
            status(minute + 30, charger, "Faulted", error="PowerSwitchFailure"),
            heartbeat(minute + 60, charger)]
