"""Issue 6 item 4, on PostgreSQL: several workers, one database, a real broker.

* two workers (each its own engine, Pipeline and broker consumer) ingest overlapping
  feeds: every frame is stored once, triaged once, and one fault is one incident;
* a worker (`faultbot feed broker` in a subprocess) is SIGKILLed holding a batch it
  received but did not ack: the broker hands it to the standby worker, nothing is
  lost or stored twice;
* the database refuses connections for a while: the broker redelivers until it is
  back, nothing is lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiohttp import ClientSession
from conftest import PG_ADMIN_URL, REPO, _truncate_all
from db_reset import private_pg_database
from feeds_amqp import (
    citrine_request,
    citrine_response,
    delete,
    drain,
    publish_citrine,
    require_rabbitmq,
)
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bot.feeds.broker import REASON_HEADER, BrokerFeed, publish_records
from bot.feeds.partition import partition_of
from bot.feeds.sink import PipelineSink
from bot.incidents.changes import IncidentChange
from bot.incidents.models import DiagnosisRow, Incident
from bot.store.db import make_engine
from bot.store.models import MessageRow

FAULTS_PER_PORT = 3


def fleet(chargers: int, *, prefix: str = "CP") -> list[dict[str, Any]]:
    """Contract-1 objects in feed order: each charger boots, then reports an e-stop on
    port 1 three times (a minute apart) between heartbeats; port 2 stays available."""
    out: list[dict[str, Any]] = []

    def add(cp: str, minute: int, second: int, direction: str, frame: list[Any]) -> None:
        ts = f"2026-11-20T08:{minute:02d}:{second:02d}Z"
        out.append({"ts": ts, "charger": cp, "dir": direction, "frame": frame, "ocpp": "1.6"})

    ids = [f"{prefix}-{i:03d}" for i in range(chargers)]
    for cp in ids:
        add(cp, 0, 0, "in", [2, f"{cp}-boot", "BootNotification",
                             {"chargePointVendor": "Acme", "chargePointModel": "AC22"}])
        add(cp, 0, 1, "out", [3, f"{cp}-boot", {"currentTime": "2026-11-20T08:00:01Z",
                                                 "interval": 60, "status": "Accepted"}])
    for minute in range(1, FAULTS_PER_PORT + 1):
        for cp in ids:
            add(cp, minute, 0, "in", [2, f"{cp}-f{minute}", "StatusNotification", {
                "connectorId": 1, "errorCode": "OtherError", "status": "Faulted",
                "vendorId": "Acme", "vendorErrorCode": "F400",
                "info": "EMERGENCY_STOP_BUTTON_1",
                "timestamp": f"2026-11-20T08:{minute:02d}:00Z"}])
            add(cp, minute, 0, "out", [3, f"{cp}-f{minute}", {}])
            add(cp, minute, 30, "in", [2, f"{cp}-h{minute}", "StatusNotification", {
                "connectorId": 2, "errorCode": "NoError", "status": "Available"}])
            add(cp, minute, 30, "out", [3, f"{cp}-h{minute}", {}])
    return out


class OpenedCounter:
    """A pipeline listener (runs inside the incident transaction, as the Slack outbox
    does): counts the incidents announced as opened by every worker together."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, _session: Session, changes: list[IncidentChange]) -> None:
        # Counted after commit would be exact; inside the transaction a rollback could
        # over-count, which would fail the test loudly rather than hide a duplicate.
        with self._lock:
            self.count += sum(1 for c in changes if c.kind == "opened")


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    engine = make_engine(postgres_url)
    _truncate_all(engine)
    engine.dispose()
    return postgres_url


@pytest.fixture
def amqp() -> Iterator[tuple[str, str]]:
    url = require_rabbitmq()
    queue = f"faultbot.conc-{uuid.uuid4().hex[:8]}"
    yield url, queue
    queues = [q + suffix for q in (queue, queue + "-b") for suffix in ("", ".dead")]
    asyncio.run(delete(url, queues=queues, exchanges=[]))


def run(main: Callable[[], Awaitable[None]], timeout: float = 90) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


async def until(cond: Callable[[], bool], timeout: float = 30) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(loop(), timeout)


