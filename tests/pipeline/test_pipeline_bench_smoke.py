"""The triage benchmark runs end to end on a tiny fleet (speed is reported, never asserted)."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli.main import cli


def test_bench_triage_runs_and_reports_ratios() -> None:
    args = ["bench", "triage", "--chargers", "5", "--hours", "0.25", "--why-samples", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "frames/s" in result.output
    assert "why" in result.output and "digest" in result.output
