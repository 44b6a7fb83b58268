"""Partition envelopes: many broker messages in one AMQP message, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.envelope import Item, unwrap, wrap


def test_round_trip_keeps_bodies_and_headers() -> None:
    items = [
        Item(b'{"ts":"2026-11-20T08:00:00Z","charger":"CP-\xc3\xa9"}', {"stationId": "CP-1"}),
        Item(b"\x00not json \xff\xfe", {"origin": b"cs", "state": 1}),  # not UTF-8 at all
        Item(b"\xed\xa0\x80", {}),  # an encoded surrogate: invalid UTF-8, kept as bytes
        Item(b"", {"when": datetime(2026, 11, 20, 8, tzinfo=UTC), "nested": {"a": [b"x"]}}),
    ]
    back = unwrap(wrap(items))
    assert [i.body for i in back] == [i.body for i in items]
    assert back[0].headers == {"stationId": "CP-1"}
    assert back[1].headers == {"origin": "cs", "state": 1}  # AMQP bytes become text
    assert back[3].headers == {"when": "2026-11-20T08:00:00+00:00", "nested": {"a": ["x"]}}


@pytest.mark.parametrize("body, reason", [
    (b"\xff", "not JSON"),
    (b"[1, 2]", "version-1"),
    (b'{"v": 2, "items": []}', "version-1"),
    (b'{"v": 1}', "no item list"),
    (b'{"v": 1, "items": [{"h": {}}]}', "without a body"),
    (b'{"v": 1, "items": [{"b": 3}]}', "without a body"),
])
def test_bad_envelopes_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        unwrap(body)
