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
