"""`faultbot bench rules`: its report comes from templates/cli/bench_rules.j2, word for
word what the f-strings it replaced printed."""

from __future__ import annotations

import re
from typing import Any

from click.testing import CliRunner

from bot.cli.main import cli
from bot.templating import terminal_env


def _old_fstrings(chargers: int, hours: float, frames: int, faults: int, rejected: int,
                  parse_s: float, observe_s: float, diagnoses: int, tick_s: float,
                  fleet: int, silent: int) -> str:
    """The report as bot/bench/rules.py printed it before the template (kept verbatim)."""
    return "\n".join([
        f"fleet: {chargers} chargers x {hours:g} h = {frames:,} frames "
        f"({faults:,} fault-bearing, {rejected} rejected)",
        f"read+parse : {frames / parse_s:>12,.0f} frames/s",
        f"triage     : {frames / observe_s:>12,.0f} frames/s ({diagnoses:,} diagnoses)",
        f"ratio      : triage adds {observe_s / parse_s:.2f}x the read+parse time",
        f"tick       : {tick_s * 1000:.1f} ms over {fleet:,} chargers ({silent} silent)",
    ])


def test_the_template_prints_what_the_fstrings_printed() -> None:
    cases: list[dict[str, Any]] = [
        dict(chargers=1000, hours=6.0, frames=1_234_567, faults=4321, rejected=0,
             parse_s=12.5, observe_s=3.25, diagnoses=12_345, tick_s=0.01234, fleet=1000,
             silent=17),
        dict(chargers=3, hours=0.25, frames=118, faults=0, rejected=2, parse_s=0.0131,
             observe_s=0.0003, diagnoses=0, tick_s=0.0, fleet=3, silent=0),
    ]
    for values in cases:
        template = terminal_env("cli").get_template("bench_rules.j2")
        assert template.render(**values) == _old_fstrings(**values)


def test_bench_rules_runs_whole_at_a_tiny_size() -> None:
    out = CliRunner().invoke(cli, ["bench", "rules", "--chargers", "3", "--hours", "0.5"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert len(lines) == 5
    assert re.fullmatch(r"fleet: 3 chargers x 0.5 h = [\d,]+ frames \([\d,]+ fault-bearing, "
                        r"\d+ rejected\)", lines[0])
    assert re.fullmatch(r"read\+parse : +[\d,]+ frames/s", lines[1])
    assert re.fullmatch(r"triage     : +[\d,]+ frames/s \([\d,]+ diagnoses\)", lines[2])
    assert re.fullmatch(r"ratio      : triage adds \d+\.\d\dx the read\+parse time", lines[3])
    assert re.fullmatch(r"tick       : \d+\.\d ms over 3 chargers \(\d+ silent\)", lines[4])
