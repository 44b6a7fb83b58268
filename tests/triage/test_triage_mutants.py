"""Edges of the time-window rules that the other triage tests never reach.

silent_charger allows misses x heartbeat interval *plus a grace period*; vehicle_following
counts only faults within its window (7 days). Each test sits on both sides of the edge,
so dropping the grace or the window changes an answer.
"""

from __future__ import annotations

from datetime import timedelta

from test_triage_history_rules import ev_fault_in_session
from triage_frames import T0, Feed, engine

DAY = 86_400.0


def test_silent_charger_waits_out_the_grace_period() -> None:
    # Heartbeat every 300 s, 3 misses allowed, 120 s grace: silent after 1020 s, not before.
    f = Feed(engine(silent_misses=3, silent_grace_s=120))
    f.boot("CP-G", "Alfen BV", "NG910-60023", 0, interval=300)
    f.heartbeat("CP-G", 100)
    last = T0 + timedelta(seconds=100)
    assert f.engine.tick(last + timedelta(seconds=900 + 60)) == []  # inside the grace
    assert f.engine.tick(last + timedelta(seconds=900 + 120)) == []  # its last second
    (silent,) = f.engine.tick(last + timedelta(seconds=900 + 121))
    assert silent.rule == "silent_charger" and silent.charger == "CP-G"


def test_a_longer_grace_is_honoured() -> None:
    f = Feed(engine(silent_misses=2, silent_grace_s=1800))
    f.boot("CP-L", "Alfen BV", "NG910-60023", 0, interval=60)
    assert f.engine.tick(T0 + timedelta(seconds=120 + 1799)) == []
    assert len(f.engine.tick(T0 + timedelta(seconds=120 + 1801))) == 1


def test_vehicle_faults_older_than_the_window_do_not_count() -> None:
    f = Feed(engine())
    ev_fault_in_session(f, "CP-1", "TAG-OLD", 1, 0)
    ev_fault_in_session(f, "CP-2", "TAG-OLD", 2, 8 * DAY)
    d = ev_fault_in_session(f, "CP-3", "TAG-OLD", 3, 8 * DAY + 3600)
    # CP-1's fault is 8 days old: only one other charger is within the 7-day window.
    assert d.rule != "vehicle_following"


def test_vehicle_faults_just_inside_the_window_count() -> None:
    f = Feed(engine())
    ev_fault_in_session(f, "CP-1", "TAG-NEW", 1, 0)
    ev_fault_in_session(f, "CP-2", "TAG-NEW", 2, 3 * DAY)
    d = ev_fault_in_session(f, "CP-3", "TAG-NEW", 3, 7 * DAY - 3600)
    assert d.rule == "vehicle_following"
    assert any("CP-1, CP-2, CP-3" in e for e in d.evidence)


def test_a_shorter_configured_window_is_honoured() -> None:
    f = Feed(engine(vehicle_window_s=DAY))
    ev_fault_in_session(f, "CP-1", "TAG-W", 1, 0)
    ev_fault_in_session(f, "CP-2", "TAG-W", 2, 2 * DAY)
    assert ev_fault_in_session(f, "CP-3", "TAG-W", 3, 2 * DAY + 600).rule != "vehicle_following"


def test_a_late_fault_from_long_before_is_not_joined_to_recent_ones() -> None:
    # CP-1 and CP-2 fault under one idTag now; CP-3's fault under the same tag arrives
    # late, from 8 days earlier. Pruning only drops records older than the newest, so
    # the rule's own window is what keeps the late one from completing the pattern.
    f = Feed(engine())
    ev_fault_in_session(f, "CP-1", "TAG-LATE", 1, 8 * DAY)
    ev_fault_in_session(f, "CP-2", "TAG-LATE", 2, 8 * DAY + 3600)
    late = ev_fault_in_session(f, "CP-3", "TAG-LATE", 3, 0)
    assert late.rule != "vehicle_following"
    near = ev_fault_in_session(f, "CP-4", "TAG-LATE", 4, 2 * DAY)
    assert near.rule == "vehicle_following"  # 6 days from the others: inside


