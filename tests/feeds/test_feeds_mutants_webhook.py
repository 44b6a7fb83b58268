"""Webhook body handling at its edges (found by mutation testing): line numbers and
reasons of rejected items, the answer's counts, size and time limits to the byte and
the second, content types, and what the sender is told when the store is down.

Bodies go to the path-token route (so each case is about the body, not the
signature) and to an in-memory sink; test_feeds_webhook.py covers the real store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from feeds_peers import CollectingSink

from bot.feeds.health import FeedHealth
from bot.feeds.webhook import add_webhook_routes, signed_headers

TOKEN = "body-edges-token-0123456789"
PATH = f"/feed/ocpp/{TOKEN}"
SECRET = "edge-secret"


def frame(n: int) -> dict[str, Any]:
    return {
        "ts": f"2026-11-20T08:{n // 60:02d}:{n % 60:02d}Z",
        "charger": "CP-EDGE",
        "dir": "in",
        "frame": [2, f"m{n}", "Heartbeat", {}],
        "ocpp": "1.6",
    }


def line(n: int) -> str:
    return json.dumps(frame(n))


def post(
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    chunks: list[bytes] | None = None,
    pause: float = 0.0,
    sink: CollectingSink | None = None,
    path: str = PATH,
    **kw: Any,
) -> tuple[int, dict[str, Any], dict[str, str], CollectingSink, FeedHealth]:
    """One POST; the status, the JSON answer, the answer's headers, the sink, the health."""
    sink = sink or CollectingSink()
    health = FeedHealth("webhook")

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks or []:
            yield chunk
            await asyncio.sleep(pause)

    async def main() -> tuple[int, dict[str, Any], dict[str, str]]:
        app = web.Application()
        add_webhook_routes(app, sink, SECRET, path_token=TOKEN, health=health, **kw)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            data: Any = body if chunks is None else stream()
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            resp = await client.post(path, data=data, headers=hdrs)
            return resp.status, await resp.json(), dict(resp.headers)

    status, answer, hdrs = asyncio.run(asyncio.wait_for(main(), 60))
    return status, answer, hdrs, sink, health


def test_json_lines_keep_the_good_lines_and_name_the_bad_ones() -> None:
    body = "\n".join([line(1), "", "{not json", line(2), "   ", "[1, 2"]).encode()
    status, answer, _, sink, health = post(body)
    assert status == 200
    assert (answer["received"], answer["stored"], answer["duplicates"], answer["ignored"]) == (
        4, 2, 0, 0
    )
    assert answer["rejected_count"] == 2
    assert [(r["line"], r["excerpt"]) for r in answer["rejected"]] == [
        (3, "{not json"), (6, "[1, 2")
    ]
    assert all(r["reason"].startswith("not JSON: ") for r in answer["rejected"])
    assert "error" not in answer
    assert len(sink.records) == 2 and (health.received, health.rejected) == (2, 2)


def test_a_line_nested_too_deep_is_refused_by_name() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    status, answer, *_ = post("\n".join([line(1), deep]).encode())
    assert status == 200 and answer["stored"] == 1
    (rejected,) = answer["rejected"]
    assert rejected["line"] == 2 and rejected["reason"] == "JSON nested too deep"
    assert rejected["excerpt"] == "[" * 60


def test_excerpts_are_short_and_escaped() -> None:
    bad = "é" + "x" * 100
    status, answer, *_ = post("\n".join([line(1), bad]).encode())
    assert status == 200
    assert answer["rejected"][0]["excerpt"] == "\\xe9" + "x" * 59


def test_at_most_a_hundred_rejections_are_listed_in_line_order() -> None:
    lines = [line(0)] + [f"bad {i}" for i in range(150)]
    status, answer, *_ = post("\n".join(lines).encode())
    assert status == 200 and answer["stored"] == 1
    assert answer["rejected_count"] == 150
    listed = [r["line"] for r in answer["rejected"]]
    assert listed == list(range(2, 102))


def test_a_body_of_nothing_but_bad_lines_is_poison() -> None:
    status, answer, _, sink, _ = post(b"nope\nstill nope\n")
    assert status == 400
    assert answer["error"] == "no frame in the body could be read"
    assert (answer["received"], answer["stored"], answer["rejected_count"]) == (2, 0, 2)
    assert sink.calls == 0


