"""Facts for each message type in OCPP 1.6, 2.0.1 and 2.1, built by the real parser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.ocpp.events import (
    BootInfo,
    EventReport,
    Heartbeat,
    Message,
    ProblemEvent,
    Record,
    SecurityEvent,
    StatusReport,
    TransactionUpdate,
)
from bot.ocpp.parse import Parser

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
STAMP = "2026-11-20T07:59:59Z"


def parse(action: str, payload: dict[str, Any], version: str) -> Message:
    m = Parser().parse(
        Record(
            ts=T0, charger="CP-1", direction="in", frame=[2, "u1", action, payload], ocpp=version
        )
    )
    assert isinstance(m, Message), m
    return m


def test_status_1_6_faulted_and_fault_bearing_rules() -> None:
    m = parse(
        "StatusNotification",
        {
            "connectorId": 2,
            "errorCode": "OtherError",
            "status": "Faulted",
            "vendorId": "zaptec",
            "vendorErrorCode": "4096",
            "info": "Ground fault",
        },
        "1.6",
    )
    assert m.fact == StatusReport(
        connector=2,
        status="Faulted",
        error_code="OtherError",
        vendor_id="zaptec",
        vendor_error_code="4096",
        info="Ground fault",
        faulted=True,
        fault_bearing=True,
    )
    assert m.violations == [] and m.is_fault_bearing
    advisory = parse(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "PowerMeterFailure", "status": "Charging"},
        "1.6",
    ).fact
    assert isinstance(advisory, StatusReport)
    assert not advisory.faulted and advisory.fault_bearing
    healthy = parse(
        "StatusNotification",
        {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        "1.6",
    ).fact
    assert isinstance(healthy, StatusReport) and not healthy.fault_bearing
    no_error = parse(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}, "1.6"
    ).fact
    assert isinstance(no_error, StatusReport) and no_error.fault_bearing


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_status_2x(version: str) -> None:
    m = parse(
        "StatusNotification",
        {"timestamp": STAMP, "connectorStatus": "Faulted", "evseId": 3, "connectorId": 1},
        version,
    )
    assert m.fact == StatusReport(
        connector=1, status="Faulted", evse=3, faulted=True, fault_bearing=True
    )
    assert m.violations == []
    ok = parse(
        "StatusNotification",
        {"timestamp": STAMP, "connectorStatus": "Occupied", "evseId": 3, "connectorId": 1},
        version,
    ).fact
    assert isinstance(ok, StatusReport) and not ok.fault_bearing


def test_boot_2x() -> None:
    m = parse(
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {
                "model": "PKM150",
                "vendorName": "Tritium",
                "serialNumber": "S1",
                "firmwareVersion": "1.4.12",
            },
        },
        "2.0.1",
    )
    assert m.fact == BootInfo(
        vendor="Tritium", model="PKM150", serial="S1", firmware="1.4.12", reason="PowerUp"
    )


def _event(**over: Any) -> dict[str, Any]:
    entry = {
        "eventId": 7,
        "timestamp": STAMP,
        "trigger": "Alerting",
        "actualValue": "true",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "Problem"},
    }
    entry.update(over)
    return entry


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_notify_event_keeps_only_problem_entries(version: str) -> None:
    entries = [
        _event(techCode="LK-02", techInfo="Lock motor stalled"),
        _event(eventId=8, actualValue="false", cleared=True),
        _event(eventId=9, component={"name": "RCD"}, variable={"name": "Tripped"}),
        _event(
            eventId=10, component={"name": "EVSE"}, variable={"name": "Power"}, actualValue="7400"
        ),  # an ordinary reading
        _event(
            eventId=11,
            component={"name": "EVSE"},
            variable={"name": "AvailabilityState"},
            actualValue="Faulted",
        ),
        _event(
            eventId=12,
            component={"name": "Controller"},
            variable={"name": "Temperature"},
            actualValue="81",
            techCode="T81",
        ),
    ]
    m = parse("NotifyEvent", {"generatedAt": STAMP, "seqNo": 0, "eventData": entries}, version)
    assert isinstance(m.fact, EventReport)
    problems = m.fact.problems
    assert [p.event_id for p in problems] == [7, 8, 9, 11, 12]
    assert problems[0] == ProblemEvent(
        component="ConnectorPlugRetentionLock",
        variable="Problem",
        actual_value="true",
        tech_code="LK-02",
        tech_info="Lock motor stalled",
        cleared=False,
        trigger="Alerting",
        event_id=7,
        evse=1,
        connector=1,
    )
    assert problems[1].cleared and not problems[2].cleared
    assert m.is_fault_bearing
    only_cleared = parse(
        "NotifyEvent",
        {
            "generatedAt": STAMP,
            "seqNo": 1,
            "eventData": [_event(actualValue="false", cleared=True)],
        },
        version,
    )
    assert not only_cleared.is_fault_bearing


def test_notify_event_2_1_severity() -> None:
    m = parse(
        "NotifyEvent", {"generatedAt": STAMP, "seqNo": 0, "eventData": [_event(severity=2)]}, "2.1"
    )
    assert isinstance(m.fact, EventReport) and m.fact.problems[0].severity == 2
    assert m.violations == []


@pytest.mark.parametrize(
    ("version", "stamp_key"), [("1.6", "timestamp"), ("2.0.1", "timestamp"), ("2.1", "timestamp")]
)
def test_security_event(version: str, stamp_key: str) -> None:
    m = parse(
        "SecurityEventNotification",
        {"type": "TamperDetectionActivated", stamp_key: STAMP, "techInfo": "door"},
        version,
    )
    assert m.fact == SecurityEvent(type="TamperDetectionActivated", tech_info="door")


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_heartbeat(version: str) -> None:
    assert parse("Heartbeat", {}, version).fact == Heartbeat()


def test_meter_values_1_6_units() -> None:
    m = parse(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 5,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [
                        {
                            "value": "12.5",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "kWh",
                        },
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                        {"value": "230", "measurand": "Voltage", "unit": "V"},
                    ],
                }
            ],
        },
        "1.6",
    )
    assert m.fact == TransactionUpdate(
        kind="update", connector=1, transaction_id="5", energy_wh=12500.0, power_w=7400.0
    )
    default_measurand = parse(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": "900"}]}],
        },
        "1.6",
    ).fact
    assert isinstance(default_measurand, TransactionUpdate)
    assert default_measurand.energy_wh == 900.0


def test_stop_transaction_1_6() -> None:
    m = parse(
        "StopTransaction",
        {
            "transactionId": 77,
            "idTag": "T",
            "meterStop": 20500,
            "timestamp": STAMP,
            "reason": "EmergencyStop",
        },
        "1.6",
    )
    assert m.fact == TransactionUpdate(
        kind="stop", transaction_id="77", id_tag="T", energy_wh=20500.0, reason="EmergencyStop"
    )


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_transaction_event_2x(version: str) -> None:
    payload = {
        "eventType": "Updated",
        "timestamp": STAMP,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 3,
        "transactionInfo": {"transactionId": "tx-9"},
        "evse": {"id": 2, "connectorId": 1},
        "meterValue": [
            {
                "timestamp": STAMP,
                "sampledValue": [
                    {
                        "value": 1.5,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh"},
                    },
                    {
                        "value": 11,
                        "measurand": "Power.Active.Import",
                        "unitOfMeasure": {"unit": "W", "multiplier": 3},
                    },
                ],
            }
        ],
    }
    m = parse("TransactionEvent", payload, version)
    assert m.fact == TransactionUpdate(
        kind="update",
        connector=1,
        evse=2,
        transaction_id="tx-9",
        energy_wh=1500.0,
        power_w=11000.0,
        reason="MeterValuePeriodic",
    )
    assert m.violations == []
    ended = parse(
        "TransactionEvent",
        payload
        | {
            "eventType": "Ended",
            "triggerReason": "EVDeparted",
            "transactionInfo": {"transactionId": "tx-9", "stoppedReason": "EVDisconnected"},
            "idToken": {"idToken": "04AB", "type": "ISO14443"},
        },
        version,
    ).fact
    assert isinstance(ended, TransactionUpdate)
    assert (ended.kind, ended.reason, ended.id_tag) == ("stop", "EVDisconnected", "04AB")


def test_meter_values_2x_by_evse() -> None:
    m = parse(
        "MeterValues",
        {
            "evseId": 2,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [{"value": 3000, "measurand": "Energy.Active.Import.Register"}],
                }
            ],
        },
        "2.0.1",
    )
    assert m.fact == TransactionUpdate(kind="update", evse=2, energy_wh=3000.0)
