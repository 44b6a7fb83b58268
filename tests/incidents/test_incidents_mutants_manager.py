"""Incident manager edges the lifecycle tests leave open (found by mutation testing).

Each case is a small feed story with the incidents and changes worked out by hand:
hold-down boundaries to the second, recurrence steps, late reports, re-diagnoses,
signals that must not resolve, and the helpers people use from Slack.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from db_reset import truncate_all
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.incidents.manager import (
    Clock,
    Finding,
    IncidentManager,
    IncidentNotFound,
    acknowledge,
    open_incidents,
    resolve,
    snooze,
)
from bot.incidents.models import DiagnosisRow, Incident
from bot.incidents.signals import Signal
from bot.store.db import make_engine, make_sessionmaker
from bot.triage.diagnosis import Diagnosis
from bot.triage.policy import FaultPolicy
from bot.vocab import Category, Owner, Severity

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SITE = "Harbour Yard"


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def fault(
    minute: float,
    category: Category = Category.GROUND_FAULT,
    *,
    charger: str = "CP-7",
    connector: int | None = 2,
    severity: Severity = Severity.OUTAGE,
    rule: str = "kb_exact",
    suppressed: bool = False,
    fingerprint: str | None = None,
) -> Finding:
    d = Diagnosis(
        charger=charger,
        connector=connector,
        ts=at(minute),
        category=category,
        severity=severity,
        owner=Owner.SITE_STAFF,
        suppressed=suppressed,
        summary=f"{category.value} at {charger}",
        action="check the port",
        confidence=0.8,
        rule=rule,
        evidence=["story"],
    )
    fp = f"m-{charger}-{connector}-{minute}-{rule}" if fingerprint is None else fingerprint
    return Finding(d, fingerprint=fp)


def ok(minute: float, charger: str = "CP-7", connector: int | None = 2) -> Signal:
    return Signal(charger, connector, at(minute), "healthy")


def contact(minute: float, charger: str = "CP-7") -> Signal:
    return Signal(charger, None, at(minute), "contact")


def manager(session: Session, hold_down: timedelta | None = None) -> IncidentManager:
    if hold_down is None:
        return IncidentManager(session, site_of=lambda c: SITE)
    policy = FaultPolicy(hold_down_s=hold_down.total_seconds())
    return IncidentManager(session, site_of=lambda c: SITE, policy=policy)


def feed(session: Session, *events: Finding | Signal | Clock) -> list[tuple[str, str]]:
    mgr = manager(session)
    changes = mgr.apply(events)
    mgr.flush_rows()
    session.commit()
    return [(c.kind, c.detail) for c in changes]


def stored(session: Session) -> list[Incident]:
    session.expire_all()
    return list(session.scalars(select(Incident).order_by(Incident.id)))


# --- hold-down boundaries ------------------------------------------------------------


def test_fault_exactly_when_the_hold_down_ends_is_a_new_incident(db_session: Session) -> None:
    # healthy at 5, hold-down 10 min: at 15:00 exactly that outage is over
    changes = feed(db_session, fault(0), ok(5), fault(15))
    assert changes == [
        ("opened", "ground_fault"),
        ("resolved", "recovered:5min"),
        ("opened", "ground_fault"),
    ]
    first, second = stored(db_session)
    assert first.resolved_at == at(5) and first.open_key is None
    assert second.open_key == "port:CP-7:2:ground_fault" and second.opened_at == at(15)


def test_fault_a_second_before_the_hold_down_ends_is_a_flap(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(5), fault(15 - 1 / 60))
    assert changes == [("opened", "ground_fault"), ("updated", "occurrences:2")]
    (inc,) = stored(db_session)
    assert inc.flaps == 1 and inc.recovering_since is None and inc.occurrences == 2


def test_clock_event_resolves_exactly_at_the_end_of_the_hold_down(db_session: Session) -> None:
    assert feed(db_session, fault(0), ok(3), Clock(at(13) - timedelta(seconds=1))) == [
        ("opened", "ground_fault")
    ]
    assert feed(db_session, Clock(at(13))) == [("resolved", "recovered:3min")]
    (inc,) = stored(db_session)
    assert inc.resolved_at == at(3) and inc.resolved_by == "recovered"


def test_a_shorter_hold_down_resolves_sooner(db_session: Session) -> None:
    mgr = manager(db_session, hold_down=timedelta(minutes=2))
    changes = mgr.apply([fault(0), ok(1)])
    changes += mgr.settle(at(3))
    assert [(c.kind, c.detail) for c in changes] == [
        ("opened", "ground_fault"),
        ("resolved", "recovered:1min"),
    ]


def test_settle_finds_recovering_incidents_of_other_batches(db_session: Session) -> None:
    feed(db_session, fault(0), ok(4))
    # a fresh manager that never saw CP-7 in its batch still resolves it when due
    mgr = manager(db_session)
    assert mgr.settle(at(13)) == []
    changes = mgr.settle(at(14))
    assert [(c.kind, c.detail) for c in changes] == [("resolved", "recovered:4min")]


def test_a_second_healthy_report_does_not_restart_the_hold_down(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(2), ok(8), Clock(at(12)))
    assert changes == [("opened", "ground_fault"), ("resolved", "recovered:2min")]


def test_a_healthy_report_older_than_the_last_fault_is_ignored(db_session: Session) -> None:
    changes = feed(db_session, fault(0), fault(6), ok(4), Clock(at(30)))
    assert changes == [("opened", "ground_fault"), ("updated", "occurrences:2")]
    (inc,) = stored(db_session)
    assert inc.recovering_since is None and inc.open_key is not None


# --- recurrence, severity, flapping --------------------------------------------------


def test_recurrence_escalates_at_three_and_ten_only(db_session: Session) -> None:
    changes = feed(db_session, *(fault(i) for i in range(11)))
    kinds = dict(enumerate(changes, start=1))  # occurrence number -> change
    assert kinds[1] == ("opened", "ground_fault")
    assert kinds[2] == ("updated", "occurrences:2")
    assert kinds[3] == ("escalated", "recurring:3")
    assert kinds[4] == ("updated", "occurrences:4")
    assert kinds[9] == ("updated", "occurrences:9")
    assert kinds[10] == ("escalated", "recurring:10")
    assert kinds[11] == ("updated", "occurrences:11")


def test_a_lower_severity_keeps_the_higher_one(db_session: Session) -> None:
    changes = feed(
        db_session,
        fault(0, severity=Severity.SAFETY),
        fault(1, severity=Severity.DEGRADED),
    )
    assert changes == [("opened", "ground_fault"), ("updated", "occurrences:2")]
    (inc,) = stored(db_session)
    assert inc.severity == "safety"


def test_same_severity_again_is_no_escalation(db_session: Session) -> None:
    safety = Severity.SAFETY
    changes = feed(db_session, fault(0, severity=safety), fault(1, severity=safety))
    assert changes[1] == ("updated", "occurrences:2")


def test_two_flaps_are_not_yet_flapping_the_third_is(db_session: Session) -> None:
    events: list[Finding | Signal] = [fault(0)]
    for i in range(1, 4):  # healthy then faulted again, three times
        events += [ok(2 * i - 1), fault(2 * i)]
    changes = feed(db_session, *events)
    assert changes == [
        ("opened", "ground_fault"),
        ("updated", "occurrences:2"),
        ("escalated", "recurring:3"),
        ("escalated", "flapping:3"),
    ]
    (inc,) = stored(db_session)
    assert inc.flapping and inc.flaps == 3 and inc.occurrences == 4


def test_flapping_escalates_once_only(db_session: Session) -> None:
    events: list[Finding | Signal] = [fault(0)]
    for i in range(1, 6):
        events += [ok(2 * i - 1), fault(2 * i)]
    changes = feed(db_session, *events)
    assert [c for c in changes if c[1].startswith("flapping")] == [("escalated", "flapping:3")]
    assert changes[-1] == ("updated", "occurrences:6")


def test_unknown_after_recovery_keeps_the_cause_and_the_incident(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(1), fault(3, Category.UNKNOWN, rule="unknown"))
    assert changes == [("opened", "ground_fault"), ("updated", "unknown_kept_cause")]
    (inc,) = stored(db_session)
    assert inc.category == "ground_fault" and inc.flaps == 1 and inc.open_key is not None


def test_unknown_incident_takes_a_known_cause(db_session: Session) -> None:
    changes = feed(
        db_session,
        fault(0, Category.UNKNOWN, rule="unknown"),
        fault(1, Category.HIGH_TEMPERATURE, rule="kb_exact"),
    )
    assert changes == [("opened", "unknown"), ("cause_changed", "unknown->high_temperature")]
    (inc,) = stored(db_session)
    assert inc.open_key == "port:CP-7:2:high_temperature" and inc.category == "high_temperature"


# --- late reports and where an incident starts ----------------------------------------


def test_late_report_opens_and_resolves_at_once(db_session: Session) -> None:
    late = fault(0)
    late.diagnosis.recovered_at = at(7)
    changes = feed(db_session, late)
    assert changes == [("opened", "ground_fault"), ("resolved", "recovered:7min")]
    (inc,) = stored(db_session)
    assert inc.open_key is None and inc.resolved_at == at(7) and inc.opened_at == at(0)


def test_late_report_on_an_open_incident_only_counts(db_session: Session) -> None:
    late = fault(3)
    late.diagnosis.recovered_at = at(4)
    changes = feed(db_session, fault(1), late)
    assert changes == [("opened", "ground_fault")]
    (inc,) = stored(db_session)
    assert inc.occurrences == 2 and inc.open_key is not None and inc.updated_at == at(1)


def test_report_older_than_the_incident_only_counts(db_session: Session) -> None:
    changes = feed(db_session, fault(5), fault(2, Category.HIGH_TEMPERATURE))
    assert changes == [("opened", "ground_fault")]
    (inc,) = stored(db_session)
    assert inc.occurrences == 2 and inc.category == "ground_fault" and inc.updated_at == at(5)


def test_incident_opens_when_the_problem_began(db_session: Session) -> None:
    silent = fault(30, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    silent.since = at(12)
    feed(db_session, silent)
    (inc,) = stored(db_session)
    assert inc.opened_at == at(12) and inc.updated_at == at(30) and inc.scope == "charger"


def test_resolution_is_never_before_the_opening(db_session: Session) -> None:
    silent = fault(10, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    feed(db_session, silent)
    (inc,) = stored(db_session)
    change = resolve(db_session, inc.id, "U42", at(4))
    db_session.commit()
    assert change.at == at(10) and change.detail == "U42:manual"
    (inc,) = stored(db_session)
    assert inc.resolved_at == at(10) and inc.resolved_by == "U42"


# --- signals that must not resolve ---------------------------------------------------


def test_contact_does_not_end_a_port_fault_or_an_older_silence(db_session: Session) -> None:
    silent = fault(10, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    changes = feed(db_session, fault(0), silent, contact(10), Clock(at(60)))
    assert changes == [("opened", "ground_fault"), ("opened", "connectivity")]
    assert feed(db_session, contact(11)) == [("resolved", "recovered:1min")]
    port, charger = stored(db_session)
    assert port.open_key == "port:CP-7:2:ground_fault" and charger.open_key is None


def test_a_healthy_port_does_not_end_a_silence(db_session: Session) -> None:
    silent = fault(0, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    changes = feed(db_session, silent, ok(1), Clock(at(40)))
    assert changes == [("opened", "connectivity")]
    (inc,) = stored(db_session)
    assert inc.recovering_since is None and inc.open_key == "charger:CP-7:connectivity"


def test_a_healthy_port_ends_a_charger_wide_fault(db_session: Session) -> None:
    charger_fault = fault(0, Category.INTERNAL_ERROR, connector=0, rule="kb_exact")
    changes = feed(db_session, charger_fault, ok(2, connector=1), Clock(at(12)))
    assert changes == [("opened", "internal_error"), ("resolved", "recovered:2min")]
    assert stored(db_session)[0].open_key is None


def test_a_healthy_signal_of_another_port_does_not_end_this_one(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(1, connector=1), Clock(at(30)))
    assert changes == [("opened", "ground_fault")]


# --- site incidents ------------------------------------------------------------------


def test_site_incident_lists_each_port_once(db_session: Session) -> None:
    feed(
        db_session,
        fault(0, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power"),
        fault(1, Category.POWER_LOSS, charger="CP-2", connector=None, rule="site_power"),
        fault(2, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power"),
    )
    (inc,) = stored(db_session)
    assert inc.scope == "site" and inc.charger is None and inc.site == SITE
    assert inc.ports == [["CP-1", 1, None], ["CP-2", 0, None]]
    assert inc.occurrences == 3


def test_charger_wide_recovery_clears_every_port_of_that_charger(db_session: Session) -> None:
    changes = feed(
        db_session,
        fault(0, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power"),
        fault(0, Category.POWER_LOSS, charger="CP-1", connector=2, rule="site_power"),
        fault(0, Category.POWER_LOSS, charger="CP-2", connector=1, rule="site_power"),
        ok(3, charger="CP-1", connector=0),
    )
    assert [k for k, _ in changes] == ["opened", "updated", "escalated"]  # third: recurring
    (inc,) = stored(db_session)
    assert inc.ports == [
        ["CP-1", 1, at(3).isoformat()],
        ["CP-1", 2, at(3).isoformat()],
        ["CP-2", 1, None],
    ]
    assert inc.recovering_since is None
    # the last port back decides when the site recovered
    changes = feed(db_session, ok(5, charger="CP-2", connector=1), Clock(at(15)))
    assert changes == [("resolved", "recovered:5min")]
    assert stored(db_session)[0].resolved_at == at(5)


def test_site_port_faulting_again_is_no_longer_recovering(db_session: Session) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    feed(
        db_session,
        fault(0, charger="CP-1", connector=1, **site),  # type: ignore[arg-type]
        fault(0, charger="CP-2", connector=1, **site),  # type: ignore[arg-type]
        ok(2, charger="CP-1", connector=1),
        fault(3, charger="CP-1", connector=1, **site),  # type: ignore[arg-type]
    )
    (inc,) = stored(db_session)
    assert inc.ports == [["CP-1", 1, None], ["CP-2", 1, None]]


def test_signal_of_a_charger_outside_the_site_incident_changes_nothing(db_session: Session) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    feed(db_session, fault(0, charger="CP-1", connector=1, **site))  # type: ignore[arg-type]
    assert feed(db_session, ok(2, charger="CP-9", connector=1), Clock(at(30))) == []
    (inc,) = stored(db_session)
    assert inc.ports == [["CP-1", 1, None]] and inc.open_key is not None


def test_site_signal_not_after_the_last_update_is_ignored(db_session: Session) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    feed(db_session, fault(4, charger="CP-1", connector=1, **site))  # type: ignore[arg-type]
    assert feed(db_session, ok(4, charger="CP-1", connector=1), Clock(at(30))) == []
    assert stored(db_session)[0].ports == [["CP-1", 1, None]]


# --- re-diagnoses --------------------------------------------------------------------


def test_phantom_rediagnosis_of_one_of_several_occurrences_only_uncounts_it(
    db_session: Session,
) -> None:
    first, second = fault(0), fault(1)
    again = fault(1, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=second.fingerprint)
    again.diagnosis.supersedes = True
    changes = feed(db_session, first, second, again)
    assert changes == [
        ("opened", "ground_fault"),
        ("updated", "occurrences:2"),
        ("updated", "phantom_occurrence"),
    ]
    (inc,) = stored(db_session)
    assert inc.occurrences == 1 and inc.open_key is not None and not inc.suppressed


def test_phantom_rediagnosis_in_a_later_batch_finds_the_stored_row(db_session: Session) -> None:
    first = fault(0)
    feed(db_session, first)
    again = fault(2, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=first.fingerprint)
    again.diagnosis.supersedes = True
    assert feed(db_session, again) == [("resolved", "phantom:2min")]
    (inc,) = stored(db_session)
    assert inc.suppressed and inc.resolved_by == "phantom" and inc.resolved_at == at(2)


def test_phantom_rediagnosis_of_a_message_without_incident_opens_nothing(
    db_session: Session,
) -> None:
    again = fault(2, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint="never-seen")
    again.diagnosis.supersedes = True
    assert feed(db_session, again) == []
    assert stored(db_session) == []
    (row,) = db_session.scalars(select(DiagnosisRow)).all()
    assert row.incident_id is None and row.rule == "phantom_boot_fault"


def test_better_explanation_on_the_same_slot_keeps_the_incident(db_session: Session) -> None:
    first = fault(0)
    better = fault(1, Category.HIGH_TEMPERATURE, rule="kb_better", fingerprint=first.fingerprint)
    better.diagnosis.supersedes = True
    changes = feed(db_session, first, better)
    assert changes == [
        ("opened", "ground_fault"),
        ("cause_changed", "ground_fault->high_temperature"),
    ]
    (inc,) = stored(db_session)
    assert inc.open_key == "port:CP-7:2:high_temperature"


def test_site_wide_explanation_of_a_recurring_port_fault_keeps_the_port_incident(
    db_session: Session,
) -> None:
    first, second = fault(0, Category.UNDER_VOLTAGE), fault(1, Category.UNDER_VOLTAGE)
    site_wide = fault(2, Category.UNDER_VOLTAGE, rule="site_wide_cause",
                      fingerprint=second.fingerprint)
    site_wide.diagnosis.supersedes = True
    changes = feed(db_session, first, second, site_wide)
    assert [k for k, _ in changes] == ["opened", "updated", "opened"]
    port, site = stored(db_session)
    assert port.open_key == "port:CP-7:2:under_voltage"
    assert site.open_key == f"site:{SITE}:under_voltage"


# --- rows ----------------------------------------------------------------------------


def test_time_based_rows_differ_by_time_and_repeat_as_one(db_session: Session) -> None:
    def tick(minute: float) -> Finding:
        return fault(minute, Category.CONNECTIVITY, connector=None, rule="silent_charger",
                     fingerprint="")

    feed(db_session, tick(0), tick(1))
    feed(db_session, tick(1))
    rows = db_session.scalars(select(DiagnosisRow).order_by(DiagnosisRow.ts)).all()
    assert [r.ts for r in rows] == [at(0), at(1)]
    assert all(len(r.message_fingerprint) == 64 for r in rows)


def test_flush_rows_counts_what_it_wrote(db_session: Session) -> None:
    mgr = manager(db_session)
    mgr.apply([fault(0), fault(1, suppressed=True)])
    assert mgr.flush_rows() == 2
    assert mgr.flush_rows() == 0
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(DiagnosisRow)) == 2


def test_rows_carry_the_diagnosis_and_its_incident(db_session: Session) -> None:
    f = fault(0, severity=Severity.SAFETY)
    f.model = "Wallbox X"
    feed(db_session, f)
    (row,) = db_session.scalars(select(DiagnosisRow)).all()
    (inc,) = stored(db_session)
    assert (row.charger, row.connector, row.category, row.severity, row.owner) == (
        "CP-7", 2, "ground_fault", "safety", "site_staff"
    )
    assert row.incident_id == inc.id and row.model == "Wallbox X" and inc.model == "Wallbox X"
    assert row.body["rule"] == "kb_exact" and not row.suppressed


# --- a second manager continues where the first stopped -------------------------------


def test_a_new_manager_continues_the_open_incident(db_session: Session) -> None:
    feed(db_session, fault(0))
    assert feed(db_session, fault(1)) == [("updated", "occurrences:2")]
    assert len(stored(db_session)) == 1


def test_a_new_manager_continues_the_open_site_incident(db_session: Session) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    feed(db_session, fault(0, charger="CP-1", connector=1, **site))  # type: ignore[arg-type]
    changes = feed(db_session, fault(1, charger="CP-2", connector=1, **site))  # type: ignore[arg-type]
    assert changes == [("updated", "occurrences:2")]
    (inc,) = stored(db_session)
    assert inc.ports == [["CP-1", 1, None], ["CP-2", 1, None]]


# --- people --------------------------------------------------------------------------


def test_people_helpers_say_what_they_did(db_session: Session) -> None:
    feed(db_session, fault(0))
    (inc,) = stored(db_session)
    now = at(30)
    ack = acknowledge(db_session, inc.id, "U7", now)
    assert (ack.incident_id, ack.kind, ack.at, ack.detail) == (inc.id, "acknowledged", now, "U7")
    until = at(90)
    sn = snooze(db_session, inc.id, until, now)
    assert (sn.kind, sn.at, sn.detail) == ("snoozed", now, until.isoformat())
    db_session.commit()
    (inc,) = stored(db_session)
    assert inc.acked_at == now and inc.snoozed_until == until


def test_resolving_twice_keeps_the_first_resolution(db_session: Session) -> None:
    feed(db_session, fault(0))
    (inc,) = stored(db_session)
    resolve(db_session, inc.id, "U1", at(20))
    db_session.commit()
    change = resolve(db_session, inc.id, "U2", at(50))
    db_session.commit()
    assert change.at == at(20) and change.detail == "U2:manual"
    (inc,) = stored(db_session)
    assert inc.resolved_by == "U1" and inc.resolved_at == at(20)


def test_unknown_incident_id_is_not_found(db_session: Session) -> None:
    with pytest.raises(IncidentNotFound, match="no incident #999"):
        acknowledge(db_session, 999, "U1", at(0))


def test_open_incidents_oldest_first_and_by_charger(db_session: Session) -> None:
    feed(db_session, fault(5, charger="CP-B"), fault(1, charger="CP-A"), fault(3, charger="CP-C"))
    feed(db_session, ok(6, charger="CP-C"), Clock(at(20)))
    assert [i.charger for i in open_incidents(db_session)] == ["CP-A", "CP-B"]
    assert [i.charger for i in open_incidents(db_session, ["CP-B", "CP-C"])] == ["CP-B"]
    assert open_incidents(db_session, []) == []


# --- a resolved incident leaves its slot free within the same batch --------------------


def test_after_a_clock_resolution_the_next_fault_opens_a_new_incident(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(1), Clock(at(11)), fault(20))
    assert changes == [
        ("opened", "ground_fault"),
        ("resolved", "recovered:1min"),
        ("opened", "ground_fault"),
    ]
    first, second = stored(db_session)
    assert first.occurrences == 1 and second.occurrences == 1


def test_after_contact_the_next_silence_is_a_new_incident(db_session: Session) -> None:
    def silent(minute: float) -> Finding:
        return fault(minute, Category.CONNECTIVITY, connector=None, rule="silent_charger")

    changes = feed(db_session, silent(0), contact(5), silent(30))
    assert changes == [
        ("opened", "connectivity"),
        ("resolved", "recovered:5min"),
        ("opened", "connectivity"),
    ]
    assert [i.open_key for i in stored(db_session)] == [None, "charger:CP-7:connectivity"]


def test_after_a_phantom_withdrawal_the_next_fault_opens_anew(db_session: Session) -> None:
    first = fault(0)
    again = fault(0, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=first.fingerprint)
    again.diagnosis.supersedes = True
    changes = feed(db_session, first, again, fault(3))
    assert changes == [
        ("opened", "ground_fault"),
        ("resolved", "phantom:0min"),
        ("opened", "ground_fault"),
    ]
    withdrawn, real = stored(db_session)
    assert withdrawn.suppressed and not real.suppressed and real.open_key is not None


def test_after_a_fold_into_the_site_the_port_fault_opens_again(db_session: Session) -> None:
    first = fault(0, Category.UNDER_VOLTAGE)
    site_wide = fault(1, Category.UNDER_VOLTAGE, rule="site_wide_cause",
                      fingerprint=first.fingerprint)
    site_wide.diagnosis.supersedes = True
    changes = feed(db_session, first, site_wide, fault(2, Category.UNDER_VOLTAGE))
    assert [k for k, _ in changes] == ["opened", "resolved", "opened", "opened"]
    port, site, port_again = stored(db_session)
    assert port.open_key is None and port.resolved_by == "merged"
    assert site.open_key == f"site:{SITE}:under_voltage"
    assert port_again.open_key == "port:CP-7:2:under_voltage"


def test_recovery_tracked_in_the_batch_resolves_on_the_batch_clock(db_session: Session) -> None:
    # the first Clock loads nothing; the healthy report itself must schedule the resolution
    changes = feed(db_session, Clock(at(-1)), fault(0), ok(3), Clock(at(13)))
    assert changes == [("opened", "ground_fault"), ("resolved", "recovered:3min")]


def test_site_recovery_tracked_in_the_batch_resolves_on_the_batch_clock(
    db_session: Session,
) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    changes = feed(
        db_session,
        Clock(at(-1)),
        fault(0, charger="CP-1", connector=1, **site),  # type: ignore[arg-type]
        ok(2, charger="CP-1", connector=1),
        Clock(at(12)),
    )
    assert changes == [("opened", "power_loss"), ("resolved", "recovered:2min")]


def test_healthy_at_the_very_moment_of_the_fault_starts_the_recovery(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(0), Clock(at(10)))
    assert changes == [("opened", "ground_fault"), ("resolved", "recovered:0min")]


def test_new_cause_after_recovery_resolves_at_the_recovery(db_session: Session) -> None:
    changes = feed(db_session, fault(0), ok(4), fault(6, Category.HIGH_TEMPERATURE))
    assert changes == [
        ("opened", "ground_fault"),
        ("resolved", "recovered:4min"),
        ("opened", "high_temperature"),
    ]


def test_phantom_withdraws_one_of_three_occurrences(db_session: Session) -> None:
    events = [fault(0), fault(1), fault(2)]
    again = fault(2, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=events[2].fingerprint)
    again.diagnosis.supersedes = True
    feed(db_session, *events, again)
    (inc,) = stored(db_session)
    assert inc.occurrences == 2


def test_rediagnosis_of_a_message_that_opened_nothing_touches_no_incident(
    db_session: Session,
) -> None:
    quiet = fault(1, Category.INTERNAL_ERROR, rule="phantom", suppressed=True)
    again = fault(1, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=quiet.fingerprint)
    again.diagnosis.supersedes = True
    changes = feed(db_session, fault(0), quiet, again)
    assert changes == [("opened", "ground_fault")]
    (inc,) = stored(db_session)
    assert inc.open_key is not None and not inc.suppressed and inc.occurrences == 1


def test_site_rediagnosis_on_the_same_site_is_no_fold(db_session: Session) -> None:
    mgr = IncidentManager(db_session, site_of=lambda c: f"site of {c}")
    first = fault(0, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power")
    again = fault(1, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power_v2",
                  fingerprint=first.fingerprint)
    again.diagnosis.supersedes = True
    changes = mgr.apply([first, again])
    assert [(c.kind, c.detail) for c in changes] == [
        ("opened", "power_loss"), ("updated", "occurrences:2")
    ]
    db_session.flush()
    (inc,) = stored(db_session)
    assert inc.open_key == "site:site of CP-1:power_loss"


def test_a_stored_incident_of_unknown_severity_is_outranked_by_any(db_session: Session) -> None:
    feed(db_session, fault(0))
    (inc,) = stored(db_session)
    inc.severity = "no-such-severity"
    db_session.commit()
    changes = feed(db_session, fault(1, severity=Severity.ADVISORY))
    assert changes == [("escalated", "no-such-severity->advisory")]


def test_changes_carry_the_incident_and_the_event_time(db_session: Session) -> None:
    mgr = manager(db_session)
    events: list[Finding | Signal | Clock] = [
        fault(0),
        fault(1, severity=Severity.SAFETY),
        fault(2),
        fault(3, Category.UNKNOWN, rule="unknown"),
        fault(4, Category.HIGH_TEMPERATURE),
        ok(5),
        fault(6, Category.HIGH_TEMPERATURE),
        ok(7),
        fault(8, Category.HIGH_TEMPERATURE),
        ok(9),
        fault(10, Category.HIGH_TEMPERATURE),
        ok(11),
        Clock(at(30)),
    ]
    changes = mgr.apply(events)
    (inc,) = stored(db_session)
    assert [(c.incident_id, c.kind, c.at, c.detail) for c in changes] == [
        (inc.id, "opened", at(0), "ground_fault"),
        (inc.id, "escalated", at(1), "outage->safety"),
        (inc.id, "escalated", at(2), "recurring:3"),
        (inc.id, "updated", at(3), "unknown_kept_cause"),
        (inc.id, "cause_changed", at(4), "ground_fault->high_temperature"),
        (inc.id, "updated", at(6), "occurrences:6"),
        (inc.id, "updated", at(8), "occurrences:7"),
        (inc.id, "escalated", at(10), "flapping:3"),
        (inc.id, "resolved", at(11), "recovered:11min"),
    ]


def test_people_changes_name_the_incident(db_session: Session) -> None:
    feed(db_session, fault(0), fault(1, charger="CP-8"))
    first, second = stored(db_session)
    assert resolve(db_session, second.id, "U1", at(9)).incident_id == second.id
    assert snooze(db_session, first.id, at(99), at(9)).incident_id == first.id


def test_a_new_incident_records_its_port(db_session: Session) -> None:
    feed(db_session, fault(0, connector=3))
    (inc,) = stored(db_session)
    assert (inc.scope, inc.charger, inc.connector, inc.site) == ("port", "CP-7", 3, SITE)
    assert (inc.occurrences, inc.flaps, inc.suppressed, inc.flapping) == (1, 0, False, False)


def test_rediagnosis_of_an_earlier_quiet_message_ignores_later_incidents(
    db_session: Session,
) -> None:
    quiet = fault(0, Category.INTERNAL_ERROR, rule="phantom", suppressed=True)
    again = fault(0, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=quiet.fingerprint)
    again.diagnosis.supersedes = True
    assert feed(db_session, quiet, fault(1), again) == [("opened", "ground_fault")]
    (inc,) = stored(db_session)
    assert inc.open_key is not None and not inc.suppressed


def test_an_uncounted_phantom_occurrence_is_dated_by_its_rediagnosis(db_session: Session) -> None:
    first, second = fault(0), fault(1)
    again = fault(4, Category.INTERNAL_ERROR, rule="phantom_boot_fault", suppressed=True,
                  fingerprint=second.fingerprint)
    again.diagnosis.supersedes = True
    changes = manager(db_session).apply([first, second, again])
    assert [(c.kind, c.at, c.detail) for c in changes][-1] == (
        "updated", at(4), "phantom_occurrence"
    )


# --- what a new incident and its rows record -------------------------------------------


def test_without_a_site_map_each_charger_is_its_own_site(db_session: Session) -> None:
    mgr = IncidentManager(db_session)
    mgr.apply([fault(0, Category.POWER_LOSS, charger="CP-1", connector=1, rule="site_power")])
    db_session.flush()
    (inc,) = stored(db_session)
    assert inc.site == "CP-1" and inc.open_key == "site:CP-1:power_loss"


def test_site_signals_find_the_site_of_their_charger(db_session: Session) -> None:
    mgr = IncidentManager(db_session, site_of=lambda c: f"yard of {c[:4]}")
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    changes = mgr.apply([
        fault(0, charger="CP-1a", connector=1, **site),  # type: ignore[arg-type]
        ok(2, charger="CP-1a", connector=1),
        Clock(at(12)),
    ])
    assert [(c.kind, c.detail) for c in changes] == [
        ("opened", "power_loss"), ("resolved", "recovered:2min")
    ]


def test_another_port_faulting_keeps_the_recovered_ports_time(db_session: Session) -> None:
    site = {"category": Category.POWER_LOSS, "rule": "site_power"}
    feed(
        db_session,
        fault(0, charger="CP-1", connector=1, **site),  # type: ignore[arg-type]
        fault(0, charger="CP-2", connector=1, **site),  # type: ignore[arg-type]
        ok(2, charger="CP-2", connector=1),
        fault(3, charger="CP-1", connector=1, **site),  # type: ignore[arg-type]
    )
    (inc,) = stored(db_session)
    assert inc.ports == [["CP-1", 1, None], ["CP-2", 1, at(2).isoformat()]]


def test_long_rule_names_are_cut_to_sixty_and_the_diagnosis_is_kept(db_session: Session) -> None:
    f = fault(0, rule="r" * 70, fingerprint="msg-long-rule")
    feed(db_session, f)
    (inc,) = stored(db_session)
    (row,) = db_session.scalars(select(DiagnosisRow)).all()
    assert inc.rule == "r" * 60 and row.rule == "r" * 60
    assert inc.diagnosis == f.diagnosis.to_json()
    assert (inc.summary, inc.action, inc.owner, inc.confidence) == (
        "ground_fault at CP-7", "check the port", "site_staff", 0.8
    )


def test_a_finding_takes_the_fingerprint_its_diagnosis_carries(db_session: Session) -> None:
    f = fault(0, fingerprint="")
    f.diagnosis.message_fingerprint = "msg-abc"
    again = Finding(f.diagnosis)
    assert again.fingerprint == "msg-abc" and again.row_fingerprint() == "msg-abc"
    feed(db_session, again)
    (row,) = db_session.scalars(select(DiagnosisRow)).all()
    assert row.message_fingerprint == "msg-abc"


def test_nothing_is_kept_when_the_caller_rolls_back(db_session: Session) -> None:
    mgr = manager(db_session)
    mgr.apply([fault(0)])
    db_session.rollback()
    assert stored(db_session) == []


def test_a_worker_that_lost_the_race_merges_into_the_winner(postgres_url: str) -> None:
    """Deterministic version of the race: B looked before A committed, inserts after."""
    engine = make_engine(postgres_url)
    truncate_all(engine)
    make = make_sessionmaker(engine)
    try:
        with make() as a_session, make() as b_session:
            b = manager(b_session)
            b.preload(["CP-7"])  # nothing open yet
            a = manager(a_session)
            a.apply([fault(0)])
            a_session.commit()
            changes = b.apply([fault(1)])
            b_session.commit()
            assert [(c.kind, c.detail) for c in changes] == [("updated", "occurrences:2")]
            (inc,) = stored(b_session)
            assert inc.occurrences == 2 and inc.open_key == "port:CP-7:2:ground_fault"
            assert changes[0].incident_id == inc.id
    finally:
        truncate_all(engine)
        engine.dispose()


# --- a batch naming most of a fleet (one query for every open incident) ---------------


def _fleet_contacts(minute: float, n: int = 600) -> list[Signal]:
    return [contact(minute, charger=f"CP-F{i}") for i in range(n)]


def test_a_fleet_sized_batch_finds_open_incidents_of_its_chargers(db_session: Session) -> None:
    silent = fault(0, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    feed(db_session, fault(0), silent)
    changes = feed(db_session, *_fleet_contacts(1), contact(2), fault(3))
    assert changes == [("resolved", "recovered:2min"), ("updated", "occurrences:2")]
    port, charger = stored(db_session)
    assert port.occurrences == 2 and charger.open_key is None


def test_a_fleet_sized_batch_leaves_other_chargers_incidents_alone(db_session: Session) -> None:
    silent = fault(0, Category.CONNECTIVITY, connector=None, rule="silent_charger")
    feed(db_session, silent, fault(0, charger="CP-8"), ok(1, charger="CP-8"))
    changes = feed(db_session, *_fleet_contacts(2), fault(3, charger="CP-9"))
    assert changes == [("opened", "ground_fault")]
    assert [i.open_key is not None for i in stored(db_session)] == [True, True, True]
