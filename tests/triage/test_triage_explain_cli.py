"""`faultbot explain`: one final contract-2 object per fault-bearing message, in order."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from triage_contract import check
from triage_frames import Feed

from bot.cli.main import cli


def write_log(tmp_path: Path) -> tuple[Path, Feed]:
    f = Feed()  # no engine: only writes the lines
    for i in range(3):  # three boots of one model with a phantom fault each
        f.boot(f"CP-{i}", "Acme EV", "AC-22 Pro", i * 1000)
        f.status(f"CP-{i}", 1, "Faulted", i * 1000 + 3, error="InternalError")
        f.status(f"CP-{i}", 1, "Available", i * 1000 + 7)
    f.status("CP-9", 1, "Faulted", 4000, error="GroundFailure")
    f.heartbeat("CP-9", 4010)
    lines = list(f.lines)
    lines.insert(3, "this is not json")
    lines.insert(6, '{"ts": "2026-11-20T08:00:00Z", "charger": "CP-1", "dir": "in", "frame": 5}')
    lines.append(lines[-3])  # an exact duplicate of the last fault's line
    lines.append(json.dumps([2, "bare-1", "StatusNotification", {
        "connectorId": 2, "errorCode": "HighTemperature", "status": "Faulted"}]))
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, f


def test_explain_json_one_final_object_per_fault_in_order(tmp_path: Path) -> None:
    path, _ = write_log(tmp_path)
    result = CliRunner().invoke(cli, ["explain", "--json", str(path), "--charger", "CP-9"])
    assert result.exit_code == 1  # some lines were rejected
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    for obj in objs:
        check(obj)
    # --charger filters the output and names the charger of the bare frame
    assert [(o["charger"], o["category"]) for o in objs] == [
        ("CP-9", "ground_fault"), ("CP-9", "high_temperature")]
    assert f"{path}:4: " in result.stderr and f"{path}:7: " in result.stderr
    assert "(OCPP version inferred for 1 frames)" in result.stderr
    assert "duplicate" in result.stderr


def test_explain_keeps_the_final_diagnosis_of_each_message(tmp_path: Path) -> None:
    path, _ = write_log(tmp_path)
    result = CliRunner().invoke(cli, ["explain", "--json", str(path)])
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    # bare frame without --charger: rejected; 3 boot faults + the ground fault remain
    assert [o["charger"] for o in objs] == ["CP-0", "CP-1", "CP-2", "CP-9"]
    assert [o["rule"] for o in objs][:3] == ["standard_code", "standard_code",
                                             "phantom_boot_fault"]
    assert objs[2]["suppressed"] is True


def test_explain_readable_listing(tmp_path: Path) -> None:
    path, _ = write_log(tmp_path)
    result = CliRunner().invoke(cli, ["explain", str(path), "--charger", "CP-9"])
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "CP-9/1" in lines[0] and "ground_fault" in lines[0] and "->" in lines[0]


def test_explain_clean_file_exits_zero_and_missing_file_two(tmp_path: Path) -> None:
    f = Feed()
    f.status("CP-1", 1, "Faulted", 0, error="ReaderFailure")
    path = tmp_path / "ok.jsonl"
    path.write_text("\n".join(f.lines) + "\n")
    ok = CliRunner().invoke(cli, ["explain", "--json", str(path)])
    # stderr carries only the fault tally (issue 10: every fault report accounted for)
    assert ok.exit_code == 0 and ok.stderr == "faults: 1 fault report: 1 diagnosed, 0 rejected\n"
    assert json.loads(ok.stdout)["rule"] == "reader_failure"
    missing = CliRunner().invoke(cli, ["explain", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_explain_with_a_sites_file(tmp_path: Path) -> None:
    f = Feed()
    for i, t in enumerate((0, 30, 70)):
        f.status(f"CP-02{i}", 1, "Faulted", t, error="UnderVoltage")
    path = tmp_path / "dip.jsonl"
    path.write_text("\n".join(f.lines) + "\n")
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  Depot:\n    chargers: [CP-020, CP-021, CP-022]\n")
    with_sites = CliRunner().invoke(cli, ["explain", "--json", str(path), "--sites", str(sites)])
    assert [json.loads(x)["rule"] for x in with_sites.stdout.splitlines()] == [
        "site_wide_cause"] * 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites: [nope\n")
    broken = CliRunner().invoke(cli, ["explain", str(path), "--sites", str(bad)])
    assert broken.exit_code == 2 and "Traceback" not in broken.stderr
