"""Connection health on generated fleets with known ground truth: the planted reconnect
storm, boot loop and skewed clock are found (and nothing else), a healthy fleet with
its everyday reconnects, reboots and offline hours reports nothing on any seed, and the
stored log (through the pipeline, SQLite and PostgreSQL) gives the same findings as
the frames read directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.findings.connection import (
    ConnectionConfig,
    ConnectionFinding,
    Observation,
    find_connection_issues,
    load_observations,
    observation,
)
from bot.findings.render import render_connection_findings
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import DEFAULT_START
from bot.sample.fleet_connection import ConnectionPlan, generate_connection_fleet

HOURS = 24.0


def observations(lines: list[str]) -> list[Observation]:
    out = []
    for line in lines:
        obj = json.loads(line)
        frame = obj["frame"]
        ts = datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
        o = observation(obj["charger"], ts, frame[0], frame[2], frame[3])
        if o is not None:
            out.append(o)
    return out


def check_against_plan(found: list[ConnectionFinding], plan: ConnectionPlan) -> None:
    assert {(f.kind, f.charger) for f in found} == {
        (kind, charger) for charger, (kind, _, _) in plan.planted.items()}
    for f in found:
        _, first, last = plan.planted[f.charger]
        assert f.first <= last + timedelta(seconds=5) and f.last >= first


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_planted_storm_loop_and_skew_found(seed: int) -> None:
    plan = ConnectionPlan(skew_s=-3 * 3600.0 if seed % 2 else 47 * 60.0)
    found = find_connection_issues(observations(
        generate_connection_fleet(150, HOURS, seed, plan=plan)))
    check_against_plan(found, plan)
    by_kind = {f.kind: f for f in found}
    storm = by_kind["reconnect_storm"]
    assert storm.count >= 10 and storm.median_gap_s is not None
    assert 120 <= storm.median_gap_s <= 400 and storm.close_codes[0] == 1006
    assert (storm.owner, storm.category) == ("remote_operator", "connectivity")
    loop = by_kind["boot_loop"]
    assert loop.count >= 10 and loop.firmware == "1.4.2" and loop.owner == "vendor_service"
    skew = by_kind["clock_skew"]
    assert skew.skew_s is not None and abs(skew.skew_s - plan.skew_s) < 10
    assert skew.owner == "remote_operator" and skew.category == "configuration"


@pytest.mark.parametrize("seed", range(11, 19))
def test_healthy_fleet_reports_nothing(seed: int) -> None:
    """Everyday reconnects, reboots, and offline hours with queued frames delivered late."""
    assert find_connection_issues(observations(generate_connection_fleet(150, HOURS, seed))) == []


def test_episodes_need_enough_events_close_together() -> None:
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    cfg = ConnectionConfig()
    boots = [Observation("CP-1", t0 + timedelta(minutes=10 * i), "boot") for i in range(4)]
    assert [f.kind for f in find_connection_issues(boots, cfg)] == ["boot_loop"]
    assert find_connection_issues(boots[:3], cfg) == []
    spread = [Observation("CP-1", t0 + timedelta(minutes=16 * i), "boot") for i in range(8)]
    assert find_connection_issues(spread, cfg) == []
    # reconnects that come with boots are the loop, not a second (storm) finding
    both = boots + [Observation("CP-1", b.ts - timedelta(seconds=1), "connected")
                    for b in boots + [Observation("CP-1", t0 + timedelta(minutes=40 + 5 * i),
                                                  "boot") for i in range(3)]]
    assert [f.kind for f in find_connection_issues(both, cfg)] == ["boot_loop"]
    # a clock needs enough samples, and most of them off on the same side
    few = [Observation("CP-2", t0, "stamped", payload_ts=t0 + timedelta(hours=1))] * 4
    assert find_connection_issues(few, cfg) == []
    mixed = [Observation("CP-2", t0 + timedelta(minutes=i), "stamped",
                         payload_ts=t0 + timedelta(minutes=i + (10 if i % 3 else 0)))
             for i in range(9)]
    assert find_connection_issues(mixed, cfg) == []


def test_unreadable_payloads_are_no_observation() -> None:
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    assert observation("CP-1", t0, 2, "StatusNotification", {"timestamp": "soon"}) is None
    assert observation("CP-1", t0, 2, "StatusNotification", []) is None
    assert observation("CP-1", t0, 0, "vanished", {}) is None
    assert observation("CP-1", t0, 0, "closed", {"closeCode": "x"}) == Observation(
        "CP-1", t0, "closed")


def test_stored_log_gives_the_same_findings(db_engine: Engine, db_session: Session) -> None:
    plan = ConnectionPlan()
    lines = generate_connection_fleet(40, HOURS, 5, plan=plan)
    result = Pipeline(db_engine).process(read_lines(lines, source="t"))
    assert not result.errors
    end = DEFAULT_START + timedelta(hours=HOURS + 1)
    stored = find_connection_issues(load_observations(db_session, DEFAULT_START, end))
    assert stored == find_connection_issues(observations(lines))
    check_against_plan(stored, plan)
    text = render_connection_findings(stored)
    for f in stored:
        assert f.charger in text
    assert "reconnected" in text and "boot" in text and "clock" in text
    assert text.count("Evidence:") == len(stored) and text.count("To do:") == len(stored)


def test_findings_command_shows_connection_health(tmp_path: Path) -> None:
    plan = ConnectionPlan()
    feed = tmp_path / "fleet.jsonl"
    feed.write_text("\n".join(generate_connection_fleet(30, HOURS, 7, plan=plan)) + "\n")
    db = f"sqlite:///{tmp_path / 'f.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(feed), "--database-url", db]).exit_code == 0
    out = runner.invoke(cli, ["findings", "--database-url", db])
    assert out.exit_code == 0, out.output
    assert "Connection health: 3 findings." in out.output
    body = json.loads(runner.invoke(cli, ["findings", "--json", "--database-url", db]).output)
    assert {(f["kind"], f["charger"]) for f in body["connection"]} == {
        (kind, charger) for charger, (kind, _, _) in plan.planted.items()}