def test_vehicle_following_says_exactly_what_it_found() -> None:
    f = Feed(engine())
    for n in range(1, 3):
        ev_fault_in_session(f, f"CP-{n}", "TAG-A", n, n * 600)
    d = ev_fault_in_session(f, "CP-3", "TAG-A", 3, 3 * 600)
    assert (d.rule, d.severity, d.owner, d.confidence) == (
        "vehicle_following", "advisory", "vehicle_oem", 0.75)
    assert d.summary == (
        "The same vehicle (idTag TAG-A) had an EV communication fault on 3 different "
        "chargers; the vehicle is the likely cause and the charger is probably fine.")
    assert d.action == (
        "Nothing to fix on the charger: tell the driver (idTag TAG-A) and raise the "
        "charger-vehicle compatibility issue with the vehicle maker.")
    assert d.evidence[-1] == (
        "idTag TAG-A had an EV communication fault on CP-1, CP-2, CP-3 within 7 days")
    # Each further charger adds confidence, up to 0.9 and no further.
    got = [ev_fault_in_session(f, f"CP-{n}", "TAG-A", n, n * 600).confidence
           for n in range(4, 8)]
    assert got == [0.8, 0.85, 0.9, 0.9]


def test_the_window_in_days_is_said_as_configured() -> None:
    f = Feed(engine(vehicle_window_s=3.5 * DAY))
    for n in range(1, 4):
        d = ev_fault_in_session(f, f"CP-{n}", "TAG-D", n, n * 600)
    assert d.evidence[-1].endswith("within 4 days"), d.evidence


def test_a_fault_exactly_one_window_before_still_counts() -> None:
    f = Feed(engine())
    ev_fault_in_session(f, "CP-1", "TAG-EDGE", 1, 7 * DAY)
    ev_fault_in_session(f, "CP-2", "TAG-EDGE", 2, 7 * DAY)
    late = ev_fault_in_session(f, "CP-3", "TAG-EDGE", 3, 0)  # exactly 7 days before both
    assert late.rule == "vehicle_following"


def test_a_non_vehicle_fault_under_the_same_idtag_is_not_blamed_on_the_vehicle() -> None:
    f = Feed(engine())
    ev_fault_in_session(f, "CP-1", "TAG-G", 1, 0)
    ev_fault_in_session(f, "CP-2", "TAG-G", 2, 600)
    f.start("CP-3", 1, "TAG-G", 3, 1000, 1200)
    ground = f.fault("CP-3", 1, 1230, error="GroundFailure")
    assert ground.rule != "vehicle_following" and ground.category == "ground_fault"


def test_silent_charger_says_exactly_what_it_knows() -> None:
    f = Feed(engine())
    f.boot("CP-S", "Alfen BV", "NG910-60023", 0, interval=300)
    (s,) = f.engine.tick(T0 + timedelta(seconds=2000))
    assert (s.severity, s.owner, s.confidence) == ("outage", "remote_operator", 0.9)
    assert s.summary == (
        "The charger has sent nothing since Nov 20 08:00 UTC (it should send a heartbeat "
        "every 5 min); "
        "it is offline or has lost its connection.")
    assert s.action == (
        "Check the charger's power and network link (SIM, router, signal); reset it "
        "remotely once it reconnects, or send someone if it stays dark.")
    assert s.evidence == [
        "last message at 2026-11-20 08:00:00 UTC, found silent after 33 min without a "
        "message; heartbeat interval 5 min "
        "(from the BootNotification reply), 3 missed heartbeats allowed"]


def test_silent_charger_says_when_the_interval_is_assumed() -> None:
    f = Feed(engine(silent_misses=2))
    f.heartbeat("CP-Q", 0)
    (s,) = f.engine.tick(T0 + timedelta(hours=4))
    assert "every 60 min" in s.summary
    assert s.evidence == [
        "last message at 2026-11-20 08:00:00 UTC, found silent after 4 h without a message; "
        "heartbeat interval 60 min "
        "(assumed, never announced), 2 missed heartbeats allowed"]
