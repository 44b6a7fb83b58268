"""Build Messages directly from bot.ocpp.events for store tests (no parser involved)."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ocpp.events import (
    CALL,
    CALLRESULT,
    BootInfo,
    BootReply,
    Fact,
    Heartbeat,
    Message,
    StatusReport,
    TransactionUpdate,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def message(
    charger: str,
    when: datetime,
    fact: Fact | None,
    *,
    action: str,
    payload: dict[str, Any] | None = None,
    direction: str = "in",
    message_type: int = CALL,
    uid: str | None = None,
    occurred_at: datetime | None = None,
) -> Message:
    uid = uid or str(next(_ids))
    payload = payload or {}
    frame: list[Any] = (
        [message_type, uid, action, payload]
        if message_type == CALL
        else [message_type, uid, payload]
    )
    raw = json.dumps(frame, separators=(",", ":"))
    fp = hashlib.sha256(f"{charger}|{direction}|{raw}".encode()).hexdigest()[:32]
    return Message(
        ts=when,
        occurred_at=occurred_at or when,
        charger=charger,
        direction=direction,  # type: ignore[arg-type]
        message_type=message_type,
        unique_id=uid,
        action=action,
        payload=payload,
        ocpp_version="1.6",
        version_inferred=False,
        raw=raw,
        fingerprint=fp,
        fact=fact,
        source="test",
    )


def status(
    charger: str,
    when: datetime,
    connector: int,
    state: str,
    error: str = "NoError",
    vendor_code: str | None = None,
    info: str | None = None,
) -> Message:
    faulted = state == "Faulted"
    payload: dict[str, Any] = {
        "connectorId": connector,
        "errorCode": error,
        "status": state,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
    }
    if vendor_code:
        payload["vendorErrorCode"] = vendor_code
    if info:
        payload["info"] = info
    fact = StatusReport(
        connector=connector,
        status=state,
        error_code=error,
        vendor_error_code=vendor_code,
        info=info,
        faulted=faulted,
        fault_bearing=faulted or error != "NoError",
    )
    return message(charger, when, fact, action="StatusNotification", payload=payload)


def boot(charger: str, when: datetime, vendor: str, model: str, firmware: str = "1.0") -> Message:
    payload = {"chargePointVendor": vendor, "chargePointModel": model, "firmwareVersion": firmware}
    return message(
        charger,
        when,
        BootInfo(vendor, model, firmware=firmware),
        action="BootNotification",
        payload=payload,
    )


def boot_reply(charger: str, when: datetime, status_: str, interval: int) -> Message:
    payload = {"status": status_, "interval": interval, "currentTime": when.isoformat()}
    return message(
        charger,
        when,
        BootReply(status_, interval),
        action="BootNotification",
        payload=payload,
        direction="out",
        message_type=CALLRESULT,
    )


def heartbeat(charger: str, when: datetime) -> Message:
    return message(charger, when, Heartbeat(), action="Heartbeat")


def tx(
    charger: str,
    when: datetime,
    kind: str,
    transaction_id: str | None,
    *,
    connector: int | None = 1,
    energy: float | None = None,
    id_tag: str | None = None,
    reason: str | None = None,
) -> Message:
    fact = TransactionUpdate(
        kind=kind,  # type: ignore[arg-type]
        connector=connector,
        transaction_id=transaction_id,
        id_tag=id_tag,
        energy_wh=energy,
        reason=reason,
    )
    action = {"start": "StartTransaction", "stop": "StopTransaction"}.get(kind, "MeterValues")
    payload = {"transactionId": transaction_id, "connectorId": connector, "e": energy, "k": kind}
    return message(charger, when, fact, action=action, payload=payload)
