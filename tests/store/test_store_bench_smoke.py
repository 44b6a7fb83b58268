"""The ingest benchmark runs end to end on a tiny fleet (speed is reported, never asserted)."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli.main import cli


def test_bench_ingest_runs_and_reports_ratio() -> None:
    result = CliRunner().invoke(cli, ["bench", "ingest", "--chargers", "3", "--hours", "0.5"],
                                env={"FAULTBOT_BENCH_POSTGRES_URL": None})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ingest (sqlite):" in out and "frames/s" in out
    assert "floor  (json.loads + bare bulk insert):" in out
    assert "ratio  floor/ingest:" in out
    assert "rejected 0" in out
    # the whole command in its own process, with its peak memory
    assert "whole `faultbot ingest` (sqlite):" in out and "peak RSS" in out
    assert "whole `faultbot ingest` (postgresql): skipped" in out