def test_a_bad_item_in_an_array_keeps_the_array_position() -> None:
    body = json.dumps([frame(1), {"frame": 1}, frame(2)]).encode()
    status, answer, *_ = post(body)
    assert status == 200 and answer["stored"] == 2 and answer["received"] == 3
    assert [r["line"] for r in answer["rejected"]] == [2]


def test_an_empty_array_is_an_empty_delivery() -> None:
    status, answer, _, sink, _ = post(b"[]")
    assert status == 200
    assert (answer["received"], answer["stored"], answer["rejected_count"]) == (0, 0, 0)
    assert sink.calls == 0


def test_connection_events_are_ignored_not_refused() -> None:
    event = {"stationId": "CP-9", "event": "connected", "origin": "cs"}
    status, answer, _, sink, _ = post(json.dumps(event).encode())
    assert status == 200 and "error" not in answer
    assert (answer["received"], answer["ignored"], answer["rejected_count"]) == (1, 1, 0)
    assert sink.calls == 0
    closed = {"stationId": "CP-9", "event": "closed"}
    body = "\n".join([json.dumps(closed), "oops"]).encode()
    status, answer, *_ = post(body)
    assert status == 200 and (answer["ignored"], answer["rejected_count"]) == (1, 1)


def test_an_other_event_of_a_station_is_read_as_a_message() -> None:
    event = {"stationId": "CP-9", "event": "message", "origin": "cs"}
    status, answer, *_ = post(json.dumps(event).encode())
    assert answer["ignored"] == 0 and answer["rejected_count"] == 1 and status == 400


@pytest.mark.parametrize(
    "ctype",
    ["application/x-ndjson", "application/ndjson", "application/jsonl",
     "application/x-jsonlines", "application/jsonlines", "text/plain",
     "application/octet-stream", "application/json; charset=utf-8"],
)
def test_json_and_json_lines_content_types_are_accepted(ctype: str) -> None:
    status, answer, *_ = post(line(1).encode(), {"Content-Type": ctype})
    assert status == 200 and answer["stored"] == 1


def test_other_content_types_are_refused_by_name() -> None:
    status, answer, _, sink, _ = post(line(1).encode(), {"Content-Type": "text/html"})
    assert status == 415
    assert answer["error"] == "unsupported content type 'text/html'; send JSON or JSON Lines"
    assert sink.calls == 0


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)])
def test_body_limit_to_the_byte_with_a_content_length(extra: int, status: int) -> None:
    body = line(1).encode()
    got, answer, *_ = post(body + b" " * extra, max_body=len(body))
    assert got == status
    if status == 413:
        assert answer["error"] == f"body over {len(body)} bytes"


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)])
def test_body_limit_to_the_byte_when_streamed(extra: int, status: int) -> None:
    body = line(1).encode() + b" " * extra
    limit = len(line(1).encode())
    got, answer, *_ = post(chunks=[body[:20], body[20:]], max_body=limit)
    assert got == status
    if status == 413:
        assert answer["error"] == f"body over {limit} bytes"


def test_a_slow_body_is_cut_with_408() -> None:
    status, answer, _, sink, _ = post(
        chunks=[b"[", b" ", b" ", b"]"], pause=0.4, body_timeout=0.5
    )
    assert status == 408 and answer["error"] == "body not received within 0.5 s"
    assert sink.calls == 0


def test_a_body_within_the_time_limit_is_read() -> None:
    status, answer, *_ = post(chunks=[line(1).encode()[:10], line(1).encode()[10:]],
                              pause=0.05, body_timeout=5)
    assert status == 200 and answer["stored"] == 1


def test_store_down_is_503_with_retry_after_and_counted() -> None:
    sink = CollectingSink()
    sink.down = True
    status, answer, headers, _, health = post(line(1).encode(), sink=sink)
    assert status == 503 and answer == {"error": "store unavailable, retry later"}
    assert headers["Retry-After"] == "5"
    assert health.sink_failures == 1
    assert health.last_error == "sink: ConnectionError: database is down"
    assert health.received == 1


def test_the_signed_route_reads_bodies_the_same_way() -> None:
    body = "\n".join([line(1), "junk"]).encode()
    status, answer, *_ = post(body, signed_headers(SECRET, body), path="/feed/ocpp")
    assert status == 200 and (answer["stored"], answer["rejected_count"]) == (1, 1)
