"""`faultbot bench feeds`: throughput of the live feeds on loopback, next to floors
measured in the same run (the store alone; a direct charger->CSMS connection).

* webhook: signed JSON Lines batches -> POST /feed/ocpp -> store, vs the store alone
* tap: CALL round trips charger -> tap -> CSMS vs charger -> CSMS (added latency p50/p99),
  and frames/s through the tap with several chargers at once
* broker: faultbot-format messages through RabbitMQ into the store with one worker and
  with two partitioned workers (both in this process, so they share one CPU core)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import click

from bot.feeds.sink import FrameSink, SinkResult, store_sink
from bot.ocpp.events import Record


def _lines(frames: int, seed: int = 7) -> list[str]:
    from bot.sample.fleet import generate_fleet_lines

    chargers = max(10, frames // 200)
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


@click.command("feeds")
@click.option("--frames", default=20_000, show_default=True, help="Frames per measurement.")
@click.option("--batch", default=500, show_default=True, help="Frames per webhook POST.")
@click.option("--round-trips", default=2_000, show_default=True, help="Tap latency samples.")
@click.option("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/", show_default=True)
@click.option("--database-url", default=None, help="Store to use (default: a fresh SQLite file).")
def feeds_bench(frames: int, batch: int, round_trips: int, amqp_url: str,
                database_url: str | None) -> None:
    """Frames/s through the webhook, tap and broker, with ratios to same-run floors."""
    from bot.ocpp.readers import read_lines

    lines = _lines(frames)
    records = [r for r in read_lines(lines, source="bench") if isinstance(r, Record)]
    n = len(lines)
    engine2, _ = _fresh_store(database_url)
    hook = asyncio.run(_webhook(lines, store_sink(engine2), batch))
    hook_null = asyncio.run(_webhook(lines, null_sink, batch))
    # The floor runs after the webhook, so neither gains from warm-up the other paid.
    engine, _ = _fresh_store(database_url)
    floor_sink = store_sink(engine)
    floor = _timed(lambda: [floor_sink(records[i : i + batch])
                            for i in range(0, len(records), batch)])
    click.echo(f"store alone (floor)      {n / floor:10.0f} frames/s")
    click.echo(f"webhook -> store         {n / hook:10.0f} frames/s   "
               f"ratio to floor {floor / hook:.2f}")
    click.echo(f"webhook, no store        {n / hook_null:10.0f} frames/s   "
               f"(HTTP + signature + reading only)")

    t = asyncio.run(_tap(round_trips, 20, null_sink))
    click.echo(f"direct charger->CSMS     p50 {t['direct_p50_us']:7.0f} us  "
               f"p99 {t['direct_p99_us']:7.0f} us")
    click.echo(f"through the tap          p50 {t['tap_p50_us']:7.0f} us  "
               f"p99 {t['tap_p99_us']:7.0f} us   added p50 "
               f"{t['tap_p50_us'] - t['direct_p50_us']:.0f} us, ratio "
               f"{t['tap_p50_us'] / t['direct_p50_us']:.2f}")
    click.echo(f"tap, 20 chargers at once {t['parallel_frames_s']:10.0f} frames/s forwarded "
               f"(recorded {t['stored']:.0f}, dropped {t['dropped']:.0f})")

    try:
        one = asyncio.run(_broker(amqp_url, lines, [store_sink(_fresh_store(database_url)[0])]))
        e3 = _fresh_store(database_url)[0]
        two = asyncio.run(_broker(amqp_url, lines, [store_sink(e3), store_sink(e3)]))
    except (OSError, ConnectionError) as exc:
        click.echo(f"broker: skipped, RabbitMQ not reachable at {amqp_url}: {exc}")
        return
    click.echo(f"broker, 1 worker         {n / one:10.0f} frames/s   "
               f"ratio to floor {floor / one:.2f}")
    click.echo(f"broker, 2 workers        {n / two:10.0f} frames/s   ratio to 1 worker "
               f"{one / two:.2f} (one process, one core)")
