"""The whole sample feed through `faultbot explain --json`: contract 2, order, scenarios."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from click.testing import CliRunner
from triage_contract import check

from bot.cli.main import cli
from bot.kb.loader import default_knowledge
from bot.kb.matcher import Matcher
from bot.ocpp.parse import Parser
from bot.ocpp.readers import read_file
from bot.sample.generate import EXPECTED_BAD_LINES, SCENARIOS, write_sample
from bot.store.sites import SiteMap
from bot.triage.engine import TriageEngine
from bot.triage.explain import Replay, replay


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Any:
    paths = write_sample(tmp_path_factory.mktemp("sample"))
    result = CliRunner().invoke(cli, ["explain", "--json", str(paths.feed),
                                      "--sites", str(paths.sites)])
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in objs:
        by[o["charger"]].append(o)
    return paths, result, objs, by


@pytest.fixture(scope="module")
def messages(sample) -> list:
    parsed, _ = Parser().parse_many(read_file(sample[0].feed))
    return parsed


def test_every_object_is_contract_2_one_per_fault_bearing_message_in_order(
        sample, messages) -> None:
    _, result, objs, _ = sample
    assert result.exit_code == 1  # the deliberate bad lines
    assert len([x for x in result.stderr.splitlines() if ".jsonl:" in x]) == EXPECTED_BAD_LINES
    assert "(OCPP version inferred for" in result.stderr
    for o in objs:
        check(o)
    seen: set[str] = set()
    expected = []
    for m in messages:
        if m.fingerprint not in seen:
            seen.add(m.fingerprint)
            if m.is_fault_bearing:
                expected.append((m.charger, m.occurred_at.isoformat().replace("+00:00", "Z")))
    assert [(o["charger"], o["ts"]) for o in objs] == expected
    assert not any(o["rule"] == "rule_error" for o in objs)


def rules(by: dict, charger: str) -> list[str]:
    return [o["rule"] for o in by[charger]]


def test_estops_in_every_phrasing(sample) -> None:
    _, _, _, by = sample
    for cp in SCENARIOS["estop"]:
        hits = [o for o in by[cp] if o["rule"] == "estop_phrase"]
        assert hits, cp
        assert all(o["category"] == "emergency_stop" and o["owner"] == "site_staff"
                   and o["confidence"] >= 0.7 for o in hits)


def test_ground_faults(sample) -> None:
    _, _, _, by = sample
    (cp,) = SCENARIOS["ground_fault_repeat"]
    repeat = by[cp]
    assert all(o["category"] == "ground_fault" for o in repeat) and len(repeat) >= 2
    assert repeat[0]["severity"] != "safety"
    assert any(o["severity"] == "safety" and o["owner"] == "electrician" for o in repeat[1:])
    (cp,) = SCENARIOS["ground_fault_oneoff"]
    assert [(o["category"], o["severity"]) for o in by[cp]] == [("ground_fault", "outage")]


def test_site_voltage_dip_is_one_site_event(sample) -> None:
    _, _, _, by = sample
    dip = [o for cp in SCENARIOS["site_voltage_dip"] for o in by[cp]
           if o["category"] in ("under_voltage", "power_loss") or o["rule"] == "site_wide_cause"]
    assert {o["charger"] for o in dip} == set(SCENARIOS["site_voltage_dip"])
    assert all(o["rule"] == "site_wide_cause" for o in dip)
    assert len({(o["category"], o["owner"]) for o in dip}) == 1
    assert all("Depot North" in o["summary"] for o in dip)


def test_boot_phantoms_are_learned_and_ignored(sample) -> None:
    _, _, _, by = sample
    phantoms = [o for cp in SCENARIOS["boot_phantom"] for o in by[cp]
                if o["rule"] == "phantom_boot_fault"]
    assert len(phantoms) >= 6  # learned after the first boots of the model
    assert all(o["suppressed"] and "MaxiChargerAC" in o["summary"] for o in phantoms)
    (cp,) = SCENARIOS["quasar_after_boot"]
    assert by[cp] and all(o["rule"] == "phantom_boot_fault" for o in by[cp])


def test_history_scenarios(sample) -> None:
    _, _, _, by = sample
    (cp,) = SCENARIOS["faulted_while_charging"]
    assert any(o["rule"] == "fault_while_charging" and o["suppressed"]
               and o["severity"] == "advisory" for o in by[cp])
    (cp,) = SCENARIOS["connector_lock_recurring"]
    locks = by[cp]
    assert all(o["category"] == "connector_lock" for o in locks)
    assert locks[-1]["rule"] == "recurrence" and locks[-1]["owner"] == "vendor_service"
    for cp in SCENARIOS["ev_comm_follows_idtag"]:
        ev = [o for o in by[cp] if o["category"] == "ev_communication"]
        assert ev and all(o["rule"] == "vehicle_following" and o["owner"] == "vehicle_oem"
                          for o in ev), cp
    (cp,) = SCENARIOS["flapping"]
    flaps = rules(by, cp)
    assert len(flaps) >= 8 and "flapping" not in flaps[:3] and set(flaps[3:]) == {"flapping"}


def test_single_message_scenarios(sample) -> None:
    _, _, _, by = sample
    expect = {
        "reset_failure": ("reset_failure", "reset_failure", "site_staff"),
        "power_meter_failure": ("meter_failure", "power_meter", None),
        "reader_failure": ("reader_failure", "reader", None),
        "faulted_no_error": ("no_information", "unknown", None),
        "alfen_safe_mode": ("degraded_not_down", "connectivity", None),
        "dc_module_fault": ("kb_match", "power_module", None),
        "legrand_error": (None, "unknown", None),
    }
    for scenario, (rule, category, owner) in expect.items():
        cp = SCENARIOS[scenario][0]
        hits = [o for o in by[cp] if o["category"] == category
                and (rule is None or o["rule"] == rule) and (owner is None or o["owner"] == owner)]
        assert hits, (scenario, by[cp])
    (cp,) = SCENARIOS["legrand_error"]
    assert all(any("Legrand" in e and "not a standard" in e for e in o["evidence"])
               for o in by[cp])
    (cp,) = SCENARIOS["alfen_safe_mode"]
    assert [o["severity"] for o in by[cp] if o["rule"] == "degraded_not_down"] == ["degraded"]


def test_unknowns_are_honest_and_hostile_text_is_kept_verbatim(sample) -> None:
    _, _, objs, by = sample
    unknown = [o for o in objs if o["category"] == "unknown"]
    assert unknown and all(o["confidence"] <= 0.3 for o in unknown)
    assert any(o["rule"] == "no_information" for cp in SCENARIOS["unknown_codes"]
               for o in by[cp])
    (cp,) = SCENARIOS["hostile_text"]
    assert any("<!channel>" in e for o in by[cp] for e in o["evidence"])


@pytest.fixture(scope="module")
def replayed(sample, messages) -> tuple[TriageEngine, Replay]:
    kb = default_knowledge()
    engine = TriageEngine(kb, Matcher(kb), SiteMap.load(sample[0].sites))
    return engine, replay(messages, engine)


def test_silent_chargers_and_side_channels(replayed) -> None:
    engine, result = replayed
    silent = [d for d in result.timed if d.rule == "silent_charger"]
    assert sorted(d.charger for d in silent) == sorted(SCENARIOS["silent"])
    assert all(d.connector is None for d in silent)
    assert {d.rule for d in result.timed} == {"silent_charger", "charging_without_energy"}
    suspects = engine.take_energy_suspect_sessions()
    assert {s.charger for s in suspects} == set(SCENARIOS["power_meter_failure"])
    codes = {(s.charger, s.code) for s in engine.recent_unknown_codes()}
    assert ("CP-012", "10") in codes and ("CP-026", "TP-0x1F4") in codes
    (cp,) = SCENARIOS["boot_phantom"][:1]
    view = engine.charger_view(cp)
    assert view is not None and view.model == "MaxiChargerAC"
    assert any(d.rule == "phantom_boot_fault" for p in view.ports for d in p.ignored)


def test_charging_without_energy_found_and_a_vehicle_that_stopped_is_not(
        sample, replayed) -> None:
    """Issue 17: the charger that stopped delivering is one finding on its day-3 session;
    the same charger's day-2 SuspendedEV session (flat as long) is not flagged."""
    _, result = replayed
    (cp,) = SCENARIOS["charger_stopped_delivering"]
    assert SCENARIOS["vehicle_stopped_drawing"] == [cp]
    found = [d for d in result.timed if d.rule == "charging_without_energy"]
    assert [(d.charger, d.connector) for d in found] == [(cp, 1)]
    (d,) = found
    assert d.ts.date().isoformat() == "2026-11-20"  # day 3, not the SuspendedEV day
    # the SuspendedEV session is in the feed (the non-finding is not vacuous)
    suspended = [line for line in sample[0].feed.read_text().splitlines()
                 if f'"{cp}"' in line and '"SuspendedEV"' in line]
    assert len(suspended) == 1 and '"2026-11-19T' in suspended[0]
    assert d.category == "power_module" and d.owner == "remote_operator"


def test_the_sample_replays_quickly_and_the_duplicates_count(replayed) -> None:
    _, result = replayed
    assert result.duplicates >= 2 and result.messages > 10_000
