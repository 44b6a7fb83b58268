"""Rules that read history: vehicle_following, recurrence, flapping, fault_while_charging."""

from __future__ import annotations

from datetime import timedelta

from triage_frames import T0, Feed, engine

HOUR = 3600.0


def ev_fault_in_session(f: Feed, charger: str, tag: str, tx: int, t: float):
    f.start(charger, 1, tag, tx, 1000, t)
    d = f.fault(charger, 1, t + 30, error="EVCommunicationError")
    f.stop(charger, tx, 1000, t + 40)
    f.status(charger, 1, "Available", t + 60)
    return d


def test_ev_comm_faults_following_one_idtag_across_three_chargers() -> None:
    f = Feed(engine())
    d1 = ev_fault_in_session(f, "CP-1", "TAG-A", 1, 0)
    d2 = ev_fault_in_session(f, "CP-2", "TAG-A", 2, HOUR)
    assert d1.rule != "vehicle_following" and d2.rule != "vehicle_following"
    n = len(f.diagnoses)
    d3 = ev_fault_in_session(f, "CP-3", "TAG-A", 3, 2 * HOUR)
    assert d3.rule == "vehicle_following" and d3.owner == "vehicle_oem"
    assert d3.category == "ev_communication"
    assert "TAG-A" in d3.summary
    assert any("CP-1, CP-2, CP-3" in e for e in d3.evidence)
    # the earlier two are re-diagnosed: it was the vehicle all along
    redone = [d for d in f.diagnoses[n:] if d.supersedes]
    assert {d.charger for d in redone} == {"CP-1", "CP-2"}
    assert all(d.rule == "vehicle_following" for d in redone)


def test_one_vehicle_on_one_charger_is_not_vehicle_following() -> None:
    f = Feed(engine())
    for i in range(4):
        d = ev_fault_in_session(f, "CP-1", "TAG-A", i + 1, i * HOUR)
    assert d.rule != "vehicle_following"


def test_different_vehicles_on_three_chargers_is_not_vehicle_following() -> None:
    f = Feed(engine())
    for i in range(3):
        d = ev_fault_in_session(f, f"CP-{i}", f"TAG-{i}", i + 1, i * HOUR)
    assert d.rule != "vehicle_following"


def lock_fault(f: Feed, t: float):
    d = f.fault("CP-7", 2, t, error="ConnectorLockFailure")
    f.status("CP-7", 2, "Available", t + 120)
    return d


def test_connector_lock_three_times_in_72h_escalates_to_vendor_service() -> None:
    f = Feed(engine())
    a, b, c = (lock_fault(f, t * HOUR) for t in (0, 20, 44))
    assert a.category == b.category == c.category == "connector_lock"
    assert a.rule != "recurrence" and b.rule != "recurrence"
    assert c.rule == "recurrence" and c.owner == "vendor_service"
    assert any("3rd connector lock failure on this port in 72 h" in e for e in c.evidence)


def test_connector_lock_spread_over_weeks_does_not_escalate() -> None:
    f = Feed(engine())
    for day in (0, 5, 10, 15):
        d = lock_fault(f, day * 24 * HOUR)
    assert d.rule != "recurrence"


def flap(f: Feed, n: int, start: float = 0) -> list:
    out = []
    for i in range(n):
        out.append(f.fault("CP-9", 1, start + i * 600, error="OtherError", code="0x0200",
                           vendor_id="Acme EV"))
        f.status("CP-9", 1, "Available", start + i * 600 + 60)
    return out


def test_four_cycles_in_an_hour_is_flapping() -> None:
    f = Feed(engine())
    ds = flap(f, 5)
    assert [d.flapping for d in ds] == [False, False, False, True, True]
    assert ds[3].rule == "flapping"
    assert any("4th Faulted onset on this port in 60 min" in e for e in ds[3].evidence)
    assert f.engine.is_flapping("CP-9", 1)
    assert [(i.charger, i.connector) for i in f.engine.flapping_ports()] == [("CP-9", 1)]
    # it calms down: an hour without onsets clears the flag
    f.engine.tick(T0 + timedelta(seconds=5 * 600 + 2 * HOUR))
    assert not f.engine.is_flapping("CP-9", 1)


def test_three_flaps_is_not_flapping() -> None:
    f = Feed(engine())
    ds = flap(f, 3)
    assert not any(d.flapping for d in ds)
    assert not f.engine.flapping_ports()


def test_faulted_while_meter_keeps_rising_becomes_a_suppressed_advisory() -> None:
    f = Feed(engine())
    f.start("CP-5", 1, "TAG-F", 55, 10_000, 0)
    f.status("CP-5", 1, "Charging", 5)
    first = f.fault("CP-5", 1, 600, error="OtherError", code="FAN_WARN", vendor_id="Acme EV")
    n = len(f.diagnoses)
    for i in range(1, 8):
        f.meter("CP-5", 1, 55, 10_000 + i * 1200, 600 + i * 300)
    later = [d for d in f.diagnoses[n:] if d.supersedes]
    assert len(later) == 1
    d = later[0]
    assert d.rule == "fault_while_charging" and d.suppressed and d.severity == "advisory"
    assert d.message_fingerprint == first.message_fingerprint
    assert any(e.startswith("meter rose") and "kWh while Faulted" in e for e in d.evidence)


def test_faulted_with_a_flat_meter_stays_an_outage() -> None:
    f = Feed(engine())
    f.start("CP-5", 1, "TAG-F", 55, 10_000, 0)
    f.fault("CP-5", 1, 600, error="OtherError", code="FAN_WARN", vendor_id="Acme EV")
    n = len(f.diagnoses)
    for i in range(1, 8):
        f.meter("CP-5", 1, 55, 10_000 + i * 10, 600 + i * 300)
    assert f.diagnoses[n:] == []
