"""Live feeds -> pipeline, end to end on SQLite and PostgreSQL: frames that arrive on the
signed webhook, on RabbitMQ (faultbot's format and CitrineOS's), or through the OCPP-J
tap are stored AND triaged: an e-stop StatusNotification opens one emergency_stop
incident, and redelivery neither stores nor counts anything twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from feeds_amqp import citrine_request, citrine_response, delete, publish_citrine, require_rabbitmq
from feeds_peers import CsmsState, port_of, run_charger16, start_csms
from sqlalchemy import Engine, func, select

from bot.feeds.broker import BrokerFeed, publish_records
from bot.feeds.sink import PipelineSink, SinkResult, default_sink, loader_sink, pipeline_sink
from bot.feeds.tap import OcppTap
from bot.feeds.webhook import add_webhook_routes, signed_headers
from bot.incidents.models import Incident
from bot.ocpp.events import Record
from bot.store.models import MessageRow

SECRET = "pipeline-secret"
ESTOP = {"connectorId": 1, "errorCode": "OtherError", "status": "Faulted", "vendorId": "Acme",
         "vendorErrorCode": "F400", "info": "EMERGENCY_STOP_BUTTON_1",
         "timestamp": "2026-11-20T07:59:58Z"}
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}


def contract1(charger: str) -> list[dict[str, Any]]:
    """Boot, its reply, the e-stop fault, its reply: four contract-1 objects."""
    def obj(ts: str, direction: str, frame: list[Any]) -> dict[str, Any]:
        return {"ts": ts, "charger": charger, "dir": direction, "frame": frame, "ocpp": "1.6"}

    return [
        obj("2026-11-20T07:59:00Z", "in", [2, f"{charger}-b", "BootNotification", BOOT]),
        obj("2026-11-20T07:59:00.1Z", "out", [3, f"{charger}-b", {
            "currentTime": "2026-11-20T07:59:00Z", "interval": 60, "status": "Accepted"}]),
        obj("2026-11-20T08:00:00Z", "in", [2, f"{charger}-s", "StatusNotification", ESTOP]),
        obj("2026-11-20T08:00:00.2Z", "out", [3, f"{charger}-s", {}]),
    ]


def recovery(charger: str) -> dict[str, Any]:
    """The port is available again at 08:05."""
    return {"ts": "2026-11-20T08:05:00Z", "charger": charger, "dir": "in", "ocpp": "1.6",
            "frame": [2, f"{charger}-a", "StatusNotification",
                      {"connectorId": 1, "errorCode": "NoError", "status": "Available"}]}


def stored_frames(engine: Engine, charger: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(MessageRow)
                               .where(MessageRow.charger_id == charger)) or 0)


def incidents(engine: Engine, charger: str) -> list[Incident]:
    with engine.connect() as conn:
        return list(conn.execute(select(Incident).where(Incident.charger == charger)).all())


def assert_triaged(engine: Engine, charger: str, frames: int) -> None:
    """The same end-to-end outcome for every feed."""
    assert stored_frames(engine, charger) == frames
    rows = incidents(engine, charger)
    assert [(r.category, r.connector, r.scope, r.occurrences) for r in rows] == [
        ("emergency_stop", 1, "port", 1)]
    assert rows[0].open_key == f"port:{charger}:1:emergency_stop"
    assert rows[0].resolved_at is None


def run(main: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


async def until(cond: Callable[[], bool], timeout: float = 20) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


@pytest.fixture
def sink(db_engine: Engine) -> PipelineSink:
    made = default_sink(db_engine)
    assert isinstance(made, PipelineSink)  # live feeds are triaged, not only stored
    return made


@pytest.fixture
def amqp_names() -> Iterator[tuple[str, dict[str, str]]]:
    url = require_rabbitmq()
    tag = uuid.uuid4().hex[:8]
    names = {"exchange": f"citrineos-e2e-{tag}", "queue": f"faultbot.e2e-{tag}"}
    yield url, names
    asyncio.run(delete(url, queues=[names["queue"], names["queue"] + ".dead"],
                       exchanges=[names["exchange"]]))


def test_webhook_frames_are_stored_and_triaged(db_engine: Engine, sink: PipelineSink) -> None:
    body = "\n".join(json.dumps(o) for o in contract1("CP-W1")).encode()

    async def main() -> None:
        app = web.Application()
        add_webhook_routes(app, sink, SECRET)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for expected in ((4, 0), (0, 4)):  # then the sender retries the same body
                resp = await client.post("/feed/ocpp", data=body, headers={
                    "Content-Type": "application/x-ndjson", **signed_headers(SECRET, body)})
                answer = await resp.json()
                assert resp.status == 200, answer
                assert (answer["stored"], answer["duplicates"]) == expected

    run(main)
    assert_triaged(db_engine, "CP-W1", 4)


def test_broker_faultbot_format_is_stored_and_triaged(
    db_engine: Engine, sink: PipelineSink, amqp_names: tuple[str, dict[str, str]]
) -> None:
    url, names = amqp_names

    async def main() -> None:
        feed = BrokerFeed(url, sink, mode="faultbot", queue=names["queue"], linger=0.01)
        await feed.start()
        try:
            conn = await aio_pika.connect(url, timeout=5)
            async with conn:
                channel = await conn.channel()
                await publish_records(channel, contract1("CP-B1"), queue=names["queue"])
                await until(lambda: feed.health.stored == 4)
                # A producer that re-sends (at-least-once): duplicates, nothing new.
                await publish_records(channel, contract1("CP-B1")[2:], queue=names["queue"])
                await until(lambda: feed.health.duplicates == 2)
        finally:
            await feed.stop()

    run(main)
    assert_triaged(db_engine, "CP-B1", 4)


def test_broker_citrineos_format_is_stored_and_triaged(
    db_engine: Engine, sink: PipelineSink, amqp_names: tuple[str, dict[str, str]]
) -> None:
    url, names = amqp_names

    async def main() -> None:
        feed = BrokerFeed(url, sink, mode="citrineos", queue=names["queue"],
                          exchange=names["exchange"], linger=0.01)
        await feed.start()
        try:
            await publish_citrine(url, names["exchange"], [
                citrine_request("CP-C1", "c-1", "BootNotification", BOOT,
                                ts="2026-11-20T07:59:00.000Z"),
                citrine_response("CP-C1", "c-1", "BootNotification", {
                    "currentTime": "2026-11-20T07:59:00Z", "interval": 60,
                    "status": "Accepted"}, ts="2026-11-20T07:59:00.100Z"),
                citrine_request("CP-C1", "c-2", "StatusNotification", ESTOP),
                citrine_response("CP-C1", "c-2", "StatusNotification", {}),
            ])
            await until(lambda: feed.health.stored == 4)
        finally:
            await feed.stop()

    run(main)
    assert_triaged(db_engine, "CP-C1", 4)


def test_tap_frames_are_stored_and_triaged(db_engine: Engine, sink: PipelineSink) -> None:
    async def main() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", sink, linger=0.01)
        await tap.start()
        try:
            # A real `ocpp` charge point: boot, the e-stop fault, a heartbeat (+ replies).
            await run_charger16(f"ws://127.0.0.1:{tap.port}/ocpp/CP-T1", "CP-T1")
            await until(lambda: tap.health.stored == 8)  # 6 frames, connected, closed
        finally:
            await tap.stop()
            csms.close()
        assert len(state.frames_got("CP-T1")) == 3  # the CSMS saw every call

    run(main)
    assert_triaged(db_engine, "CP-T1", 8)
    with db_engine.connect() as conn:  # the connection events are stored as such
        raws = conn.execute(select(MessageRow.raw).where(
            MessageRow.charger_id == "CP-T1", MessageRow.message_type == 0)
            .order_by(MessageRow.id)).scalars().all()
    assert [json.loads(raw)[2] for raw in raws] == ["connected", "closed"]


def test_tick_settles_a_recovery_without_new_frames(db_engine: Engine) -> None:
    """The runner ticks the pipeline: a recovered port's incident resolves once its
    hold-down has passed, although no frame arrives after the recovery."""
    sink = pipeline_sink(db_engine, hold_down=timedelta(minutes=10))
    objs = [*contract1("CP-K1"), recovery("CP-K1")]
    from bot.ocpp.readers import read_json_objects

    records = [r for r in read_json_objects(objs, source="t") if isinstance(r, Record)]
    assert sink(records) == SinkResult(stored=5)
    assert incidents(db_engine, "CP-K1")[0].resolved_at is None  # still in its hold-down
    sink.tick(datetime(2026, 11, 20, 8, 16, tzinfo=UTC))
    rows = {r.category: r for r in incidents(db_engine, "CP-K1")}
    assert rows["emergency_stop"].open_key is None
    assert rows["emergency_stop"].resolved_at == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)
    # The same tick notices that the charger (60 s heartbeat) has gone quiet since 08:05.
    assert rows["connectivity"].open_key is not None
    assert rows["connectivity"].opened_at == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)


def test_loader_sink_stores_and_pairs_replies_across_batches(db_engine: Engine) -> None:
    from bot.ocpp.readers import read_json_objects

    sink = loader_sink(db_engine)
    records = [r for r in read_json_objects(contract1("CP-L1"), source="t")
               if isinstance(r, Record)]
    assert sink(records[:3]) == SinkResult(stored=3)
    assert sink(records[1:]) == SinkResult(stored=1, duplicates=2)  # reply in a later batch
    with db_engine.connect() as conn:
        actions = conn.execute(select(MessageRow.direction, MessageRow.action)
                               .order_by(MessageRow.occurred_at)).all()
    assert [tuple(a) for a in actions][-1] == ("out", "StatusNotification")
    assert incidents(db_engine, "CP-L1") == []  # the loader stores, it does not triage


def test_run_feeds_resolves_on_the_feed_clock(db_engine: Engine) -> None:
    """run_feeds with the default sink: a webhook frame is triaged, and a recovered port's
    incident resolves when the feed's own clock passes its hold-down (a later frame from
    any charger), not on a wall-clock timer, so a replay of the same frames decides the
    same. Until then the hold-down holds, whatever the wall clock says."""
    import socket

    from aiohttp import ClientSession

    from bot.config import load_settings
    from bot.feeds.options import FeedOptions
    from bot.feeds.runner import run_feeds

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    sink = default_sink(db_engine, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    objs = [*contract1("CP-R1"), recovery("CP-R1")]
    body = "\n".join(json.dumps(o) for o in objs).encode()
    later = json.dumps({"ts": "2026-11-20T08:16:00Z", "charger": "CP-R2", "dir": "in",
                        "frame": [2, "hb-1", "Heartbeat", {}], "ocpp": "1.6"}).encode()

    def estop() -> Any:
        rows = [r for r in incidents(db_engine, "CP-R1") if r.category == "emergency_stop"]
        return rows[0] if rows else None

    async def main() -> None:
        settings = load_settings({"FAULTBOT_WEBHOOK_SECRET": SECRET,
                                  "FAULTBOT_HTTP_HOST": "127.0.0.1",
                                  "FAULTBOT_HTTP_PORT": str(port)}, dotenv=False)
        stop = asyncio.Event()
        task = asyncio.create_task(run_feeds(settings, sink, web_app=None, stop_event=stop,
                                             options=FeedOptions()))
        try:
            async with ClientSession() as client:
                async def post(data: bytes) -> int:
                    async with client.post(f"http://127.0.0.1:{port}/feed/ocpp", data=data,
                                           headers=signed_headers(SECRET, data)) as r:
                        return r.status

                async def posted(data: bytes) -> None:
                    while True:
                        try:
                            if await post(data) == 200:
                                return
                        except OSError:  # not listening yet
                            pass
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(posted(body), 10)
                await asyncio.sleep(0.3)
                inc = estop()
                assert inc is not None and inc.resolved_at is None  # in its hold-down
                await asyncio.wait_for(posted(later), 10)
            inc = estop()
            assert inc is not None and inc.resolved_at == datetime(2026, 11, 20, 8, 5,
                                                                   tzinfo=UTC)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)

    run(main)
    assert stored_frames(db_engine, "CP-R1") == 5
