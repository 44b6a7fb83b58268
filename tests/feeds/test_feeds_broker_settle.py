"""The broker feed's delivery bookkeeping, without a broker: one multiple-flag ack (or
requeueing nack) per channel settles a batch, already-settled deliveries are never
settled twice, a closed channel's deliveries are left for redelivery, and waiting for
a batch loses nothing when the wait is cancelled."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bot.feeds.broker import Delivery, _Inbox, _settle


class FakeChannel:
    def __init__(self, closed: bool = False) -> None:
        self.calls: list[tuple[str, int, bool]] = []
        self.closed = closed

    async def basic_ack(self, tag: int, multiple: bool = False) -> None:
        if self.closed:
            raise RuntimeError("channel closed")
        self.calls.append(("ack", tag, multiple))

    async def basic_nack(self, tag: int, multiple: bool = False, requeue: bool = True) -> None:
        assert requeue
        self.calls.append(("nack", tag, multiple))


def raw(channel: Any, tag: int) -> Any:
    """What aiormq hands a consumer (duck-typed)."""
    return SimpleNamespace(
        body=b"{}", channel=channel, delivery=SimpleNamespace(delivery_tag=tag),
        header=SimpleNamespace(properties=SimpleNamespace(headers=None, content_type=None)))


def delivery(channel: Any, tag: int) -> Delivery:
    return Delivery(raw(channel, tag))


def test_one_multiple_ack_per_channel_on_the_newest_tag() -> None:
    a, b = FakeChannel(), FakeChannel()
    batch = [delivery(a, 3), delivery(a, 1), delivery(b, 7), delivery(a, 2)]
    asyncio.run(_settle(batch, ack=True))
    assert a.calls == [("ack", 3, True)]
    assert b.calls == [("ack", 7, True)]
    assert all(d.settled for d in batch)
    asyncio.run(_settle(batch, ack=True))  # settled once only
    assert a.calls == [("ack", 3, True)]


def test_settled_deliveries_are_skipped_and_failures_requeue() -> None:
    a = FakeChannel()
    batch = [delivery(a, 1), delivery(a, 2)]
    batch[1].settled = True  # e.g. dead-lettered and acked on its own
    asyncio.run(_settle(batch, ack=False))
    assert a.calls == [("nack", 1, True)]


def test_a_closed_channel_does_not_stop_the_others() -> None:
    gone, live = FakeChannel(closed=True), FakeChannel()
    asyncio.run(_settle([delivery(gone, 9), delivery(live, 4)], ack=True))
    assert live.calls == [("ack", 4, True)]


def test_inbox_waits_for_a_batch_and_loses_nothing_when_cancelled() -> None:
    async def main() -> None:
        inbox = _Inbox()
        chan = FakeChannel()
        waiting = asyncio.create_task(inbox.wait(3, 5.0))
        await asyncio.sleep(0)
        for tag in (1, 2):
            await inbox.deliver(raw(chan, tag))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # 2 of 3
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert len(inbox) == 2  # still there
        await inbox.wait(3, 0.05)  # times out with what it has
        await inbox.deliver(raw(chan, 3))
        await inbox.wait(3, 5.0)  # already enough: returns at once
        assert [d.tag for d in inbox.take(2)] == [1, 2]
        assert [d.tag for d in inbox.take(5)] == [3]

    asyncio.run(asyncio.wait_for(main(), 10))
