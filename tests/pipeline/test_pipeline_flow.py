"""The pipeline end to end on real contract-1 lines: parse -> store -> triage -> incidents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.incidents.changes import IncidentChange
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import generate_fleet_lines
from bot.store.models import MessageRow

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_uid = iter(range(10_000, 99_999))


def iso(minute: float) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def call(minute: float, charger: str, action: str, payload: dict) -> str:
    frame = [2, str(next(_uid)), action, payload]
    return json.dumps({"ts": iso(minute), "charger": charger, "dir": "in", "frame": frame,
                       "ocpp": "1.6"})


def boot(minute: float, charger: str = "CP-001") -> str:
    return call(minute, charger, "BootNotification",
                {"chargePointVendor": "Acme", "chargePointModel": "AC22"})


def status(minute: float, st: str, charger: str = "CP-001", conn: int = 1,
           error: str = "NoError", **extra: str) -> str:
    payload = {"connectorId": conn, "errorCode": error, "status": st,
               "timestamp": iso(minute), **extra}
    return call(minute, charger, "StatusNotification", payload)


def heartbeat(minute: float, charger: str = "CP-001") -> str:
    return call(minute, charger, "Heartbeat", {})


def fault_lines() -> list[str]:
    return [
        boot(0),
        status(0.1, "Available"),
        status(5, "Faulted", error="PowerSwitchFailure"),
        status(35, "Available"),
        heartbeat(50),
    ]


def feed(pipe: Pipeline, lines: list[str]):
    return pipe.process(read_lines(lines, source="test.jsonl"))


def test_fault_opens_and_recovers(db_engine: Engine, db_session: Session) -> None:
    result = feed(Pipeline(db_engine), fault_lines())
    assert result.new == 5 and not result.errors
    assert [d.category.value for d in result.diagnoses] == ["power_switch"]
    assert [c.kind for c in result.changes] == ["opened", "resolved"]
    (inc,) = db_session.scalars(select(Incident)).all()
    assert inc.category == "power_switch" and inc.owner == "vendor_service"
    assert inc.opened_at == T0 + timedelta(minutes=5)
    assert inc.resolved_at == T0 + timedelta(minutes=35) and inc.open_key is None
    assert inc.model == "AC22"
    statuses = db_session.scalars(select(PortStatus.status).order_by(PortStatus.ts)).all()
    assert statuses == ["Available", "Faulted", "Available"]


def test_same_file_twice_changes_nothing(db_engine: Engine, db_session: Session) -> None:
    lines = list(generate_fleet_lines(4, hours=6, seed=3)) + fault_lines()
    first = feed(Pipeline(db_engine), lines)
    snapshot = sorted(
        (i.charger, i.connector, i.category, i.opened_at, i.resolved_at, i.occurrences)
        for i in db_session.scalars(select(Incident))
    )
    rows = db_session.scalar(select(func.count()).select_from(DiagnosisRow))
    assert first.new == len(lines) and first.diagnoses
    again = feed(Pipeline(db_engine), lines)  # a fresh worker, the same file
    assert again.new == 0 and again.duplicates == len(lines)
    assert again.diagnoses == [] and again.changes == []
    db_session.expire_all()
    assert snapshot == sorted(
        (i.charger, i.connector, i.category, i.opened_at, i.resolved_at, i.occurrences)
        for i in db_session.scalars(select(Incident))
    )
    assert rows == db_session.scalar(select(func.count()).select_from(DiagnosisRow))


def test_bad_lines_are_reported_and_good_ones_kept(db_engine: Engine) -> None:
    lines = fault_lines()
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"ts": iso(6), "charger": "CP-001", "dir": "in",
                                "frame": [2, "x"]}))
    result = feed(Pipeline(db_engine), lines)
    assert len(result.errors) == 2
    assert {e.line for e in result.errors} == {3, 5}
    assert [c.kind for c in result.changes] == ["opened", "resolved"]


def test_listeners_run_inside_the_incident_transaction(db_engine: Engine) -> None:
    seen: list[tuple[bool, list[IncidentChange], int]] = []

    def listener(session: Session, changes: list[IncidentChange]) -> None:
        count = session.scalar(select(func.count()).select_from(Incident)) or 0
        seen.append((session.in_transaction(), list(changes), count))

    feed(Pipeline(db_engine, listeners=[listener]), fault_lines())
    assert seen and all(in_tx for in_tx, _, _ in seen)
    kinds = [c.kind for _, changes, _ in seen for c in changes]
    assert kinds == ["opened", "resolved"]
    assert seen[-1][2] == 1  # the incident is visible to the listener before commit


def test_failing_listener_rolls_the_batch_back(db_engine: Engine, db_session: Session) -> None:
    def broken(session: Session, changes: list[IncidentChange]) -> None:
        if changes:
            raise RuntimeError("outbox down")

    with pytest.raises(RuntimeError):
        feed(Pipeline(db_engine, listeners=[broken]), fault_lines())
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    # The message log rolled back with it: nothing is "stored but never triaged".
    assert db_session.scalar(select(func.count()).select_from(MessageRow)) == 0


def test_redelivery_after_a_failed_batch_is_triaged_in_full(
    db_engine: Engine, db_session: Session
) -> None:
    fail = [True]

    def flaky(session: Session, changes: list[IncidentChange]) -> None:
        if changes and fail[0]:
            raise RuntimeError("database went away mid-batch")

    pipe = Pipeline(db_engine, listeners=[flaky])
    with pytest.raises(RuntimeError):
        feed(pipe, fault_lines())
    fail[0] = False
    result = feed(pipe, fault_lines())  # the feed redelivers the same frames
    assert result.new == len(fault_lines()) and result.duplicates == 0
    incidents = db_session.scalars(select(Incident)).all()
    assert [(i.category, i.resolved_at is not None) for i in incidents] == [
        ("power_switch", True)
    ]


def test_silent_charger_tick_and_recovery(db_engine: Engine, db_session: Session) -> None:
    pipe = Pipeline(db_engine)
    feed(pipe, [boot(0), status(0.1, "Available"), heartbeat(1)])
    ticked = pipe.tick(T0 + timedelta(hours=5))
    assert [d.category.value for d in ticked.diagnoses] == ["connectivity"]
    assert [c.kind for c in ticked.changes] == ["opened"]
    back = feed(pipe, [heartbeat(6 * 60)])
    assert [c.kind for c in back.changes] == ["resolved"]
    (inc,) = db_session.scalars(select(Incident)).all()
    assert inc.scope == "charger" and inc.resolved_at == T0 + timedelta(hours=6)
    assert inc.opened_at == T0 + timedelta(minutes=1)  # silent since its last frame


def test_warm_up_gives_a_new_worker_context(db_engine: Engine) -> None:
    feed(Pipeline(db_engine), fault_lines()[:3])  # faulted, not recovered yet
    fresh = Pipeline(db_engine)
    assert fresh.warm_up(T0 - timedelta(hours=1)) == 3
    assert fresh.triage.charger_view("CP-001") is not None
    result = feed(fresh, fault_lines()[3:])
    assert [c.kind for c in result.changes] == ["resolved"]
    assert result.diagnoses == []
