"""Poison on the live feeds (issue 10), against the real RabbitMQ and the real store.

Before: one frame the database could not take made the RabbitMQ consumer requeue its
batch for ever (0 of 40 good messages stored, nothing dead-lettered), the webhook
answer 503 for ever, and a burst arriving in the last ~50 ms of the consumer's 0.5 s
wait was taken off the inbox and never processed nor acked.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import pytest
from feeds_amqp import delete, drain, require_rabbitmq
from feeds_peers import CollectingSink
from poison_frames import SURROGATE, status16, wrap
from sqlalchemy import Engine, select, text

from bot.feeds.broker import REASON_HEADER, BrokerFeed
from bot.feeds.partition import partition_of, partition_queue
from bot.feeds.sink import pipeline_sink
from bot.feeds.webhook import add_webhook_routes, signed_headers
from bot.store.models import MessageRow

SECRET = "s3cret"


@pytest.fixture
def amqp_url() -> str:
    return require_rabbitmq()


@pytest.fixture
def names(amqp_url: str) -> Any:
    tag = uuid.uuid4().hex[:8]
    made = {"queue": f"faultbot.poison-{tag}", "part": f"faultbot.part-poison-{tag}"}
    yield made
    queues = [made["queue"], made["queue"] + ".dead"] + [
        partition_queue(i, made["part"]) for i in range(2)
    ]
    asyncio.run(delete(amqp_url, queues=queues, exchanges=[made["part"]]))


async def until(cond: Callable[[], bool], timeout: float = 20) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def uids(engine: Engine, charger: str) -> set[str]:
    """The stored frames' unique ids (their second element: store_0007)."""
    with engine.connect() as conn:
        return {json.loads(r[0])[1] for r in conn.execute(
            select(MessageRow.raw).where(MessageRow.charger_id == charger))}


async def publish_bodies(url: str, queue: str, bodies: list[bytes]) -> None:
    conn = await aio_pika.connect(url, timeout=5)
    async with conn:
        channel = await conn.channel()
        await channel.declare_queue(queue, durable=True,
                                    arguments={"x-single-active-consumer": True})
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, content_type="application/json"), routing_key=queue)


def line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()  # ASCII, with \\ud800 as the JSON escape


# --- broker ------------------------------------------------------------------------------------


def test_poison_messages_are_dead_lettered_and_the_40_good_ones_stored(
    amqp_url: str, names: dict[str, str], db_engine: Engine
) -> None:
    with db_engine.begin() as conn:  # a refusal nobody can foresee: the database's own
        if db_engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE messages ADD CONSTRAINT refuse_evil "
                              "CHECK (charger_id <> 'CP-REFUSED')"))
        else:
            conn.execute(text("CREATE TRIGGER refuse_evil BEFORE INSERT ON messages WHEN "
                              "NEW.charger_id = 'CP-REFUSED' BEGIN SELECT RAISE(ABORT, 'no'); "
                              "END"))
    good = []
    for i in range(40):
        # some good ones carry text no database takes as is: they are cleaned and stored
        info = f"E-STOP {SURROGATE}" if i % 10 == 3 else ("a\x00b" if i % 10 == 7 else "ok")
        good.append(line(wrap("CP-B", f"g{i}", "StatusNotification", status16(1 + i % 2,
                                                                             info=info), "1.6")))
    absurd = line(wrap("CP-B", "absurd", "StatusNotification", status16(2**63), "1.6"))
    refused = line(wrap("CP-REFUSED", "refused-by-db", "StatusNotification", status16(1), "1.6"))
    bodies = [*good[:17], absurd, *good[17:30], refused, *good[30:]]

    async def main() -> list[aio_pika.abc.AbstractIncomingMessage]:
        feed = BrokerFeed(amqp_url, pipeline_sink(db_engine), mode="faultbot",
                          queue=names["queue"], linger=0.05)
        await feed.start()
        try:
            await publish_bodies(amqp_url, names["queue"], bodies)
            await until(lambda: feed.health.dead_lettered == 2 and feed.health.stored == 40)
        finally:
            await feed.stop()
        return await drain(amqp_url, names["queue"] + ".dead")

    try:
        dead = asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        with db_engine.begin() as conn:
            if db_engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE messages DROP CONSTRAINT refuse_evil"))
            else:
                conn.execute(text("DROP TRIGGER refuse_evil"))
    assert uids(db_engine, "CP-B") == {f"g{i}" for i in range(40)}
    by_body = {m.body: m for m in dead}
    assert set(by_body) == {absurd, refused}  # byte for byte
    assert by_body[absurd].headers[REASON_HEADER] == (
        "connectorId 9223372036854775808 is out of range (max 2147483647)"
    )
    assert str(by_body[refused].headers[REASON_HEADER]).startswith("the database refused it")
    assert asyncio.run(drain(amqp_url, names["queue"])) == []  # nothing left unacked


