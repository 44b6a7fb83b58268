"""Firmware and model regressions on generated fleets with known ground truth.

The full path (frames -> Pipeline -> store -> history -> analysis) runs once on a
planted 2,000-charger feed and once on one whose rates never change. The analysis
alone runs on many more seeds, read straight from the generated frames: the planted
ratio is found, and a feed whose rates did not change reports nothing, on every seed.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.findings.history import (
    ChargerHistory,
    FaultOnset,
    FirmwareEvent,
    FirmwareSpan,
    FleetHistory,
    firmware_spans,
    load_history,
)
from bot.findings.regressions import RegressionConfig, find_regressions
from bot.findings.stats import binomial_upper_tail, rate_ratio_p
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import DEFAULT_START
from bot.sample.fleet_firmware import FirmwarePlan, feed_end, generate_firmware_history
from bot.store.db import make_engine, make_sessionmaker, migrate

CATEGORY = {"GroundFailure": "ground_fault", "HighTemperature": "high_temperature",
            "ConnectorLockFailure": "connector_lock"}
DAYS = 90.0


def site_of(charger: str) -> str:
    return f"Site {int(charger[-5:]) % 40}"  # 40 sites of about 50 chargers


def history_from_lines(lines: list[str]) -> FleetHistory:
    """What the store would hold, read straight from the frames (faults by their
    standard errorCode): the analysis without the pipeline, for many seeds."""
    until = feed_end(DAYS)
    first: dict[str, datetime] = {}
    model: dict[str, tuple[str, str]] = {}
    ports: dict[str, int] = defaultdict(int)
    events: dict[str, list[FirmwareEvent]] = defaultdict(list)
    faults: list[FaultOnset] = []
    for line in lines:
        obj = json.loads(line)
        frame, charger = obj["frame"], obj["charger"]
        ts = datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
        first.setdefault(charger, ts)
        if frame[0] != 2:
            continue
        action, payload = frame[2], frame[3]
        if action == "BootNotification":
            model[charger] = (payload["chargePointVendor"], payload["chargePointModel"])
            events[charger].append(FirmwareEvent(charger, ts, payload["firmwareVersion"]))
        elif action == "FirmwareStatusNotification":
            events[charger].append(FirmwareEvent(charger, ts, None, installed=True))
        elif action == "StatusNotification":
            ports[charger] = max(ports[charger], payload["connectorId"])
            if payload["status"] == "Faulted":
                faults.append(FaultOnset(charger, ts, CATEGORY[payload["errorCode"]]))
    out = FleetHistory(until=until, faults=faults)
    for charger, (vendor, name) in model.items():
        out.chargers[charger] = ChargerHistory(
            charger, site_of(charger), vendor, name, ports[charger],
            firmware_spans(first[charger], until, events[charger]))
    return out


# --- the statistics ---------------------------------------------------------------------


def test_binomial_tail_against_direct_sums() -> None:
    for n, p in ((10, 0.3), (40, 0.5), (7, 0.9)):
        for k in range(n + 1):
            direct = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
            assert binomial_upper_tail(k, n, p) == pytest.approx(direct, rel=1e-9, abs=1e-15)
    assert binomial_upper_tail(0, 5, 0.2) == 1.0 and binomial_upper_tail(6, 5, 0.2) == 0.0
    # large counts do not underflow
    assert 0.0 < binomial_upper_tail(700, 1000, 0.5) < 1e-30


def test_rate_ratio_p_is_about_rates_not_counts() -> None:
    # twice the events over twice the exposure: no evidence of a higher rate
    assert rate_ratio_p(40, 2000.0, 20, 1000.0) > 0.4
    assert rate_ratio_p(60, 1000.0, 20, 1000.0) < 1e-5
    assert rate_ratio_p(5, 0.0, 1, 10.0) == 1.0


# --- the history ---------------------------------------------------------------------------


def test_firmware_spans_date_the_change_by_installed() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    until = t0 + timedelta(days=10)
    spans = firmware_spans(t0, until, [
        FirmwareEvent("A", t0 + timedelta(hours=1), "1.0"),
        FirmwareEvent("A", t0 + timedelta(days=4), "1.0"),  # a reboot, same version
        FirmwareEvent("A", t0 + timedelta(days=5, hours=-1), None, installed=True),
        FirmwareEvent("A", t0 + timedelta(days=5), "2.0"),
    ])
    assert spans == (FirmwareSpan("1.0", t0, t0 + timedelta(days=5, hours=-1)),
                     FirmwareSpan("2.0", t0 + timedelta(days=5, hours=-1), until))
    assert firmware_spans(t0, until, []) == (FirmwareSpan("", t0, until),)


# --- the analysis on many seeds ------------------------------------------------------------


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15, 16])
def test_unchanged_rates_report_nothing(seed: int) -> None:
    """A firmware change that changed nothing, and sites of mixed models: zero reports."""
    lines = generate_firmware_history(2000, DAYS, seed)
    history = history_from_lines(lines)
    assert sum(1 for c in history.chargers.values() if len(c.spans) > 1) > 300
    assert find_regressions(history) == []


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_planted_regression_found_with_its_ratio(seed: int) -> None:
    plan = FirmwarePlan(ratio=3.4)
    history = history_from_lines(generate_firmware_history(2000, DAYS, seed, plan=plan))
    found = find_regressions(history)
    firmware = [r for r in found if r.kind == "firmware"]
    assert [(r.model, r.firmware, r.category) for r in firmware] == [
        ("Zaptec Go OCPP", "2.2.0.1", "ground_fault")]
    # the model now faults more than its neighbours too, and nothing else does
    assert {(r.model, r.category) for r in found if r.kind == "model"} <= {
        ("Zaptec Go OCPP", "ground_fault")}
    (r,) = firmware
    assert 2.5 <= r.ratio <= 4.5  # 3.4 planted; the estimate's spread at ~100 vs ~300 faults
    assert r.baseline == ("2.1.0.4",) and r.ports == len(plan.changed)
    assert r.since == min(plan.changed.values())


def test_model_against_the_other_models_of_its_site() -> None:
    t0 = DEFAULT_START
    until = t0 + timedelta(days=60)
    history = FleetHistory(until=until)
    for i in range(40):
        model = "Hot-1" if i % 2 else "Cool-2"
        cid = f"C{i:02d}"
        history.chargers[cid] = ChargerHistory(cid, "Depot", "Acme", model, 1,
                                               (FirmwareSpan("1", t0, until),))
        n = 6 if model == "Hot-1" else 1  # high temperature, 6x as often on Hot-1
        for k in range(n):
            history.faults.append(FaultOnset(cid, t0 + timedelta(days=5 + 9 * k),
                                             "high_temperature"))
    (r,) = find_regressions(history)
    assert (r.kind, r.site, r.model, r.baseline, r.category) == (
        "model", "Depot", "Hot-1", ("Cool-2",), "high_temperature")
    assert r.ratio == pytest.approx(6.0)
    assert r.events == 120 and r.events_before == 20 and r.ports == 20
    # the same counts on too few ports are not reported
    assert find_regressions(history, RegressionConfig(min_ports=21)) == []


# --- the full path: frames, pipeline, store ----------------------------------------------------


def run_pipeline(lines: list[str], tmp: Path) -> FleetHistory:
    engine = make_engine(f"sqlite:///{tmp / 'fleet.db'}")
    migrate(engine)
    # the feed has a frame every few minutes; a coarse tick keeps the test quick
    Pipeline(engine, tick_every=timedelta(hours=6)).process(read_lines(lines, source="t"))
    with make_sessionmaker(engine)() as session:
        history = load_history(session, feed_end(DAYS), site_of)
    engine.dispose()
    return history


def test_planted_regression_through_the_pipeline(tmp_path: Path) -> None:
    plan = FirmwarePlan(ratio=3.4)
    history = run_pipeline(generate_firmware_history(2000, DAYS, 1, plan=plan), tmp_path)
    assert len(history.chargers) == 2000
    found = find_regressions(history)
    (r,) = [r for r in found if r.kind == "firmware"]
    assert (r.model, r.firmware, r.category) == ("Zaptec Go OCPP", "2.2.0.1", "ground_fault")
    assert {(r.model, r.category) for r in found if r.kind == "model"} <= {
        ("Zaptec Go OCPP", "ground_fault")}
    assert 2.5 <= r.ratio <= 4.5 and r.ports == len(plan.changed)
    assert r.to_json()["ratio"] == round(r.ratio, 2)
