"""`faultbot bench feeds`: throughput of the live feeds on loopback, next to floors
measured in the same run (the store alone; a direct charger->CSMS connection).

* webhook: signed JSON Lines batches -> POST /feed/ocpp -> store, vs the store alone
* tap: CALL round trips charger -> tap -> CSMS vs charger -> CSMS (added latency p50/p99),
  and frames/s through the tap with several chargers at once
* broker: faultbot-format messages through RabbitMQ, each consumer a separate process
  started before the clock and released together: a plain aio_pika consumer (JSON
  decode, one multiple-ack per 500 messages, the same prefetch) next to one faultbot
  worker with a null sink; two worker processes on a partitioned feed (routed by the
  workers' router, and published straight to the partition queues by the producer)
  next to one; the CPU each side spent per frame (consumers and RabbitMQ's own,
  from /proc); and one worker into the store, next to the store alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import click

from bot.feeds.sink import FrameSink, SinkResult, store_sink
from bot.ocpp.events import Record


def _lines(frames: int, chargers: int = 10_000, seed: int = 7) -> list[str]:
    from bot.sample.fleet import generate_fleet_lines

    return list(islice(generate_fleet_lines(chargers, hours=48, seed=seed), frames))


def _fresh_store(database_url: str | None) -> tuple[Any, str]:
    from bot.store.db import make_engine, migrate

    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    return engine, url


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def null_sink(records: list[Record]) -> SinkResult:
    return SinkResult(stored=len(records))


# --- webhook -------------------------------------------------------------------------


async def _webhook(lines: list[str], sink: FrameSink, batch: int) -> float:
    from aiohttp import ClientSession, web

    from bot.feeds.webhook import add_webhook_routes, signed_headers

    app = web.Application()
    add_webhook_routes(app, sink, "bench-secret")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bodies = ["\n".join(lines[i : i + batch]).encode() for i in range(0, len(lines), batch)]
    try:
        async with ClientSession() as client:
            start = time.perf_counter()
            for body in bodies:
                headers = {"Content-Type": "application/x-ndjson",
                           **signed_headers("bench-secret", body)}
                async with client.post(f"http://127.0.0.1:{port}/feed/ocpp", data=body,
                                       headers=headers) as resp:
                    if resp.status != 200:
                        raise click.ClickException(f"webhook answered {resp.status}")
                    await resp.read()
            return time.perf_counter() - start
    finally:
        await runner.cleanup()


# --- tap -----------------------------------------------------------------------------


async def _echo_csms() -> Any:
    from websockets.asyncio.server import serve
    from websockets.typing import Subprotocol

    async def handler(ws: Any) -> None:
        async for msg in ws:
            frame = json.loads(msg)
            await ws.send(json.dumps([3, frame[1], {}]))

    return await serve(
        handler, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")], compression=None
    )


async def _round_trips(url: str, frames: list[str]) -> list[float]:
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    out: list[float] = []
    async with connect(url, subprotocols=[Subprotocol("ocpp1.6")], compression=None) as ws:
        for text in frames:
            start = time.perf_counter()
            await ws.send(text)
            await ws.recv()
            out.append(time.perf_counter() - start)
    return out


async def _tap(n: int, chargers: int, sink: FrameSink) -> dict[str, float]:
    from bot.feeds.tap import OcppTap

    csms = await _echo_csms()
    port = csms.sockets[0].getsockname()[1]
    tap = OcppTap(f"ws://127.0.0.1:{port}", sink)
    await tap.start()
    frames = [json.dumps([2, f"b{i}", "Heartbeat", {}]) for i in range(n)]
    try:
        await _round_trips(f"ws://127.0.0.1:{port}/ocpp/WARM", frames[:200])
        direct = await _round_trips(f"ws://127.0.0.1:{port}/ocpp/CP-D", frames)
        tapped = await _round_trips(f"ws://127.0.0.1:{tap.port}/ocpp/CP-T", frames)
        per = max(1, n // chargers)
        start = time.perf_counter()
        await asyncio.gather(*(
            _round_trips(f"ws://127.0.0.1:{tap.port}/ocpp/CP-{c}", frames[:per])
            for c in range(chargers)
        ))
        parallel = time.perf_counter() - start
    finally:
        await tap.stop()
        csms.close()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1e6

    return {
        "direct_p50_us": pct(direct, 50), "direct_p99_us": pct(direct, 99),
        "tap_p50_us": pct(tapped, 50), "tap_p99_us": pct(tapped, 99),
        "parallel_frames_s": 2 * per * chargers / parallel,
        "dropped": float(tap.health.dropped), "stored": float(tap.health.stored),
    }


# --- broker --------------------------------------------------------------------------


async def _broker(url: str, lines: list[str], sinks: list[FrameSink]) -> float:
    """In-process workers (one per sink) into a sink; the seconds to take every frame."""
    import aio_pika

    from bot.feeds.broker import BrokerFeed, publish_records

    tag = uuid.uuid4().hex[:8]
    queue, part = f"faultbot.bench-{tag}", f"faultbot.part-bench-{tag}"
    count = len(sinks)
    feeds = [
        BrokerFeed(url, sinks[i], mode="faultbot", queue=queue, partition=(i, count),
                   partition_exchange=part, prefetch=2000)
        for i in range(count)
    ]
    conn = await aio_pika.connect(url)
    async with conn:
        channel = await conn.channel()
        await channel.declare_queue(queue, durable=True,
                                    arguments={"x-single-active-consumer": True})
        await publish_records(channel, [json.loads(x) for x in lines], queue=queue)
        start = time.perf_counter()
        for feed in feeds:
            await feed.start()

        async def done() -> None:
            while sum(f.health.stored + f.health.duplicates for f in feeds) < len(lines):
                await asyncio.sleep(0.01)

        try:
            await asyncio.wait_for(done(), 300)
            return time.perf_counter() - start
        finally:
            for feed in feeds:
                await feed.stop()
            for name in [queue, queue + ".dead"] + [f"{part}.{i}" for i in range(count)]:
                await channel.queue_delete(name)
            if count > 1:
                await channel.exchange_delete(part)


def rabbitmq_cpu() -> float | None:
    """CPU seconds RabbitMQ's Erlang VM (beam.smp) has used so far, or None when it is
    not a process this machine shows."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "beam.smp":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total = (total or 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass(slots=True)
