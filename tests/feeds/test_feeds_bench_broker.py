"""`faultbot bench feeds`' broker part runs its consumers as real separate processes:
a plain aio_pika consumer, one faultbot worker, and two faultbot workers on a
partitioned feed (routed, and published straight to the partition queues); every
process takes its whole share and reports its CPU and memory, and the bench's queues
are gone afterwards. Speed is reported by the bench, not asserted here."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from feeds_amqp import require_rabbitmq

from bot.bench.feeds import _lines, broker_processes


async def existing(url: str, names: list[str]) -> list[str]:
    found = []
    conn = await aio_pika.connect(url)
    async with conn:
        for name in names:
            channel = await conn.channel()
            try:
                await channel.declare_queue(name, passive=True)
                found.append(name)
            except aio_pika.exceptions.ChannelClosed:
                pass
    return found


@pytest.mark.parametrize("kind, count, direct", [
    ("plain", 1, False), ("faultbot", 1, False), ("faultbot", 2, False),
    ("faultbot", 2, True)])
def test_broker_consumers_are_separate_processes(kind: str, count: int, direct: bool) -> None:
    url = require_rabbitmq()
    lines = _lines(600, 50)
    run = broker_processes(url, lines, kind, count, direct, timeout=60)
    assert run.frames == 600 and run.seconds > 0
    assert run.client_cpu > 0 and run.rss_mb > 10  # measured in the children
    assert len(run.queues) == 2 + count
    assert asyncio.run(existing(url, run.queues)) == []


def test_bench_feeds_prints_every_measurement_with_its_ratio() -> None:
    """The whole command at a tiny size: each part of templates/cli/bench_feeds.j2 is
    printed, with the figures filled in (numbers, not blanks)."""
    import re

    from click.testing import CliRunner

    from bot.cli.main import cli

    url = require_rabbitmq()
    out = CliRunner().invoke(cli, [
        "bench", "feeds", "--frames", "300", "--chargers", "10", "--round-trips", "20",
        "--broker-runs", "1", "--amqp-url", url])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert re.fullmatch(r"300 frames from 10 chargers; load average [\d. ]+", lines[0])
    for label, tail in [
        ("store alone (floor)", r"frames/s"),
        ("webhook -> store", r"frames/s   ratio to floor \d+\.\d\d"),
        ("through the tap", r"added p50 -?\d+ us, ratio \d+\.\d\d"),
        ("tap, 20 chargers at once", r"dropped \d+\)"),
        ("  faultbot, 1 worker", r"peak RSS \d+ MB"),
        ("  2 workers, pre-partitioned", r"ratio to 1 worker \d+\.\d\d   CPU per frame.*"),
        ("broker, 1 worker -> store", r"ratio to floor \d+\.\d\d"),
    ]:
        (line,) = [x for x in lines if x.startswith(label)]
        assert re.search(r"\d+ (frames/s|us)", line) and re.search(tail + "$", line), line
