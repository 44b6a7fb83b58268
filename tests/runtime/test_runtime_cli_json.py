"""`--json` on the commands scripts use: one document per command (JSON Lines for `log`
and `kb unknown`), on the sample feed loaded with `faultbot ingest`. A diagnosis inside
`why`/`site` is the very contract-2 object `explain --json` prints for the same fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.kb.loader import default_knowledge
from bot.sample.generate import write_sample
from bot.triage.diagnosis import Diagnosis

ESTOP_TIME = "2026-11-20T09:20:00Z"  # a few minutes into CP-005's emergency stop


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    where = tmp_path_factory.mktemp("json")
    paths = write_sample(where)
    env = {"DATABASE_URL": f"sqlite:///{where / 'fb.db'}", "FAULTBOT_SITES": str(paths.sites)}
    result = CliRunner().invoke(cli, ["ingest", str(paths.feed)], env=env)
    assert result.exit_code == 1, result.output  # the sample's unreadable lines, on purpose
    yield {**env, "FEED": str(paths.feed)}


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env={k: v for k, v in env.items()
                                                      if k != "FEED"})
    assert result.exit_code == code, (result.output, result.stderr)
    return result


def _one(env: dict[str, str], *args: str, code: int = 0) -> Any:
    out = _run(env, *args, code=code).stdout
    assert out.count("\n") == 1  # one object on one line
    return json.loads(out)


def _contract_keys() -> set[str]:
    from datetime import UTC, datetime

    from bot.vocab import Category, Owner, Severity

    d = Diagnosis("c", 1, datetime.now(UTC), Category.UNKNOWN, Severity.INFO, Owner.DRIVER,
                  False, "", "", 0.0, "r")
    return set(d.to_json())


def test_why_json_carries_the_explain_diagnosis(loaded: dict[str, str]) -> None:
    answer = _one(loaded, "why", "cp5", "--now", ESTOP_TIME, "--json")
    assert answer["found"] and answer["charger"] == "CP-005" and answer["ports_down"] == 1
    port = answer["ports"][0]
    assert port["down"] and port["status"] == "Faulted"
    diagnosis = port["causes"][0]["diagnosis"]
    assert set(diagnosis) == _contract_keys()
    assert diagnosis["category"] == "emergency_stop"

    explained = CliRunner().invoke(cli, ["explain", "--json", loaded["FEED"]])
    lines = [json.loads(line) for line in explained.stdout.splitlines()]
    same = [d for d in lines if (d["charger"], d["ts"], d["rule"]) ==
            (diagnosis["charger"], diagnosis["ts"], diagnosis["rule"])]
    assert same == [diagnosis]

    unknown = _one(loaded, "why", "no-such-charger", "--json", code=2)
    assert unknown["found"] is False and unknown["ports"] == []


def test_site_json(loaded: dict[str, str]) -> None:
    answer = _one(loaded, "site", "depot north", "--json")
    assert answer["found"] and answer["site"] == "Depot North"
    assert answer["chargers"] == 8 and answer["ports_total"] == 9
    assert answer["address"].startswith("Lagerstraße 12")
    for cause in answer["site_causes"]:
        assert set(cause["diagnosis"]) == _contract_keys()
    assert _one(loaded, "site", "Nowhere At All", "--json", code=2)["found"] is False


def test_status_json(loaded: dict[str, str]) -> None:
    everything = _one(loaded, "status", "--json")
    assert everything["scope"] is None and len(everything["chargers"]) == 36
    one = _one(loaded, "status", "cp5", "--json")
    (charger,) = one["chargers"]
    assert charger["charger"] == "CP-005" and charger["vendor"] == "Alfen BV"
    assert {p["connector"] for p in charger["ports"]} == {0, 1}
    assert all(p["since"].endswith("Z") for p in charger["ports"])
    site = _one(loaded, "status", "--site", "Depot North", "--json")
    assert site["scope"] == "Depot North"
    assert {c["site"] for c in site["chargers"]} == {"Depot North"}


def test_log_json_is_contract_1_and_can_be_ingested_again(loaded: dict[str, str],
                                                           tmp_path: Path) -> None:
    out = _run(loaded, "log", "CP-005", "--since", "2026-11-20T09:00:00Z", "--limit", "20",
               "--json").stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 20
    assert {"ts", "charger", "dir", "ocpp", "frame"} <= set(lines[0])
    assert any(m["action"] == "StatusNotification" for m in lines)
    again = tmp_path / "again.jsonl"
    again.write_text(out)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'again.db'}"}
    stored = CliRunner().invoke(cli, ["ingest", str(again)], env=env)
    assert stored.exit_code == 0, stored.output
    assert "20 new" in stored.output


def test_kb_json(loaded: dict[str, str]) -> None:
    stats = _one(loaded, "kb", "stats", "--json")
    kb = default_knowledge()
    assert stats["entries"] == len(kb.entries)
    assert sum(v["entries"] for v in stats["vendors"]) + stats["standard_entries"] == len(
        kb.entries)
    assert stats["quirks"] == len(kb.quirks)
    unknown = _run(loaded, "kb", "unknown", "--json").stdout.splitlines()
    assert unknown and all(json.loads(line)["count"] >= 1 for line in unknown)


def test_ingest_json_states_the_same_figures_as_the_text(tmp_path: Path) -> None:
    paths = write_sample(tmp_path)
    text_env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'text.db'}",
                "FAULTBOT_SITES": str(paths.sites)}
    json_env = {**text_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'json.db'}"}
    text = _run(text_env, "ingest", str(paths.feed), code=1).stdout
    summary = _one(json_env, "ingest", str(paths.feed), "--json", code=1)
    assert summary["files"] == [str(paths.feed)]
    assert f"stored:      {summary['stored']} new" in text
    assert f"{summary['triage']['incidents_opened']} incidents opened" in text
    assert summary["rejected"] == len(summary["rejected_shown"]) > 0  # the sample's bad lines
    assert summary["faults"]["read"] >= summary["faults"]["diagnosed"] > 0
    assert summary["stored"] + summary["duplicates"] + summary["rejected"] <= summary["frames"]
    again = _one(json_env, "ingest", str(paths.feed), "--json", code=1)
    assert again["stored"] == 0
    assert again["duplicates"] == summary["stored"] + summary["duplicates"]
