"""Incident lifecycle: open, update, escalate, cause change, hold-down, flapping, suppression."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.incidents.manager import Finding, IncidentManager, acknowledge, resolve, snooze
from bot.incidents.models import DiagnosisRow, Incident
from bot.incidents.signals import Signal
from bot.triage.diagnosis import Diagnosis
from bot.vocab import Category, Owner, Severity

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def diag(
    minute: float,
    category: Category = Category.EMERGENCY_STOP,
    *,
    charger: str = "CP-001",
    connector: int | None = 1,
    severity: Severity = Severity.OUTAGE,
    suppressed: bool = False,
    rule: str = "estop_phrase",
    owner: Owner = Owner.SITE_STAFF,
) -> Finding:
    d = Diagnosis(
        charger=charger,
        connector=connector,
        ts=T0 + timedelta(minutes=minute),
        category=category,
        severity=severity,
        owner=owner,
        suppressed=suppressed,
        summary=f"{category.value} on {charger}",
        action="do the thing",
        confidence=0.9,
        rule=rule,
        evidence=["test"],
    )
    return Finding(d, fingerprint=f"fp-{charger}-{connector}-{minute}-{rule}")


def healthy(minute: float, charger: str = "CP-001", connector: int = 1) -> Signal:
    return Signal(charger, connector, T0 + timedelta(minutes=minute), "healthy")


def run(session: Session, *events: Finding | Signal, settle_at: float | None = None) -> list:
    mgr = IncidentManager(session, site_of=lambda c: "Depot North")
    changes = mgr.apply(events)
    if settle_at is not None:
        changes += mgr.settle(T0 + timedelta(minutes=settle_at))
    mgr.flush_rows()
    session.commit()
    return [(c.kind, c.detail) for c in changes]


def incidents(session: Session) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_open_then_update(db_session: Session) -> None:
    kinds = run(db_session, diag(0), diag(1))
    assert [k for k, _ in kinds] == ["opened", "updated"]
    (inc,) = incidents(db_session)
    assert inc.open_key == "port:CP-001:1:emergency_stop"
    assert inc.occurrences == 2 and inc.site == "Depot North" and inc.scope == "port"
    assert inc.updated_at == T0 + timedelta(minutes=1)
    rows = db_session.scalars(select(DiagnosisRow)).all()
    assert len(rows) == 2 and {r.incident_id for r in rows} == {inc.id}


def test_higher_severity_escalates_and_recurrence_escalates(db_session: Session) -> None:
    kinds = run(db_session, diag(0), diag(1, severity=Severity.SAFETY), diag(2))
    assert kinds[1] == ("escalated", "outage->safety")
    # occurrence 3 crosses the first recurrence step; severity never drops back
    assert kinds[2] == ("escalated", "recurring:3")
    (inc,) = incidents(db_session)
    assert inc.severity == "safety"


def test_cause_change_relabels_the_same_incident(db_session: Session) -> None:
    kinds = run(db_session, diag(0), diag(2, Category.GROUND_FAULT, rule="kb_exact"))
    assert kinds == [
        ("opened", "emergency_stop"),
        ("cause_changed", "emergency_stop->ground_fault"),
    ]
    (inc,) = incidents(db_session)
    assert inc.open_key == "port:CP-001:1:ground_fault" and inc.category == "ground_fault"


def test_unknown_never_overrides_a_known_cause(db_session: Session) -> None:
    kinds = run(db_session, diag(0), diag(2, Category.UNKNOWN, rule="unknown"))
    assert kinds[1] == ("updated", "unknown_kept_cause")
    assert incidents(db_session)[0].category == "emergency_stop"


def test_recovery_waits_out_the_hold_down(db_session: Session) -> None:
    # healthy at 5; at 12 the hold-down (10 min) has not passed yet
    assert run(db_session, diag(0), healthy(5), settle_at=12) == [("opened", "emergency_stop")]
    inc = incidents(db_session)[0]
    assert inc.resolved_at is None and inc.recovering_since == T0 + timedelta(minutes=5)
    # a later batch settles it; resolved_at is the moment it recovered, not the settle time
    assert run(db_session, settle_at=16) == [("resolved", "recovered:5min")]
    db_session.expire_all()
    inc = incidents(db_session)[0]
    assert inc.open_key is None and inc.resolved_at == T0 + timedelta(minutes=5)
    assert inc.resolved_by == "recovered"


def test_flapping_port_keeps_one_incident(db_session: Session) -> None:
    events: list[Finding | Signal] = []
    for i in range(6):  # faulted / available every 2 minutes
        events += [diag(4 * i), healthy(4 * i + 2)]
    kinds = run(db_session, *events, settle_at=4 * 5 + 2 + 9)
    assert len(incidents(db_session)) == 1
    assert kinds.count(("opened", "emergency_stop")) == 1
    assert ("escalated", "flapping:3") in kinds
    assert not any(k == "resolved" for k, _ in kinds)
    assert incidents(db_session)[0].flaps == 5
    # once it stays healthy for the hold-down, it resolves once
    assert run(db_session, settle_at=4 * 5 + 2 + 10) == [("resolved", "recovered:22min")]


def test_new_cause_after_recovery_is_a_new_incident(db_session: Session) -> None:
    kinds = run(db_session, diag(0), healthy(3), diag(6, Category.GROUND_FAULT, rule="kb"))
    assert [k for k, _ in kinds] == ["opened", "resolved", "opened"]
    first, second = incidents(db_session)
    assert first.resolved_at == T0 + timedelta(minutes=3)
    assert second.open_key == "port:CP-001:1:ground_fault"


def test_suppressed_opens_nothing_but_is_recorded(db_session: Session) -> None:
    kinds = run(db_session, diag(0, Category.INTERNAL_ERROR, suppressed=True, rule="phantom"))
    assert kinds == []
    assert incidents(db_session) == []
    (row,) = db_session.scalars(select(DiagnosisRow)).all()
    assert row.suppressed and row.incident_id is None


def test_connectivity_resolves_when_the_charger_talks(db_session: Session) -> None:
    silent = diag(0, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    kinds = run(db_session, silent, Signal("CP-001", None, T0 + timedelta(minutes=30), "contact"))
    assert kinds == [("opened", "connectivity"), ("resolved", "recovered:30min")]
    assert incidents(db_session)[0].scope == "charger"


def test_site_incident_resolves_when_every_port_recovers(db_session: Session) -> None:
    kinds = run(
        db_session,
        diag(0, Category.POWER_LOSS, charger="CP-001", rule="site_power"),
        diag(0.2, Category.POWER_LOSS, charger="CP-002", rule="site_power"),
        healthy(4, "CP-001"),
        settle_at=20,
    )
    assert [k for k, _ in kinds] == ["opened", "updated"]
    (inc,) = incidents(db_session)
    assert inc.open_key == "site:Depot North:power_loss" and len(inc.ports) == 2
    assert run(db_session, healthy(6, "CP-002"), settle_at=17) == [("resolved", "recovered:6min")]


def test_redelivered_diagnosis_rows_are_ignored(db_session: Session) -> None:
    run(db_session, diag(0))
    run(db_session, diag(0))
    assert db_session.scalar(select(func.count()).select_from(DiagnosisRow)) == 1


def test_people_ack_snooze_resolve(db_session: Session) -> None:
    run(db_session, diag(0))
    inc_id = incidents(db_session)[0].id
    now = T0 + timedelta(hours=1)
    assert acknowledge(db_session, inc_id, "U123", now).kind == "acknowledged"
    assert snooze(db_session, inc_id, now + timedelta(hours=2), now).kind == "snoozed"
    change = resolve(db_session, inc_id, "U123", now)
    db_session.commit()
    inc = incidents(db_session)[0]
    assert change.kind == "resolved" and inc.resolved_by == "U123" and inc.open_key is None
    assert inc.acked_by == "U123" and inc.snoozed_until == now + timedelta(hours=2)


def test_two_workers_never_open_two_incidents(
    db_engine: Engine, db_sessionmaker: sessionmaker[Session]
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL concern (SQLite serializes writers)")
    first = db_sessionmaker()
    mgr_a = IncidentManager(first)
    mgr_a.apply([diag(0)])  # inserted, not committed: holds the unique key
    outcome: dict[str, object] = {}

    def worker_b() -> None:
        with db_sessionmaker() as second:
            mgr_b = IncidentManager(second)
            # blocks on the unique index until A commits, then merges into A's incident
            outcome["changes"] = mgr_b.apply([diag(1)])
            second.commit()

    thread = threading.Thread(target=worker_b)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # really waiting on A's row
    first.commit()
    first.close()
    thread.join(10)
    with db_sessionmaker() as check:
        (inc,) = check.scalars(select(Incident)).all()
        assert inc.occurrences == 2
    assert [c.kind for c in outcome["changes"]] == ["updated"]  # type: ignore[attr-defined]


def test_phantom_rediagnosis_withdraws_the_incident(db_session: Session) -> None:
    first = diag(0, Category.INTERNAL_ERROR, rule="standard_code")
    again = diag(0, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True)
    again.fingerprint = first.fingerprint
    again.diagnosis.supersedes = True
    kinds = run(db_session, first, healthy(1), again)
    assert kinds == [("opened", "internal_error"), ("resolved", "phantom:1min")]
    (inc,) = incidents(db_session)
    assert inc.suppressed and inc.open_key is None
    rows = db_session.scalars(select(DiagnosisRow).order_by(DiagnosisRow.id)).all()
    assert [(r.rule, r.suppressed) for r in rows] == [
        ("standard_code", False), ("phantom_boot_fault", True)
    ]


def test_triage_flapping_flag_escalates_once(db_session: Session) -> None:
    flap = diag(1)
    flap.diagnosis.flapping = True
    flap2 = diag(2)
    flap2.diagnosis.flapping = True
    kinds = run(db_session, diag(0), flap, flap2)
    assert kinds[1:] == [("escalated", "flapping:0"), ("escalated", "recurring:3")]
    assert incidents(db_session)[0].flapping


def test_port_fault_found_site_wide_folds_into_the_site_incident(db_session: Session) -> None:
    first = diag(0, Category.UNDER_VOLTAGE, rule="kb_match")
    site_wide = diag(1, Category.UNDER_VOLTAGE, rule="site_wide_cause")
    site_wide.fingerprint = first.fingerprint
    site_wide.diagnosis.supersedes = True
    site_wide.diagnosis.site_event = "Depot North:under_voltage"
    kinds = run(db_session, first, site_wide)
    assert kinds == [("opened", "under_voltage"), ("resolved", "merged:1min"),
                     ("opened", "under_voltage")]
    port, site = incidents(db_session)
    assert port.open_key is None and site.open_key == "site:Depot North:under_voltage"


def _dip_re_read() -> tuple[Finding, Finding, Finding]:
    """CP-001 faults first; CP-004's fault 12 s later shows the cause is site-wide (it
    opens the site incident), and CP-001's earlier fault is re-read as part of it."""
    first = diag(0, Category.UNDER_VOLTAGE, rule="standard_code")
    second = diag(0.2, Category.UNDER_VOLTAGE, charger="CP-004", rule="site_wide_cause")
    second.diagnosis.site_event = "Depot North:under_voltage"
    again = diag(0, Category.UNDER_VOLTAGE, rule="site_wide_cause")
    again.fingerprint = first.fingerprint
    again.diagnosis.supersedes = True
    again.diagnosis.site_event = "Depot North:under_voltage"
    return first, second, again


def test_earlier_port_fault_re_read_as_site_wide_joins_the_site_incident(
    db_session: Session,
) -> None:
    # As in the demo feed. CP-001 must be one of the site incident's ports, and the
    # incident began with CP-001's fault (before: the port was left out and its own
    # incident showed as a 0-second outage).
    first, second, again = _dip_re_read()
    run(db_session, first, second, again,
        healthy(4), healthy(4.5, charger="CP-004"), settle_at=30)
    port, site = incidents(db_session)
    assert port.resolved_by == "merged"
    assert site.scope == "site"
    assert sorted(p[0] for p in site.ports) == ["CP-001", "CP-004"]
    assert site.opened_at.replace(tzinfo=UTC) == T0
    assert site.resolved_by == "recovered"  # both ports' recovery counted


def test_port_that_recovered_before_its_fault_was_re_read_does_not_hold_the_site_open(
    db_session: Session,
) -> None:
    first, second, again = _dip_re_read()
    run(db_session, first, healthy(0.1), second, again,
        healthy(4.5, charger="CP-004"), settle_at=30)
    _, site = incidents(db_session)
    assert site.resolved_by == "recovered"
