"""OCPP 2.0.1 / 2.1: Faulted status and NotifyEvent problems describe one fault together."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from triage_frames import T0, Feed, engine, iso


def event(f: Feed, charger: str, t: float, component: str, variable: str, *, evse: int | None = 1,
          code: str | None = None, info: str | None = None, cleared: bool = False,
          value: str = "true") -> None:
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = {"id": evse, "connectorId": 1}
    data: dict[str, Any] = {
        "eventId": int(t) + 1, "timestamp": iso(T0 + timedelta(seconds=t)),
        "trigger": "Alerting", "actualValue": value, "cleared": cleared,
        "eventNotificationType": "HardWiredNotification",
        "component": comp, "variable": {"name": variable},
    }
    if code:
        data["techCode"] = code
    if info:
        data["techInfo"] = info
    f.call(charger, "NotifyEvent", {"generatedAt": iso(T0 + timedelta(seconds=t)), "seqNo": 0,
                                    "eventData": [data]}, t, reply={}, ocpp="2.0.1")


def status2(f: Feed, charger: str, t: float, status: str, evse: int = 1) -> None:
    f.call(charger, "StatusNotification", {"timestamp": iso(T0 + timedelta(seconds=t)),
                                           "connectorStatus": status, "evseId": evse,
                                           "connectorId": 1}, t, reply={}, ocpp="2.0.1")


def test_notify_event_problem_is_diagnosed_from_component_and_variable() -> None:
    f = Feed(engine())
    event(f, "CS-1", 0, "RCD", "Tripped")
    d = f.diagnoses[-1]
    assert d.category == "ground_fault" and d.connector == 1
    assert any("RCD/Tripped" in e for e in d.evidence)


def test_faulted_status_first_then_its_cause_in_a_notify_event() -> None:
    f = Feed(engine())
    status2(f, "CS-2", 0, "Faulted")
    first = f.diagnoses[-1]
    assert first.rule == "no_information" and first.category == "unknown"
    n = len(f.diagnoses)
    event(f, "CS-2", 2, "ConnectorPlugRetentionLock", "Problem")
    new = f.diagnoses[n:]
    own = [d for d in new if not d.supersedes]
    redone = [d for d in new if d.supersedes]
    assert len(own) == 1 and own[0].category == "connector_lock"
    assert len(redone) == 1 and redone[0].message_fingerprint == first.message_fingerprint
    assert redone[0].category == "connector_lock"


def test_notify_event_first_gives_the_following_faulted_status_its_cause() -> None:
    f = Feed(engine())
    event(f, "CS-3", 0, "OverCurrentProtection", "Tripped")
    status2(f, "CS-3", 1, "Faulted")
    d = f.diagnoses[-1]
    assert d.category == "overcurrent"
    assert any("cause taken from NotifyEvent OverCurrentProtection/Tripped" in e
               for e in d.evidence)


def test_cleared_problem_and_available_recover_the_port() -> None:
    f = Feed(engine())
    event(f, "CS-4", 0, "RCD", "Tripped")
    assert f.engine.port_view("CS-4", 1).diagnosis is not None
    event(f, "CS-4", 60, "RCD", "Tripped", cleared=True, value="false")
    assert f.engine.port_view("CS-4", 1).diagnosis is None


def test_station_wide_problem_is_connector_zero() -> None:
    f = Feed(engine())
    event(f, "CS-5", 0, "ChargingStation", "Problem", evse=None, code="X1", info="boom")
    d = f.diagnoses[-1]
    assert d.connector == 0
    assert any("whole charger" in e for e in d.evidence)
