"""RabbitMQ helpers for feed tests: a reachable broker or a clear skip, CitrineOS-shaped
publishing, and cleanup of the per-test exchanges and queues."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

import aio_pika
from conftest import service_unavailable

AMQP_URL = os.environ.get("FAULTBOT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def require_rabbitmq() -> str:
    async def probe() -> None:
        conn = await aio_pika.connect(AMQP_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except Exception as exc:  # any failure means "absent"
        service_unavailable("RabbitMQ", f"{AMQP_URL}: {exc}")
    return AMQP_URL


def citrine_request(station: str, uid: str, action: str, payload: dict[str, Any],
                    *, ts: str = "2026-11-20T08:00:00.123Z") -> tuple[bytes, dict[str, Any]]:
    """A charger CALL as CitrineOS's router publishes it (plain keys)."""
    body = {"origin": "cs", "eventGroup": "router", "action": action,
            "context": {"stationId": station, "correlationId": uid, "tenantId": 1,
                        "timestamp": ts},
            "state": 1, "protocol": "ocpp1.6", "payload": payload}
    headers = {"origin": "cs", "eventGroup": "router", "action": action, "state": "1",
               "correlationId": uid, "stationId": station, "tenantId": "1", "timestamp": ts}
    return json.dumps(body).encode(), headers


def citrine_response(station: str, uid: str, action: str, payload: dict[str, Any],
                     *, ts: str = "2026-11-20T08:00:00.200Z") -> tuple[bytes, dict[str, Any]]:
    """A CSMS CALLRESULT, serialised from a Message instance (underscore keys)."""
    body = {"_origin": "csms", "_eventGroup": "router", "_action": action,
            "_context": {"stationId": station, "correlationId": uid, "tenantId": 1,
                         "timestamp": ts},
            "_state": 2, "_protocol": "ocpp1.6", "_payload": payload}
    headers = {"origin": "csms", "eventGroup": "router", "action": action, "state": "2",
               "correlationId": uid, "stationId": station, "tenantId": "1", "timestamp": ts}
    return json.dumps(body).encode(), headers


async def publish_citrine(url: str, exchange: str, messages: list[tuple[bytes, dict[str, Any]]]
                          ) -> None:
    conn = await aio_pika.connect(url, timeout=5)
    async with conn:
        channel = await conn.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.HEADERS,
                                            durable=False)
        for body, headers in messages:
            await ex.publish(
                aio_pika.Message(body, headers=headers, content_type="application/json",
                                 content_encoding="utf-8"),
                routing_key="",
            )


async def drain(url: str, queue: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    conn = await aio_pika.connect(url, timeout=5)
    out = []
    async with conn:
        channel = await conn.channel()
        q = await channel.declare_queue(queue, durable=True, passive=True)
        while True:
            msg = await q.get(fail=False, no_ack=True)
            if msg is None:
                return out
            out.append(msg)


async def delete(url: str, *, queues: list[str], exchanges: list[str]) -> None:
    conn = await aio_pika.connect(url, timeout=5)
    async with conn:
        for name in queues:
            channel = await conn.channel()
            with contextlib.suppress(Exception):  # already gone
                await channel.queue_delete(name)
        for name in exchanges:
            channel = await conn.channel()
            with contextlib.suppress(Exception):  # already gone
                await channel.exchange_delete(name)
