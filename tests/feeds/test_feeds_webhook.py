"""POST /feed/ocpp against the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, func, select

from bot.feeds.health import HealthState, add_health_route
from bot.feeds.sink import FrameSink, store_sink
from bot.feeds.webhook import add_webhook_routes, signed_headers
from bot.store.db import make_engine
from bot.store.models import MessageRow

SECRET = "s3cret"
FAULT = {
    "ts": "2026-11-20T08:00:00Z",
    "charger": "CP-001",
    "dir": "in",
    "frame": [
        2,
        "19223201",
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "OtherError",
            "status": "Faulted",
            "vendorId": "Acme",
            "vendorErrorCode": "F400",
            "info": "EMERGENCY_STOP_BUTTON_1",
            "timestamp": "2026-11-20T07:59:58Z",
        },
    ],
    "ocpp": "1.6",
}
REPLY = {"ts": "2026-11-20T08:00:00.2Z", "charger": "CP-001", "dir": "out",
         "frame": [3, "19223201", {}], "ocpp": "1.6"}


def with_client(
    sink: FrameSink, body: Callable[[TestClient[Any, Any]], Awaitable[None]], **kw: Any
) -> None:
    async def main() -> None:
        app = web.Application()
        health = HealthState()
        add_webhook_routes(app, sink, SECRET, health=health.feed("webhook"), **kw)
        add_health_route(app, health)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await body(client)

    asyncio.run(asyncio.wait_for(main(), 60))


async def post(client: TestClient[Any, Any], payload: bytes, **headers: str) -> tuple[int, Any]:
    hdrs = {"Content-Type": "application/json", **signed_headers(SECRET, payload), **headers}
    resp = await client.post("/feed/ocpp", data=payload, headers=hdrs)
    return resp.status, await resp.json()


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(MessageRow)) or 0)


def test_signed_posts_are_stored_once(db_engine: Engine) -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        one = json.dumps(FAULT).encode()
        status, answer = await post(client, one)
        assert status == 200, answer
        assert (answer["stored"], answer["duplicates"], answer["rejected"]) == (1, 0, [])
        status, answer = await post(client, one)  # redelivery
        assert (status, answer["stored"], answer["duplicates"]) == (200, 0, 1)
        lines = b"\n".join([json.dumps(FAULT).encode(), b"{not json", json.dumps(REPLY).encode()])
        status, answer = await post(client, lines, **{"Content-Type": "application/x-ndjson"})
        assert status == 200
        assert (answer["stored"], answer["duplicates"], answer["received"]) == (1, 1, 3)
        assert [r["line"] for r in answer["rejected"]] == [2]
        assert answer["rejected"][0]["reason"].startswith("not JSON")
        health = await (await client.get("/health")).json()
        assert health["feeds"]["webhook"]["stored"] == 2

    with_client(store_sink(db_engine), body)
    assert stored(db_engine) == 2


def test_array_with_a_bad_item_keeps_the_good_ones(db_engine: Engine) -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        bad = {**FAULT, "ts": "yesterday-ish"}
        hostile = {**REPLY, "charger": "CP\x00<script>", "frame": [3, "x", {}]}
        payload = json.dumps([FAULT, bad, "text", hostile, REPLY]).encode()
        status, answer = await post(client, payload)
        assert status == 200
        assert answer["stored"] == 2
        assert [r["line"] for r in answer["rejected"]] == [2, 3, 4]

    with_client(store_sink(db_engine), body)
    assert stored(db_engine) == 2


def test_citrineos_subscription_body_on_the_token_path(db_engine: Engine) -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        frame = json.dumps(FAULT["frame"])
        msg = {"stationId": "CP-7", "event": "message", "origin": "cs", "message": frame,
               "info": {"correlationId": "19223201", "origin": "cs",
                        "timestamp": "2026-11-20T08:00:00.123Z", "protocol": "ocpp1.6"}}
        resp = await client.post("/feed/ocpp/tok-123", json=msg)  # CitrineOS signs nothing
        answer = await resp.json()
        assert resp.status == 200, answer
        assert answer["stored"] == 1
        resp = await client.post("/feed/ocpp/tok-123", json={"stationId": "CP-7",
                                                             "event": "connected"})
        assert (resp.status, (await resp.json())["ignored"]) == (200, 1)
        resp = await client.post("/feed/ocpp/wrong", json=msg)
        assert resp.status == 404

    with_client(store_sink(db_engine), body, path_token="tok-123")
    assert stored(db_engine) == 1


def test_refusals_say_why(db_engine: Engine) -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        payload = json.dumps(FAULT).encode()
        resp = await client.post("/feed/ocpp", data=payload,
                                 headers={"Content-Type": "application/json"})
        assert resp.status == 401 and "missing" in (await resp.json())["error"]
        status, answer = await post(client, payload, **{"X-Faultbot-Signature": "v1=00"})
        assert (status, answer["error"]) == (401, "bad signature")
        old = signed_headers(SECRET, payload, now=time.time() - 600)
        status, answer = await post(client, payload, **old)
        assert status == 401 and "replay window" in answer["error"]
        status, answer = await post(client, b"x" * 2048)
        assert status == 413
        status, answer = await post(client, payload, **{"Content-Type": "multipart/form-data"})
        assert status == 415
        status, answer = await post(client, b"\xff\xfe")
        assert status == 400 and "UTF-8" in answer["error"]
        status, answer = await post(client, b"[2, \"id\", \"Heartbeat\", {}]")
        assert status == 400 and "contract-1" in answer["error"]
        status, answer = await post(client, b"   ")
        assert (status, answer["error"]) == (400, "empty body")
        status, answer = await post(client, b'{"frame": 1}\n')
        assert status == 400 and answer["rejected"][0]["line"] == 1

    with_client(store_sink(db_engine), body, max_body=1024)
    assert stored(db_engine) == 0


def test_store_down_answers_503_so_the_sender_retries() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                         connect_args={"connect_timeout": 2})

    async def body(client: TestClient[Any, Any]) -> None:
        status, answer = await post(client, json.dumps(FAULT).encode())
        assert status == 503 and "retry" in answer["error"]
        health = await client.get("/health")
        assert (await health.json())["feeds"]["webhook"]["sink_failures"] == 1

    with_client(store_sink(engine), body)
