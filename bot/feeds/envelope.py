"""Partition envelopes: many broker messages carried as one AMQP message.

The partition router used to republish every frame as its own persistent, confirmed
message; each publish costs the client ~130 us of CPU (aio-pika/aiormq framing and
futures), which capped two partitioned workers far below one unpartitioned worker.
The router now wraps one routed batch's messages for one partition into a single
envelope, so a batch costs one publish per partition, and the worker unwraps it.

Each item keeps its original body bytes and headers (CitrineOS routing lives in the
headers), so unwrapping yields exactly what the ingress queue held. Bodies that are
not UTF-8 survive the round trip (surrogateescape + JSON's \\udcXX escapes), so an
unreadable message still reaches the dead-letter queue byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

CONTENT_TYPE = "application/vnd.faultbot.batch+json"
VERSION = 1


@dataclass(slots=True)
class Item:
    """One original broker message: its body and headers."""

    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    """AMQP header values (bytes, timestamps, nested tables) -> JSON values."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def wrap(items: Sequence[Item]) -> bytes:
    """Items -> one envelope body."""
    return json.dumps(
        {
            "v": VERSION,
            "items": [
                {"h": _plain(i.headers), "b": i.body.decode("utf-8", "surrogateescape")}
                for i in items
            ],
        },
        separators=(",", ":"),
    ).encode("ascii")


def unwrap(body: bytes) -> list[Item]:
    """An envelope body -> its items; ValueError (with the reason) if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("partition envelope is not JSON") from None
    if not isinstance(data, Mapping) or data.get("v") != VERSION:
        raise ValueError("not a version-1 partition envelope")
    raw = data.get("items")
    if not isinstance(raw, list):
        raise ValueError("partition envelope has no item list")
    items: list[Item] = []
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("b"), str):
            raise ValueError("partition envelope item without a body")
        headers = entry.get("h")
        items.append(Item(
            entry["b"].encode("utf-8", "surrogateescape"),
            dict(headers) if isinstance(headers, Mapping) else {},
        ))
    return items
