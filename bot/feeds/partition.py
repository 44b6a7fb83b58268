"""Partitioning by charger, so one charger's frames reach one worker, in order.

RabbitMQ has no consistent-hash exchange by default, so faultbot routes itself:
`partition_of(charger, n)` is a stable hash (CRC-32, identical in every process and
Python version) modulo n; frames go to the direct exchange `faultbot.part` with that
number as routing key, into durable queues `faultbot.part.<i>`. Each partition queue
carries `x-single-active-consumer`, so exactly one worker consumes it at a time and
a standby worker for the same index takes over (with the unacked messages) when
the active one dies. Changing n re-maps chargers: drain the partition queues first.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aio_pika only loads with the broker feed
    from aio_pika.abc import Arguments

PARTITION_EXCHANGE = "faultbot.part"
PARTITION_QUEUE_ARGS: Arguments = {"x-single-active-consumer": True}


@lru_cache(maxsize=65536)
def partition_of(charger: str, count: int) -> int:
    if count < 1:
        raise ValueError("partition count must be at least 1")
    return zlib.crc32(charger.encode("utf-8", "surrogatepass")) % count


def partition_queue(index: int, exchange: str = PARTITION_EXCHANGE) -> str:
    return f"{exchange}.{index}"


def parse_partition(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4): worker index 2 of 4 partitions."""
    try:
        index_s, count_s = text.split("/", 1)
        index, count = int(index_s), int(count_s)
    except ValueError:
        raise ValueError(f"expected INDEX/COUNT such as 0/2, got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"partition index must be in 0..{count - 1}, got {text!r}")
    return index, count