@pytest.mark.parametrize("partitioned", [False, True])
def test_a_burst_in_the_last_moments_of_the_wait_is_processed(
    amqp_url: str, names: dict[str, str], partitioned: bool
) -> None:
    """The consumer (and the partition router) waits 0.5 s for a first message, then
    lingers for more. A burst landing at +0.46 s with a 0.2 s linger used to be
    cancelled mid-collection at +0.5 s: taken off the inbox, never stored nor acked."""
    chargers = [f"CP-{i}" for i in range(200) if partition_of(f"CP-{i}", 2) == 0][:20]
    objs = [wrap(c, f"b{i}", "Heartbeat", {}, "1.6") for i, c in enumerate(chargers)]
    sink = CollectingSink()

    async def main() -> None:
        feed = BrokerFeed(amqp_url, sink, mode="faultbot", queue=names["queue"],
                          linger=0.2, partition=(0, 2) if partitioned else (0, 1),
                          partition_exchange=names["part"])
        conn = await aio_pika.connect(amqp_url, timeout=5)
        channel = await conn.channel()
        await feed.start()
        started = time.monotonic()
        try:
            await asyncio.sleep(max(0.0, started + 0.46 - time.monotonic()))
            await asyncio.gather(*(
                channel.default_exchange.publish(aio_pika.Message(line(o)),
                                                 routing_key=names["queue"])
                for o in objs
            ))
            await until(lambda: len(sink.records) == len(objs), timeout=10)
        finally:
            await conn.close()
            await feed.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
    assert sorted(r.charger for r in sink.records) == sorted(chargers)
    assert asyncio.run(drain(amqp_url, names["queue"])) == []


# --- webhook -----------------------------------------------------------------------------------


def with_client(engine: Engine, body: Callable[[Any], Any], **kw: Any) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    async def main() -> None:
        app = web.Application()
        add_webhook_routes(app, pipeline_sink(engine), SECRET, **kw)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await body(client)

    asyncio.run(asyncio.wait_for(main(), 60))


async def post(client: Any, payload: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": "application/x-ndjson", **signed_headers(SECRET, payload)}
    resp = await client.post("/feed/ocpp", data=payload, headers=headers)
    return resp.status, await resp.json()


def test_webhook_mixed_body_stores_the_good_frames_and_lists_the_rejects(
    db_engine: Engine,
) -> None:
    lines = [
        line(wrap("CP-W", "w1", "StatusNotification", status16(1), "1.6")),
        line(wrap("CP-W", "w2", "StatusNotification", status16(2**31), "1.6")),
        line(wrap("CP-W", "w3", "StatusNotification", status16(1, info=SURROGATE), "1.6")),
        b"{not json",
        line(wrap("CP-W", "w5", "StatusNotification", status16(-1), "1.6")),
        line(wrap("CP-W", "w6", "StatusNotification", status16(None), "1.6")),
    ]

    async def body(client: Any) -> None:
        status, answer = await post(client, b"\n".join(lines))
        assert status == 200, answer
        assert answer["stored"] == 3
        assert [(r["line"], r["reason"]) for r in answer["rejected"]] == [
            (2, "connectorId 2147483648 is out of range (max 2147483647)"),
            (4, answer["rejected"][1]["reason"]),
            (5, "connectorId -1 is negative; ports are numbered from 0"),
        ]
        assert answer["rejected"][1]["reason"].startswith("not JSON")
        # a body made only of poison: 400 (a retry cannot succeed), never 5xx
        status, answer = await post(client, lines[1] + b"\n" + lines[4])
        assert status == 400 and answer["stored"] == 0 and answer["rejected_count"] == 2
        # redelivery of the good part: 200, duplicates
        status, answer = await post(client, lines[0])
        assert (status, answer["stored"], answer["duplicates"]) == (200, 0, 1)

    with_client(db_engine, body)
    assert uids(db_engine, "CP-W") == {"w1", "w3", "w6"}


def test_webhook_cuts_a_slow_body(db_engine: Engine) -> None:
    async def body(client: Any) -> None:
        port = client.server.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = line(wrap("CP-S", "s1", "Heartbeat", {}, "1.6"))
        headers = signed_headers(SECRET, payload)
        writer.write(
            (f"POST /feed/ocpp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             f"Content-Length: {len(payload)}\r\n"
             + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
            + payload[:5]
        )
        await writer.drain()
        started = time.monotonic()
        head = await asyncio.wait_for(reader.readline(), 5)  # the answer comes unasked
        waited = time.monotonic() - started
        assert b" 408 " in head, head
        assert 0.4 <= waited < 3
        rest = await asyncio.wait_for(reader.read(), 5)  # then the server closes
        assert b"body not received within 0.5 s" in rest
        writer.close()

    with_client(db_engine, body, body_timeout=0.5)


def test_webhook_recovers_when_the_database_comes_back_empty(postgres_url: str) -> None:
    """Dropped (503, retry) then recreated empty: the next post migrates and stores,
    without a restart (it used to answer 503 until faultbot was restarted)."""
    from bot.store.db import make_engine, migrate

    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"faultbot_back_{uuid.uuid4().hex[:8]}"
    url = postgres_url.rsplit("/", 1)[0] + "/" + name

    def sql(statement: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(statement))

    sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    migrate(engine)

    async def body(client: Any) -> None:
        frames = [line(wrap("CP-R", f"r{i}", "StatusNotification", status16(1), "1.6"))
                  for i in range(3)]
        assert (await post(client, frames[0]))[0] == 200
        sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, answer = await post(client, frames[1])
        assert status == 503 and "retry" in answer["error"]
        sql(f'CREATE DATABASE "{name}"')  # back, but empty
        status, answer = await post(client, frames[1])
        assert (status, answer["stored"]) == (200, 1), answer
        assert (await post(client, frames[2]))[1]["stored"] == 1

    try:
        with_client(engine, body)
        assert uids(engine, "CP-R") == {"r1", "r2"}
    finally:
        engine.dispose()
        sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
