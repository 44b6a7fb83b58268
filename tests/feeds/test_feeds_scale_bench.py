"""`faultbot bench scale` runs end to end on a tiny fleet: bytes per frame on SQLite and
PostgreSQL next to the compact JSON line, and two real worker processes on a
partitioned RabbitMQ feed into one PostgreSQL next to one (speed reported, not asserted)."""

from __future__ import annotations

import re

from click.testing import CliRunner
from conftest import PG_ADMIN_URL
from feeds_amqp import require_rabbitmq

from bot.cli.main import cli


def test_bench_scale_reports_footprint_and_workers(postgres_url: str) -> None:
    amqp = require_rabbitmq()
    result = CliRunner().invoke(cli, [
        "bench", "scale", "--chargers", "6", "--hours", "1", "--frames", "800",
        "--workers", "2", "--postgres-url", PG_ADMIN_URL, "--amqp-url", amqp])
    assert result.exit_code == 0, result.output
    out = result.output
    json_bytes = float(re.search(r"compact JSON line\s+(\d+)", out)[1])  # type: ignore[index]
    for db in ("SQLite", "PostgreSQL"):
        line = re.search(rf"{db}\s+(\d+)\s+ratio to JSON ([\d.]+)", out)
        assert line is not None, out
        assert int(line[1]) > 0 and abs(float(line[2]) - int(line[1]) / json_bytes) < 0.02
    assert re.search(r"1 worker\s+\d+ frames/s", out)
    assert re.search(r"2 workers\s+\d+ frames/s .* ratio to 1 worker [\d.]+", out)
    # each worker reports its own peak RSS; the database grew by what the run stored
    rss = [int(x) for x in re.findall(r"worker peak RSS (\d+) MB", out)]
    growth = [float(x) for x in re.findall(r"database growth ([\d.]+) MB per charger-day", out)]
    assert len(rss) == 2 and all(r > 20 for r in rss), out
    assert len(growth) == 2 and all(g > 0 for g in growth), out


def test_bench_scale_paced_reports_steps_lag_and_capacity(postgres_url: str) -> None:
    """Two low rates for short steps: every step has its offered, published and stored
    rates, its lag and a verdict; the capacity is the highest rate kept up with; and
    every frame published reached the store (frames stored = warm-up + every step)."""
    amqp = require_rabbitmq()
    result = CliRunner().invoke(cli, [
        "bench", "scale", "--chargers", "6", "--hours", "6", "--frames", "300",
        "--workers", "2", "--postgres-url", PG_ADMIN_URL, "--amqp-url", amqp,
        "--rates", "20,40", "--step-seconds", "3", "--max-lag", "30"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "backlog drained" not in out  # paced mode replaces the backlog runs
    step = re.compile(r"offered\s+(\d+) frames/s\s+published\s+(\d+)\s+stored\s+(\d+) frames/s"
                      r"\s+lag at the end\s+([\d.]+) s\s+max\s+([\d.]+) s\s+behind (\d+)"
                      r"\s+(kept up|NOT kept up)")
    runs = re.split(r"\n  (?=\d+ workers?\n)", out)[1:]
    assert [r.split("\n")[0] for r in runs] == ["1 worker", "2 workers"], out
    for run in runs:
        steps = step.findall(run)
        assert [int(s[0]) for s in steps] == [20, 40], out
        for offered, published, stored, lag_end, lag_max, _behind, verdict in steps:
            # a light load at a generous bound: kept up, the stored rate follows the offer
            assert verdict == "kept up", out
            assert abs(int(published) - int(offered)) <= 2, out
            assert int(stored) >= 0.5 * int(offered), out
            assert float(lag_max) >= float(lag_end) >= 0, out
        assert re.search(r"capacity 40 frames/s", run), out
        # warm-up (200) and 3 s at 20 and 40 frames/s; every frame published was stored
        counts = re.search(r"frames published (\d+), stored (\d+)", run)
        assert counts is not None, out
        assert counts[1] == counts[2] and abs(int(counts[1]) - (200 + 60 + 120)) <= 2, out
        assert float(re.search(r"database growth ([\d.]+) MB", run)[1]) > 0  # type: ignore[index]