async def publish(url: str, objects: list[dict[str, Any]], *queues: str,
                  chunk: int = 20) -> None:
    """The same records to each queue, a chunk at a time to one queue after the other,
    so that overlapping feeds fill at the same pace (one queue filled well before the
    other would let its worker store everything alone)."""
    conn = await aio_pika.connect(url, timeout=5)
    async with conn:
        channel = await conn.channel(publisher_confirms=True)
        for queue in queues:
            await channel.declare_queue(queue, durable=True,
                                        arguments={"x-single-active-consumer": True})
        for start in range(0, len(objects), chunk):
            for queue in queues:
                await publish_records(channel, objects[start:start + chunk], queue=queue)


def scalar(engine: Engine, stmt: Any) -> Any:
    with engine.connect() as conn:
        return conn.scalar(stmt)


def assert_exactly_once(engine: Engine, objects: list[dict[str, Any]], chargers: int) -> None:
    """Every frame stored once; one e-stop incident per port, each fault frame counted
    once; no incident for the healthy port."""
    assert scalar(engine, select(func.count()).select_from(MessageRow)) == len(objects)
    with engine.connect() as conn:
        rows = conn.execute(select(Incident.open_key, Incident.category, Incident.connector,
                                   Incident.occurrences)).all()
        diagnoses = conn.scalar(select(func.count()).select_from(DiagnosisRow)
                                .where(DiagnosisRow.category == "emergency_stop"))
    expected = {f"port:CP-{i:03d}:1:emergency_stop" for i in range(chargers)}
    assert sorted(r.open_key for r in rows) == sorted(expected)  # one per fault, no more
    assert {(r.category, r.connector, r.occurrences) for r in rows} == {
        ("emergency_stop", 1, FAULTS_PER_PORT)}
    assert diagnoses == chargers * FAULTS_PER_PORT  # every fault frame triaged once


def test_two_workers_on_overlapping_feeds(pg_url: str, amqp: tuple[str, str]) -> None:
    """The same traffic reaches both workers (two queues, e.g. two CSMS relays); each
    frame is new to exactly one of them, and both race to open the same incidents."""
    url, queue = amqp
    chargers = 30
    objects = fleet(chargers)
    engines = [make_engine(pg_url), make_engine(pg_url)]
    opened = OpenedCounter()
    sinks = [PipelineSink(e, listeners=[opened]) for e in engines]

    async def main() -> None:
        feeds = [
            BrokerFeed(url, sinks[i], mode="faultbot", queue=q, linger=0.005,
                       batch_size=size, connection_name=f"faultbot-conc-{i}")
            for i, (q, size) in enumerate(((queue, 17), (queue + "-b", 29)))
        ]
        for feed in feeds:
            await feed.start()
        try:
            await publish(url, objects, queue, queue + "-b")
            await until(lambda: all(f.health.stored + f.health.duplicates == len(objects)
                                    for f in feeds))
        finally:
            for feed in feeds:
                await feed.stop()
        assert sum(f.health.stored for f in feeds) == len(objects)
        assert all(f.health.stored > 0 for f in feeds)  # both really worked
        assert sum(f.health.dead_lettered for f in feeds) == 0

    try:
        run(main)
        assert_exactly_once(engines[0], objects, chargers)
        assert opened.count == chargers  # one "opened" (one Slack alert) per fault
    finally:
        for engine in engines:
            engine.dispose()


def test_two_workers_race_to_open_the_same_incidents(pg_url: str, amqp: tuple[str, str]
                                                     ) -> None:
    """Both workers hold different reports of the same faults (A: the 1st and 3rd, B:
    the 2nd) and store and triage them at the same moment: each opens every incident,
    the unique open_key lets one win per fault, the other merges into it."""
    url, queue = amqp
    chargers = 30
    objects = fleet(chargers)
    def frame_id(o: dict[str, Any]) -> str:
        return str(o["frame"][1])

    shared = [o for o in objects if frame_id(o).endswith("-boot")]
    a = shared + [o for o in objects if frame_id(o).endswith(("-f1", "-f3", "-h1", "-h3"))]
    b = shared + [o for o in objects if frame_id(o).endswith(("-f2", "-h2"))]
    engines = [make_engine(pg_url), make_engine(pg_url)]
    opened = OpenedCounter()
    sinks = [PipelineSink(e, listeners=[opened]) for e in engines]

    async def main() -> None:
        # Both queues are full before either worker starts: one big batch each, at once.
        await asyncio.gather(publish(url, a, queue), publish(url, b, queue + "-b"))
        feeds = [BrokerFeed(url, sinks[i], mode="faultbot", queue=q, batch_size=1000,
                            linger=0.2, connection_name=f"faultbot-race-{i}")
                 for i, q in enumerate((queue, queue + "-b"))]
        await asyncio.gather(*(f.start() for f in feeds))
        try:
            await until(lambda: feeds[0].health.stored + feeds[0].health.duplicates == len(a)
                        and feeds[1].health.stored + feeds[1].health.duplicates == len(b))
        finally:
            for feed in feeds:
                await feed.stop()
        assert sum(f.health.sink_failures for f in feeds) == 0

    try:
        run(main)
        assert_exactly_once(engines[0], objects, chargers)
        assert opened.count == chargers
    finally:
        for engine in engines:
            engine.dispose()


