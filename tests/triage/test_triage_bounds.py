"""Memory stays bounded: LRU of chargers, capped per-port history, drained side channels."""

from __future__ import annotations

from triage_frames import Feed, engine


def test_chargers_beyond_the_limit_are_forgotten_oldest_first() -> None:
    f = Feed(engine(max_chargers=50))
    for i in range(200):
        f.heartbeat(f"CP-{i:03d}", i)
    known = f.engine.chargers()
    assert len(known) == 50 and known[-1] == "CP-199" and "CP-000" not in known


def test_port_history_and_fault_records_are_capped() -> None:
    f = Feed(engine(max_port_history=10, max_port_faults=5, max_ignored=3))
    for i in range(40):
        f.status("CP-1", 1, "Faulted", i * 7200, error="ConnectorLockFailure")
        f.status("CP-1", 1, "Available", i * 7200 + 60)
    view = f.engine.port_view("CP-1", 1)
    assert view is not None
    assert len(view.history) == 10 and view.recent_faults == 5
    assert f.engine.port_view("CP-1", 7) is None and f.engine.charger_view("nope") is None


def test_unknown_code_buffer_is_bounded_when_nobody_drains_it() -> None:
    f = Feed(engine(max_pending_side_channel=10))
    for i in range(30):
        f.status("CP-2", 1, "Faulted", i * 60, error="OtherError", code=f"Z{i}",
                 vendor_id="Nobody Inc")
        f.status("CP-2", 1, "Available", i * 60 + 30)
    got = f.engine.recent_unknown_codes()
    assert len(got) == 10 and got[-1].code == "Z29"


def test_invented_connector_ids_are_diagnosed_but_not_kept() -> None:
    f = Feed(engine(max_ports_per_charger=4))
    for c in range(1, 20):
        d = f.fault("CP-3", c * 1000, c * 60, error="GroundFailure")
        assert d.category == "ground_fault" and d.connector == c * 1000
    view = f.engine.charger_view("CP-3")
    assert view is not None and len(view.ports) == 4


def test_sessions_that_never_stop_do_not_pile_up() -> None:
    f = Feed(engine(max_open_transactions=3))
    for i in range(10):
        f.start("CP-4", 1, f"TAG-{i}", 100 + i, 0, i * 60)
    assert len(f.engine._chargers["CP-4"].tx_ports) == 3
