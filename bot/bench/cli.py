"""`faultbot bench cli`: whole-process start-up of the instant commands.

Each command runs as its own process on the bundled sample (hyperfine-like: best and
median of N runs, after one untimed run; bot.bench.proc), next to `python -c pass`
measured in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from bot.bench.proc import times

GOAL_S = 0.4  # --version and why, whole process, on a 2-core machine


def run(*, runs: int, echo: Callable[[str], None]) -> None:
    work = Path(tempfile.mkdtemp(prefix="faultbot-bench-cli-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'faultbot.db'}",
           "FAULTBOT_SITES": str(work / "fb" / "sites.yaml")}
    me = [sys.executable, "-m", "bot.cli.main"]
    try:
        subprocess.run([*me, "sample", "--out", "fb"], cwd=work, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*me, "ingest", "fb/sample.jsonl"], cwd=work, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cases = [("python -c pass", [sys.executable, "-c", "pass"]),
                 ("faultbot --version", [*me, "--version"]),
                 ("faultbot why CP-001", [*me, "why", "CP-001"]),
                 ("faultbot status", [*me, "status"])]
        floor = None
        for label, argv in cases:
            t = times(argv, runs, work, env)  # as installed, after one untimed run
            best, median = min(t), statistics.median(t)
            floor = floor or median
            goal = f"  goal <= {GOAL_S} s: {'met' if median <= GOAL_S else 'missed'}" if (
                "status" not in label and "python" not in label) else ""
            echo(f"{label:22} best {best:.3f} s  median {median:.3f} s  "
                 f"{median / floor:5.1f}x python -c pass{goal}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


@click.command("cli")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1, 1000))
def cli_bench(runs: int) -> None:
    """Whole-process start-up of --version, why and status next to `python -c pass`."""
    run(runs=runs, echo=click.echo)