def as_citrineos(objects: list[dict[str, Any]]) -> list[tuple[bytes, dict[str, Any]]]:
    """The same traffic as CitrineOS's router publishes it to its headers exchange."""
    out: list[tuple[bytes, dict[str, Any]]] = []
    actions: dict[str, str] = {}
    for o in objects:
        frame, ts = o["frame"], o["ts"].replace("Z", ".000Z")
        if frame[0] == 2:
            actions[frame[1]] = frame[2]
            out.append(citrine_request(o["charger"], frame[1], frame[2], frame[3], ts=ts))
        else:
            out.append(citrine_response(o["charger"], frame[1], actions[frame[1]], frame[2],
                                        ts=ts))
    return out


def test_partitioned_workers_citrineos_into_one_database(
    pg_url: str, amqp: tuple[str, str]
) -> None:
    """Two partitioned workers behind the router (frames travel in partition envelopes):
    each charger's frames reach one worker, everything is stored and triaged once, and
    what cannot be read reaches the dead-letter queue byte for byte."""
    url, queue = amqp
    tag = queue.rsplit("-", 1)[1]
    exchange, part = f"citrineos-conc-{tag}", f"faultbot.part-conc-{tag}"
    chargers = 20
    objects = fleet(chargers)
    garbage = b"\xff\x00 not json"
    messages = as_citrineos(objects)
    messages.insert(len(messages) // 2, (garbage, {"origin": "cs", "stationId": "CP-001"}))
    engines = [make_engine(pg_url), make_engine(pg_url)]
    opened = OpenedCounter()
    sinks = [PipelineSink(e, listeners=[opened]) for e in engines]

    async def main() -> list[aio_pika.abc.AbstractIncomingMessage]:
        feeds = [BrokerFeed(url, sinks[i], mode="citrineos", queue=queue, exchange=exchange,
                            partition=(i, 2), partition_exchange=part, batch_size=50,
                            linger=0.01, connection_name=f"faultbot-part-{i}")
                 for i in range(2)]
        for feed in feeds:
            await feed.start()
        try:
            await publish_citrine(url, exchange, messages)
            await until(lambda: sum(f.health.stored for f in feeds) == len(objects)
                        and sum(f.health.dead_lettered for f in feeds) == 1)
        finally:
            for feed in feeds:
                await feed.stop()
        assert all(f.health.stored > 0 for f in feeds)
        return await drain(url, queue + ".dead")

    try:
        [dead] = asyncio.run(asyncio.wait_for(main(), 90))
        assert dead.body == garbage
        assert dead.headers[REASON_HEADER] == "body is not JSON"
        assert_exactly_once(engines[0], objects, chargers)
        assert opened.count == chargers
        with engines[0].connect() as conn:
            sources = dict(conn.execute(select(MessageRow.charger_id, MessageRow.source)
                                        .distinct()).all())
        for cp, source in sources.items():  # one charger, one worker
            assert source == f"amqp:{part}.{partition_of(cp, 2)}"
    finally:
        asyncio.run(delete(url, queues=[f"{part}.0", f"{part}.1"],
                           exchanges=[exchange, part]))
        for engine in engines:
            engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cli_worker(pg: str, amqp_url: str, queue: str, http_port: int, cwd: Path
                     ) -> subprocess.Popen[bytes]:
    """`faultbot feed broker` as a separate process, as the Procfile would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAULTBOT_", "SLACK_"))}
    env.update({"DATABASE_URL": pg, "FAULTBOT_HTTP_HOST": "127.0.0.1",
                "FAULTBOT_HTTP_PORT": str(http_port), "PYTHONUNBUFFERED": "1"})
    cmd = [sys.executable, "-m", "bot.cli.main", "feed", "broker", "--url", amqp_url,
           "--mode", "faultbot", "--queue", queue]
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


async def wait_live(proc: subprocess.Popen[bytes], http_port: int, timeout: float = 60) -> None:
    async def loop() -> None:
        async with ClientSession() as client:
            while True:
                if proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise AssertionError(f"worker exited {proc.returncode}: {out[-2000:]}")
                try:
                    async with client.get(f"http://127.0.0.1:{http_port}/health") as r:
                        body = await r.json()
                        if body["feeds"].get("broker", {}).get("live"):
                            return
                except (OSError, ValueError, KeyError):
                    pass
                await asyncio.sleep(0.1)

    await asyncio.wait_for(loop(), timeout)


def waiting_on_locks(admin: Engine, database: str) -> int:
    with admin.connect() as conn:
        return int(conn.scalar(text(
            "select count(*) from pg_stat_activity where datname = :d "
            "and wait_event_type = 'Lock' and state = 'active'"), {"d": database}) or 0)


def test_worker_killed_mid_batch_hands_its_messages_to_the_standby(
    pg_url: str, amqp: tuple[str, str], tmp_path: Path
) -> None:
    """Worker A (a real `faultbot feed broker` process) is the active consumer; worker B
    (here, same queue) is its standby. A receives the batch and blocks inside its store
    transaction (the test holds a table lock), and is SIGKILLed there."""
    url, queue = amqp
    chargers = 12
    objects = fleet(chargers)
    database = pg_url.rsplit("/", 1)[1]
    admin = make_engine(pg_url)
    engine = make_engine(pg_url)
    http_port = free_port()
    proc = start_cli_worker(pg_url, url, queue, http_port, tmp_path)
    sink_b = PipelineSink(engine)

    async def main() -> None:
        await wait_live(proc, http_port)  # A consumes first, so A is the active consumer
        feed_b = BrokerFeed(url, sink_b, mode="faultbot", queue=queue, linger=0.01,
                            connection_name="faultbot-standby")
        await feed_b.start()
        try:
            with admin.connect() as lock:
                tx = lock.begin()
                lock.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
                await publish(url, objects, queue)
                await until(lambda: waiting_on_locks(admin, database) >= 1)
                assert feed_b.health.received == 0  # B is standing by
                os.killpg(proc.pid, signal.SIGKILL)  # mid-batch: received, not acked
                proc.wait(10)
                tx.rollback()
            await until(lambda: feed_b.health.stored == len(objects))
        finally:
            await feed_b.stop()
        assert feed_b.health.duplicates == 0  # A never committed anything

    try:
        run(main)
        assert_exactly_once(engine, objects, chargers)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        admin.dispose()
        engine.dispose()


@pytest.fixture
def private_pg(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    """A database of our own, so the test can refuse connections to it."""
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with private_pg_database(PG_ADMIN_URL, "faultbot_outage") as url:
            yield url, admin
    finally:
        admin.dispose()


def test_database_unreachable_for_a_while(
    private_pg: tuple[str, Engine], amqp: tuple[str, str]
) -> None:
    url, queue = amqp
    pg, admin = private_pg
    name = pg.rsplit("/", 1)[1]
    chargers = 8
    objects = fleet(chargers)
    engine = make_engine(pg)
    sink = PipelineSink(engine)

    def outage(on: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not on).lower()}'))
            if on:  # and drop every open connection, as a database restart would
                conn.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                                  "where datname = :d and pid <> pg_backend_pid()"), {"d": name})

    async def main() -> None:
        feed = BrokerFeed(url, sink, mode="faultbot", queue=queue, linger=0.01)
        await feed.start()
        try:
            outage(True)
            await publish(url, objects, queue)
            await until(lambda: feed.health.sink_failures >= 2)
            assert feed.health.stored == 0
            outage(False)
            await until(lambda: feed.health.stored == len(objects))
        finally:
            await feed.stop()
        assert feed.health.dead_lettered == 0

    try:
        run(main)
        assert_exactly_once(engine, objects, chargers)
    finally:
        engine.dispose()
