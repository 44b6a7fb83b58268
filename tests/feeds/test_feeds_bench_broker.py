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
