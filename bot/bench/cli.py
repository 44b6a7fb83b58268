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
STATUS_GOAL_S = 1.0  # status over the 23,000 ports


def fleet_store(url: str, ports: int) -> None:
    """A migrated store holding `ports` port states (two per charger, one in seven
    faulted): what `status` reads, written directly instead of ingesting a fleet log."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from bot.store.core_tables import core_table
    from bot.store.db import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate(engine)
        start = datetime(2026, 11, 20, tzinfo=UTC)
        chargers, states = [], []
        for i in range((ports + 1) // 2):
            cid, since = f"FL-{i:05d}", start + timedelta(seconds=37 * i)
            chargers.append({"id": cid, "vendor": "ABB", "model": "Terra AC", "serial": None,
                             "firmware": "1.8.21", "ocpp_version": "1.6", "first_seen": start,
                             "last_seen": since + timedelta(hours=6), "last_boot_at": None,
                             "boot_status": None, "boot_reply_at": None,
                             "heartbeat_interval_s": 900})
            faulted = i % 7 == 0
            for port in (1, 2)[: ports - 2 * i]:
                states.append({"charger_id": cid, "connector_id": port, "evse_id": None,
                               "status": "Faulted" if faulted else "Available",
                               "error_code": "GroundFailure" if faulted else "NoError",
                               "vendor_id": None, "vendor_error_code": None, "info": None,
                               "status_since": since, "updated_at": since,
                               "last_message_fp": None})
        with engine.begin() as conn:
            conn.execute(insert(core_table("chargers")), chargers)
            conn.execute(insert(core_table("connectors")), states)
    finally:
        engine.dispose()


def run(*, runs: int, echo: Callable[[str], None], ports: int = 23_000) -> None:
    work = Path(tempfile.mkdtemp(prefix="faultbot-bench-cli-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'faultbot.db'}",
           "FAULTBOT_SITES": str(work / "fb" / "sites.yaml")}
    me = [sys.executable, "-m", "bot.cli.main"]
    try:
        subprocess.run([*me, "sample", "--out", "fb"], cwd=work, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*me, "ingest", "fb/sample.jsonl"], cwd=work, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        fleet_url = f"sqlite:///{work / 'fleet.db'}"
        cases: list[tuple[str, list[str], dict[str, str], float | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], env, None),
            ("faultbot --version", [*me, "--version"], env, GOAL_S),
            ("faultbot why CP-001", [*me, "why", "CP-001"], env, GOAL_S),
            ("faultbot status", [*me, "status"], env, None),
        ]
        if ports:
            fleet_store(fleet_url, ports)
            cases.append((f"status, {ports:,} ports", [*me, "status"],
                          {**env, "DATABASE_URL": fleet_url}, STATUS_GOAL_S))
        floor = None
        for label, argv, case_env, goal_s in cases:
            t = times(argv, runs, work, case_env)  # as installed, after one untimed run
            best, median = min(t), statistics.median(t)
            floor = floor or median
            goal = (f"  goal <= {goal_s} s: {'met' if median <= goal_s else 'missed'}"
                    if goal_s else "")
            echo(f"{label:22} best {best:.3f} s  median {median:.3f} s  "
                 f"{median / floor:5.1f}x python -c pass{goal}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


@click.command("cli")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--ports", default=23_000, show_default=True, type=click.IntRange(0, 10_000_000),
              help="Also time `status` over a store of this many port states (0: skip).")
def cli_bench(runs: int, ports: int) -> None:
    """Whole-process start-up of --version, why and status next to `python -c pass`."""
    run(runs=runs, echo=click.echo, ports=ports)
