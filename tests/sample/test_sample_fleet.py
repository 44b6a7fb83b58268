"""The synthetic benchmark fleet: seeded, time-ordered, parseable, realistic mix."""

from __future__ import annotations

import itertools
from collections import Counter

from bot.ocpp.events import StatusReport, TransactionUpdate
from bot.ocpp.parse import Parser
from bot.ocpp.readers import read_lines
from bot.sample.fleet import fleet_charger_ids, generate_fleet_lines


def test_ids() -> None:
    assert fleet_charger_ids(3) == ["FLT-00001", "FLT-00002", "FLT-00003"]


def test_deterministic_and_seeded() -> None:
    a = list(generate_fleet_lines(5, hours=6, seed=4))
    assert a == list(generate_fleet_lines(5, hours=6, seed=4))
    assert a != list(generate_fleet_lines(5, hours=6, seed=5))


def test_lazy() -> None:
    first = list(itertools.islice(generate_fleet_lines(2000, hours=240), 10))
    assert len(first) == 10


def test_parses_cleanly_in_order_with_a_realistic_mix() -> None:
    lines = list(generate_fleet_lines(30, hours=12, seed=2))
    messages, errors = Parser().parse_many(read_lines(lines, source="fleet"))
    assert errors == []
    assert len(messages) == len(lines)
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(messages))
    assert {m.charger for m in messages} == set(fleet_charger_ids(30))
    actions = Counter(m.action for m in messages if m.message_type == 2)
    assert actions["Heartbeat"] > actions["MeterValues"] + actions["TransactionEvent"] > 0
    assert actions["StatusNotification"] > actions["StartTransaction"] > 0
    assert actions["BootNotification"] >= 30 and actions["NotifyEvent"] >= 0
    assert {m.ocpp_version for m in messages} == {"1.6", "2.0.1"}
    # every CALL is answered, and its result correlates
    results = [m for m in messages if m.message_type == 3]
    assert len(results) == sum(actions.values())
    assert all(r.action for r in results)
    faults = [m.fact for m in messages if m.is_fault_bearing]
    assert faults, "half a day of 30 chargers has some faults"
    vendor_codes = {f.vendor_error_code for f in faults if isinstance(f, StatusReport)}
    assert vendor_codes - {None}
    assert all(not m.violations for m in messages)
    sessions = [m.fact for m in messages if isinstance(m.fact, TransactionUpdate)]
    assert any(s.kind == "update" and s.power_w for s in sessions)