class ProcRun:
    """One broker run with separate consumer processes."""

    frames: int
    seconds: float  # from releasing the consumers to the last one done
    client_cpu: float  # CPU seconds of every consumer process
    broker_cpu: float | None  # CPU seconds of RabbitMQ meanwhile
    rss_mb: float  # the largest consumer's peak RSS
    queues: list[str]  # what the run declared (and deleted)

    @property
    def rate(self) -> float:
        return self.frames / self.seconds

    @property
    def client_us(self) -> float:
        return self.client_cpu / self.frames * 1e6

    @property
    def broker_us(self) -> float | None:
        return None if self.broker_cpu is None else self.broker_cpu / self.frames * 1e6


def cpu_line(runs: list[ProcRun]) -> str:
    """Median CPU per frame over the runs (it moves less with the load than wall time;
    RabbitMQ's figure includes whatever else uses the broker meanwhile)."""
    per = f"consumers {statistics.median(r.client_us for r in runs):.0f} us"
    broker = [b for r in runs if (b := r.broker_us) is not None]
    if broker:
        per += f", RabbitMQ {statistics.median(broker):.0f} us"
    return f"CPU per frame (median): {per}"


async def _fill(url: str, lines: list[str], queue: str, part: str, count: int,
                direct: bool) -> None:
    """Publish the frames: to the ingress queue, or (direct) straight to the partition
    queues by charger, as a producer that partitions its own feed would."""
    import aio_pika

    from bot.feeds.broker import INGRESS_ARGS, publish_records
    from bot.feeds.partition import PARTITION_QUEUE_ARGS, partition_of, partition_queue

    conn = await aio_pika.connect(url)
    async with conn:
        channel = await conn.channel()
        await channel.declare_queue(queue, durable=True, arguments=INGRESS_ARGS)
        if not direct:
            for start in range(0, len(lines), 5000):
                await publish_records(channel, [json.loads(x) for x in lines[start:start + 5000]],
                                      queue=queue)
            return
        exchange = await channel.declare_exchange(part, aio_pika.ExchangeType.DIRECT,
                                                  durable=True)
        for i in range(count):
            q = await channel.declare_queue(partition_queue(i, part), durable=True,
                                            arguments=PARTITION_QUEUE_ARGS)
            await q.bind(exchange, routing_key=str(i))
        for start in range(0, len(lines), 5000):
            await asyncio.gather(*(
                exchange.publish(
                    aio_pika.Message(x.encode(), content_type="application/json",
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=str(partition_of(json.loads(x)["charger"], count)))
                for x in lines[start:start + 5000]))


async def drop_queues(url: str, queue: str, part: str, count: int) -> None:
    """Delete a bench's broker objects: the ingress queue, its dead letters, the
    partition exchange and its `count` partition queues."""
    import aio_pika

    conn = await aio_pika.connect(url)
    async with conn:
        channel = await conn.channel()
        for name in [queue, queue + ".dead"] + [f"{part}.{i}" for i in range(count)]:
            await channel.queue_delete(name)
        await channel.exchange_delete(part)


def broker_processes(url: str, lines: list[str], kind: str, count: int = 1,
                     direct: bool = False, timeout: float = 300) -> ProcRun:
    """`count` consumer processes of `kind` ("plain" or "faultbot", partition i/count):
    each starts, imports and says it is ready; then all are released together and each
    reports when it has taken its share (known here: partition_of each frame)."""
    from bot.feeds.partition import partition_of

    tag = uuid.uuid4().hex[:8]
    queue, part = f"faultbot.bench-{tag}", f"faultbot.part-bench-{tag}"
    asyncio.run(_fill(url, lines, queue, part, count, direct))
    shares = [0] * count
    for x in lines:
        shares[partition_of(json.loads(x)["charger"], count) if count > 1 else 0] += 1
    procs = [subprocess.Popen(
        [sys.executable, "-m", "bot.bench.feeds", kind, url, queue, part, str(i), str(count),
         str(shares[i])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for i in range(count)]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise click.ClickException(f"a {kind} consumer process did not start")
        rabbit0 = rabbitmq_cpu()
        go = time.time()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        reports = []
        for p in procs:
            out, _ = p.communicate(timeout=timeout)
            if p.returncode:
                raise click.ClickException(f"a {kind} consumer process failed ({p.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        rabbit1 = rabbitmq_cpu()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        asyncio.run(drop_queues(url, queue, part, count))
    done = max(r["done"] for r in reports)
    broker_cpu = rabbit1 - rabbit0 if rabbit0 is not None and rabbit1 is not None else None
    return ProcRun(len(lines), done - go, sum(r["cpu"] for r in reports), broker_cpu,
                   max(r["rss_mb"] for r in reports),
                   [queue, queue + ".dead"] + [f"{part}.{i}" for i in range(count)])


async def _plain_consumer(url: str, queue: str, expected: int, prefetch: int = 2000,
                          every: int = 500) -> None:
    """The peer: a plain aio_pika consumer doing the least a real one must (decode the
    JSON, ack), with batched acks (`multiple=True`) like faultbot's."""
    import aio_pika

    conn = await aio_pika.connect(url)
    async with conn:
        channel = await conn.channel()
        await channel.set_qos(prefetch_count=prefetch)
        q = await channel.get_queue(queue)
        done = asyncio.Event()
        seen = 0

        async def on_message(message: Any) -> None:
            nonlocal seen
            json.loads(message.body)
            seen += 1
            if seen % every == 0 or seen >= expected:
                await message.ack(multiple=True)
            if seen >= expected:
                done.set()

        await q.consume(on_message)
        await done.wait()


async def _faultbot_consumer(url: str, queue: str, part: str, index: int, count: int,
                             expected: int) -> None:
    from bot.feeds.broker import BrokerFeed

    feed = BrokerFeed(url, null_sink, mode="faultbot", queue=queue, partition=(index, count),
                      partition_exchange=part, prefetch=2000)
    await feed.start()
    try:
        while feed.health.stored < expected:
            await asyncio.sleep(0.005)
    finally:
        await feed.stop()


def _consumer_process(kind: str, url: str, queue: str, part: str, index: int, count: int,
                      expected: int) -> None:
    """Child side of broker_processes: ready, wait for go, consume, report."""
    print("ready", flush=True)
    sys.stdin.readline()
    start = os.times()
    if kind == "plain":
        asyncio.run(_plain_consumer(url, queue, expected))
    else:
        asyncio.run(_faultbot_consumer(url, queue, part, index, count, expected))
    done = time.time()
    end = os.times()
    print(json.dumps({
        "done": done, "cpu": (end.user - start.user) + (end.system - start.system),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


@click.command("feeds")
@click.option("--frames", default=20_000, show_default=True, help="Frames per measurement.")
@click.option("--chargers", default=10_000, show_default=True,
              help="Chargers in the fleet the frames come from.")
@click.option("--batch", default=500, show_default=True, help="Frames per webhook POST.")
@click.option("--round-trips", default=2_000, show_default=True, help="Tap latency samples.")
@click.option("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/", show_default=True)
@click.option("--broker-runs", default=3, show_default=True,
              help="Broker runs, taken in turn; the best of each consumer is shown.")
@click.option("--database-url", default=None, help="Store to use (default: a fresh SQLite file).")
def feeds_bench(frames: int, chargers: int, batch: int, round_trips: int, amqp_url: str,
                broker_runs: int, database_url: str | None) -> None:
    """Frames/s through the webhook, tap and broker, with ratios to same-run floors."""
    from bot.ocpp.readers import read_lines

    lines = _lines(frames, chargers)
    records = [r for r in read_lines(lines, source="bench") if isinstance(r, Record)]
    n = len(lines)
    say = _printer(n=n, chargers=chargers, amqp_url=amqp_url, broker_runs=broker_runs)
    say("head", load=_load_average())
    engine2, _ = _fresh_store(database_url)
    hook = asyncio.run(_webhook(lines, store_sink(engine2), batch))
    hook_null = asyncio.run(_webhook(lines, null_sink, batch))
    # The floor runs after the webhook, so neither gains from warm-up the other paid.
    engine, _ = _fresh_store(database_url)
    floor_sink = store_sink(engine)
    floor = _timed(lambda: [floor_sink(records[i : i + batch])
                            for i in range(0, len(records), batch)])
    say("http", floor=floor, hook=hook, hook_null=hook_null)
    say("tap", t=asyncio.run(_tap(round_trips, 20, null_sink)))

    runs: dict[str, list[ProcRun]] = {"plain": [], "one": [], "routed": [], "direct": []}
    try:
        for _ in range(max(1, broker_runs)):  # in turn, so load swings hit them all
            runs["plain"].append(broker_processes(amqp_url, lines, "plain"))
            runs["one"].append(broker_processes(amqp_url, lines, "faultbot"))
            runs["routed"].append(broker_processes(amqp_url, lines, "faultbot", 2))
            runs["direct"].append(broker_processes(amqp_url, lines, "faultbot", 2, direct=True))
    except (OSError, ConnectionError) as exc:
        say("broker_skipped", error=exc)
        return
    plain, one, routed, direct = (max(runs[k], key=lambda r: r.rate) for k in runs)
    cpu_ratio = (statistics.median(r.client_us for r in runs["one"])
                 / statistics.median(r.client_us for r in runs["plain"]))
    say("broker", plain=plain, one=one, routed=routed, direct=direct, cpu_ratio=cpu_ratio,
        cpu={k: cpu_line(v) for k, v in runs.items()}, cpus=os.cpu_count(),
        load=_load_average())
    stored = asyncio.run(_broker(amqp_url, lines, [store_sink(_fresh_store(database_url)[0])]))
    say("broker_store", floor=floor, stored=stored)


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _printer(**common: object) -> Callable[..., None]:
    """Prints one part of templates/cli/bench_feeds.j2 as soon as it is measured."""
    from bot.templating import terminal_env

    template = terminal_env("cli").get_template("bench_feeds.j2")

    def say(part: str, **values: object) -> None:
        click.echo(template.render(part=part, **common, **values))

    return say


if __name__ == "__main__":
    _consumer_process(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                      int(sys.argv[6]), int(sys.argv[7]))
