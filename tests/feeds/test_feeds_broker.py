"""The RabbitMQ feed on a real broker: CitrineOS's headers exchange, faultbot's own
format, dead letters, nack-and-redeliver, partitions, and reconnects."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import pytest
from conftest import service_unavailable
from feeds_amqp import (
    citrine_request,
    citrine_response,
    delete,
    drain,
    publish_citrine,
    require_rabbitmq,
)
from feeds_peers import CollectingSink
from sqlalchemy import Engine, func, select

from bot.feeds.broker import REASON_HEADER, BrokerFeed, publish_records
from bot.feeds.partition import partition_of, partition_queue
from bot.feeds.sink import store_sink
from bot.store.models import MessageRow

FAULT = {"connectorId": 1, "errorCode": "OtherError", "status": "Faulted",
         "vendorId": "Acme", "vendorErrorCode": "F400", "timestamp": "2026-11-20T07:59:58Z"}


@pytest.fixture
def amqp_url() -> str:
    return require_rabbitmq()


@pytest.fixture
def names(amqp_url: str) -> Any:
    tag = uuid.uuid4().hex[:8]
    made = {"exchange": f"citrineos-test-{tag}", "queue": f"faultbot.test-{tag}",
            "part": f"faultbot.part-test-{tag}"}
    yield made
    queues = [made["queue"], made["queue"] + ".dead"] + [
        partition_queue(i, made["part"]) for i in range(3)
    ]
    asyncio.run(delete(amqp_url, queues=queues, exchanges=[made["exchange"], made["part"]]))


async def until(cond: Callable[[], bool], timeout: float = 15) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(MessageRow)) or 0)


def test_citrineos_both_key_styles_and_dead_letters(
    amqp_url: str, names: dict[str, str], db_engine: Engine
) -> None:
    async def main() -> list[aio_pika.abc.AbstractIncomingMessage]:
        feed = BrokerFeed(amqp_url, store_sink(db_engine), mode="citrineos",
                          queue=names["queue"], exchange=names["exchange"], linger=0.01)
        await feed.start()
        try:
            no_station = citrine_request("x", "u-9", "Heartbeat", {})
            body = json.loads(no_station[0])
            del body["context"]["stationId"]
            await publish_citrine(amqp_url, names["exchange"], [
                citrine_request("CP-1", "u-1", "StatusNotification", FAULT),
                citrine_response("CP-1", "u-1", "StatusNotification", {}),
                (b"\x00not json", {"origin": "cs"}),
                (json.dumps(body).encode(), {"origin": "cs", "state": "1"}),
            ])
            await until(lambda: feed.health.stored == 2 and feed.health.dead_lettered == 2)
        finally:
            await feed.stop()
        return await drain(amqp_url, names["queue"] + ".dead")

    dead = asyncio.run(asyncio.wait_for(main(), 60))
    reasons = sorted(str(m.headers[REASON_HEADER]) for m in dead)
    assert reasons == ["body is not JSON", "no stationId in context or headers"]
    assert count_rows(db_engine) == 2
    with db_engine.connect() as conn:
        rows = conn.execute(select(MessageRow.direction, MessageRow.action, MessageRow.raw)
                            .order_by(MessageRow.id)).all()
    assert sorted((r.direction, r.action) for r in rows) == [
        ("in", "StatusNotification"), ("out", "StatusNotification")]


def test_sink_failure_nacks_and_redelivers(amqp_url: str, names: dict[str, str]) -> None:
    sink = CollectingSink()
    sink.down = True

    async def main() -> None:
        feed = BrokerFeed(amqp_url, sink, mode="faultbot", queue=names["queue"], linger=0.01)
        await feed.start()
        try:
            conn = await aio_pika.connect(amqp_url)
            async with conn:
                objs = [{"ts": "2026-11-20T08:00:00Z", "charger": f"CP-{i}", "dir": "in",
                         "frame": [2, f"h{i}", "Heartbeat", {}]} for i in range(5)]
                await publish_records(await conn.channel(), objs, queue=names["queue"])
            await until(lambda: feed.health.sink_failures >= 1)
            sink.down = False  # the database is back: the requeued messages are stored
            await until(lambda: len(sink.records) == 5)
        finally:
            await feed.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
    assert sorted(r.charger for r in sink.records) == [f"CP-{i}" for i in range(5)]


def test_two_workers_each_own_their_chargers_in_order(
    amqp_url: str, names: dict[str, str]
) -> None:
    sinks = [CollectingSink(), CollectingSink()]
    chargers = [f"CP-{i:03d}" for i in range(12)]

    async def main() -> None:
        feeds = [
            BrokerFeed(amqp_url, sinks[i], mode="citrineos", queue=names["queue"],
                       exchange=names["exchange"], partition=(i, 2),
                       partition_exchange=names["part"], linger=0.01, batch_size=7)
            for i in range(2)
        ]
        for feed in feeds:
            await feed.start()
        try:
            msgs = [
                citrine_request(cp, f"{cp}-{n}", "Heartbeat", {},
                                ts=f"2026-11-20T08:00:{n:02d}Z")
                for n in range(20) for cp in chargers
            ]
            await publish_citrine(amqp_url, names["exchange"], msgs)
            await until(lambda: sum(len(s.records) for s in sinks) == 240)
        finally:
            for feed in feeds:
                await feed.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
    for index, sink in enumerate(sinks):
        mine = {r.charger for r in sink.records}
        assert mine == {cp for cp in chargers if partition_of(cp, 2) == index}
        for cp in mine:
            ids = [r.frame[1] for r in sink.records if r.charger == cp]
            assert ids == [f"{cp}-{n}" for n in range(20)]  # in order


def test_exchange_redeclared_after_broker_drops_the_connection(
    amqp_url: str, names: dict[str, str]
) -> None:
    try:
        ctl = subprocess.run(["rabbitmqctl", "status"], capture_output=True, timeout=30)
        problem = ctl.stderr.decode(errors="replace").strip()[:200] if ctl.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem:  # like any absent service: a skip on a laptop, a failure in CI
        service_unavailable("RabbitMQ (rabbitmqctl, to drop a connection)", problem)
    sink = CollectingSink()
    conn_name = f"faultbot-test-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        feed = BrokerFeed(amqp_url, sink, mode="citrineos", queue=names["queue"],
                          exchange=names["exchange"], linger=0.01, connection_name=conn_name)
        await feed.start()
        try:
            reconnected = asyncio.Event()
            assert feed._conn is not None
            feed._conn.reconnect_callbacks.add(lambda *_: reconnected.set())
            # What a RabbitMQ restart does to CitrineOS's non-durable exchange:
            await delete(amqp_url, queues=[], exchanges=[names["exchange"]])
            listing = subprocess.run(
                ["rabbitmqctl", "list_connections", "pid", "client_properties", "-q"],
                capture_output=True, text=True, timeout=30,
            ).stdout
            pids = [line.split("\t", 1)[0] for line in listing.splitlines() if conn_name in line]
            assert pids, listing
            for pid in pids:
                subprocess.run(["rabbitmqctl", "close_connection", pid, "test drop"],
                               capture_output=True, timeout=30)
            await asyncio.wait_for(reconnected.wait(), 30)
            await asyncio.sleep(0.5)
            await publish_citrine(amqp_url, names["exchange"], [
                citrine_request("CP-R", "r-1", "StatusNotification", FAULT)])
            await until(lambda: len(sink.records) == 1)
        finally:
            await feed.stop()

    asyncio.run(asyncio.wait_for(main(), 90))
    assert sink.records[0].charger == "CP-R"
