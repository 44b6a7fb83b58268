"""/health counts what the webhook refused, rejected and kept without a fact, per reason
(bot.ocpp.reasons), against the real store on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from test_feeds_webhook import FAULT, SECRET, post, stored, with_client

from bot.feeds.sink import default_sink, store_sink
from bot.feeds.webhook import signed_headers

NO_STATUS = {**FAULT, "frame": [2, "ns-1", "StatusNotification",
                                {"connectorId": 1, "errorCode": "OtherError"}]}
NO_STATUS_2 = {**NO_STATUS, "frame": [2, "ns-2", *NO_STATUS["frame"][2:]]}
NO_IDENTITY = {**FAULT, "frame": [2, "bn-1", "BootNotification",
                                  {"chargePointVendor": "Acme"}]}
BAD_PORT = {**FAULT, "frame": [2, "bp-1", "StatusNotification",
                               {"connectorId": -1, "errorCode": "OtherError",
                                "status": "Faulted"}]}
UNKNOWN_VERSION = {**FAULT, "frame": [2, "uv-1", "Heartbeat", {}], "ocpp": "9.9"}


def _body(*items: Any) -> bytes:
    return "\n".join(i if isinstance(i, str) else json.dumps(i) for i in items).encode()


def _check(engine: Engine, sink_name: str) -> None:
    sink = store_sink(engine) if sink_name == "store" else default_sink(engine)

    async def body(client: TestClient[Any, Any]) -> None:
        lines = _body(FAULT, NO_STATUS, NO_STATUS_2, NO_IDENTITY, "{not json", BAD_PORT,
                      UNKNOWN_VERSION)
        status, answer = await post(client, lines, **{"Content-Type": "application/x-ndjson"})
        assert status == 200, answer
        assert answer["stored"] == 4
        assert [(r["line"], r["kind"]) for r in answer["rejected"]] == [
            (5, "not_json"), (6, "unusable_port"), (7, "unknown_version")]
        # refused whole: not one line of these is read
        resp = await client.post(
            "/feed/ocpp", data=b"{}",
            headers={"Content-Type": "application/json", "X-Faultbot-Timestamp": "1",
                     "X-Faultbot-Signature": "v1=00"})
        assert resp.status == 401
        assert (await resp.json())["reason"] == "unauthenticated"
        status, answer = await post(client, b"   ")
        assert (status, answer["reason"]) == (400, "empty_body")
        status, answer = await post(client, b"x" * 8192)
        assert (status, answer["reason"]) == (413, "body_too_large")
        resp = await client.post("/feed/ocpp", data=b"{}",
                                 headers={"Content-Type": "text/html",
                                          **signed_headers(SECRET, b"{}")})
        assert resp.status == 415 and (await resp.json())["reason"] == "unsupported_type"

        feed = (await (await client.get("/health")).json())["feeds"]["webhook"]
        assert feed["rejected"] == 3
        assert feed["rejected_by_reason"] == {
            "not_json": 1, "unknown_version": 1, "unusable_port": 1}
        assert feed["no_fact_by_reason"] == {"no_status": 2, "no_identity": 1}
        assert feed["refused"] == 4
        assert feed["refused_by_reason"] == {
            "unauthenticated": 1, "unsupported_type": 1, "body_too_large": 1, "empty_body": 1}

    with_client(sink, body, max_body=4096)
    assert stored(engine) == 4


def test_health_counts_reasons_through_the_store_sink(db_engine: Engine) -> None:
    _check(db_engine, "store")


def test_health_counts_reasons_through_the_pipeline_sink(db_engine: Engine) -> None:
    _check(db_engine, "pipeline")


def test_a_fresh_feed_shows_empty_counts(db_engine: Engine) -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        feed = (await (await client.get("/health")).json())["feeds"]["webhook"]
        assert feed["rejected_by_reason"] == feed["no_fact_by_reason"] == {}
        assert feed["refused"] == 0 and feed["refused_by_reason"] == {}

    with_client(store_sink(db_engine), body)
