"""`faultbot bench explain`: faultbot explain and ocpp-lens (the dev/bench extra) on the
same frames, whole process. Shape only: timings are printed, never asserted."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from bot.bench.peer import find_peer, write_peer_log
from bot.cli.main import cli

SMALL = ["bench", "explain", "--no-sample", "--frames", "300", "--chargers", "3", "--runs", "1"]


def test_peer_log_holds_the_same_frames_in_the_wrapped_form(tmp_path: Path) -> None:
    frame = [2, "1", "Heartbeat", {}]
    src = tmp_path / "log.jsonl"
    src.write_text(json.dumps({"ts": "2026-11-20T08:00:00Z", "charger": "CP-1", "dir": "in",
                               "frame": frame}) + "\n{not json\n", encoding="utf-8")
    out = tmp_path / "peer.jsonl"
    assert write_peer_log(src, out) == (1, 1)
    assert json.loads(out.read_text()) == {"timestamp": "2026-11-20T08:00:00Z", "message": frame}


def test_bench_explain_prints_both_tools_and_the_ratio() -> None:
    assert find_peer() is not None, "ocpp-lens is in the dev extra: pip install -e '.[dev]'"
    result = CliRunner().invoke(cli, SMALL)
    assert result.exit_code == 0, result.output
    assert "fleet log, 3 chargers" in result.output and "300 lines" in result.output
    assert re.search(r"faultbot explain --json +best +[\d.]+ s +median +[\d.]+ s", result.output)
    assert "(300 of 300 frames read; 0 unreadable lines left out)" in result.output
    assert re.search(r"ratio: faultbot takes [\d.]+x ocpp-lens's time", result.output)


def test_bench_explain_says_when_ocpp_lens_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [*SMALL, "--ocpp-lens", str(tmp_path / "ocpp-lens")])
    assert result.exit_code == 0, result.output
    assert "ocpp-lens: not installed, no ratio" in result.output
    assert "faultbot explain --json" in result.output and "ratio:" not in result.output
