"""`faultbot bench scale`: database bytes per stored frame next to the compact JSON
line, on SQLite and PostgreSQL; and N worker processes consuming a partitioned RabbitMQ
feed into one PostgreSQL database next to one worker.

Footprint: the fleet feed (bot.sample.fleet) is stored (store only) into a fresh SQLite
file and a fresh PostgreSQL database; bytes per frame is the database's size after the
load (SQLite: used pages; PostgreSQL: the message log's partitions with their indexes
and TOAST, plus the charger/port tables) divided by the frames stored; on PostgreSQL
also after the daily job's index rebuild of closed days (bot.retention.vacuum).

Throughput: the feed is published to a fresh ingress queue, then N separate processes
(`python -m bot.bench.scale <worker args>`) each run a BrokerFeed partition (the
router + partition queues of bot.feeds.broker) into the full pipeline (store, triage,
incidents, each partition its own fold), as `faultbot run` with
FAULTBOT_AMQP_PARTITION=i/N does. Frames/s is measured from the first stored frame to
the last; lag is how long after publishing ended the last frame was stored.

Paced (--rates): the workers run while the producer offers each rate in turn for a
step; per step the rates published and stored, the lag (see _Log) at the end and its
maximum, and whether the step was kept up with; the highest such rate is the capacity.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import click
from sqlalchemy import Engine, text

from bot.bench.feeds import drop_queues
from bot.store.db import scratch_postgres


def fleet_lines(chargers: int, hours: float, frames: int) -> list[str]:
    from bot.sample.fleet import generate_fleet_lines

    return list(islice(generate_fleet_lines(chargers, hours=hours, seed=3), frames))


def compact_size(lines: list[str]) -> float:
    """Mean bytes of a line written as compact JSON (no spaces), newline included."""
    total = sum(len(json.dumps(json.loads(x), separators=(",", ":"))
                    .encode()) + 1 for x in lines)
    return total / len(lines)




def _store(engine: Engine, lines: list[str]) -> int:
    from bot.ocpp.readers import read_lines
    from bot.store.loader import load

    return load(engine, read_lines(lines, source="bench"), batch_size=5000).stored


def sqlite_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
        size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
    return int((pages - free) * size)


def postgres_bytes(engine: Engine) -> int:
    """The log (every partition, its indexes and TOAST) and the tables ingest fills."""
    with engine.connect() as conn:
        log = conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
            "FROM pg_partition_tree('messages')")).scalar()
        rest = conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c)), 0) FROM unnest(ARRAY["
            "'chargers', 'connectors', 'charging_sessions']::regclass[]) AS c")).scalar()
    return int(log or 0) + int(rest or 0)


@dataclass(slots=True)
class Footprint:
    frames: int
    json_bytes: float
    sqlite_bytes: float
    postgres_bytes: float | None
    postgres_compacted: float | None = None  # after the daily job rebuilt closed days' indexes


def footprint(lines: list[str], postgres_url: str | None) -> Footprint:
    from datetime import date

    from bot.retention.vacuum import compact_days
    from bot.store.db import make_engine, migrate

    path = Path(tempfile.mkdtemp()) / "scale.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    stored = _store(engine, lines)
    lite = sqlite_bytes(engine) / stored
    engine.dispose()
    pg = pg_compacted = None
    if postgres_url:
        with scratch_postgres(postgres_url) as url:
            engine = make_engine(url)
            stored_pg = _store(engine, lines)
            pg = postgres_bytes(engine) / stored_pg
            # as the daily job leaves a day once it has closed (bot.retention.vacuum)
            compact_days(engine, before=date.max)
            pg_compacted = postgres_bytes(engine) / stored_pg
            engine.dispose()
    return Footprint(stored, compact_size(lines), lite, pg, pg_compacted)


# --- N workers ------------------------------------------------------------------------


async def _publish(amqp_url: str, lines: list[str], queue: str) -> None:
    import aio_pika

    from bot.feeds.broker import INGRESS_ARGS, publish_records

    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        await channel.declare_queue(queue, durable=True, arguments=INGRESS_ARGS)
        for start in range(0, len(lines), 5000):
            await publish_records(channel, [json.loads(x) for x in lines[start:start + 5000]],
                                  queue=queue)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM messages")).scalar() or 0)


@dataclass(slots=True)
class Throughput:
    workers: int
    frames_s: float
    lag_s: float
    rss_mb: float  # the largest worker's peak resident memory (each worker reports its own)
    db_bytes: int  # the PostgreSQL database after the run (log, state, triage, incidents)
    frames: int


def throughput(lines: list[str], workers: int, amqp_url: str, postgres_url: str,
               timeout: float = 600) -> Throughput:
    """N worker processes, one partition each, into one fresh PostgreSQL database."""
    from bot.store.db import make_engine

    tag = uuid.uuid4().hex[:8]
    queue, exchange = f"faultbot.scale-{tag}", f"faultbot.part-scale-{tag}"
    with scratch_postgres(postgres_url) as url:
        engine = make_engine(url)
        empty = _database_bytes(engine)  # migrated, no rows: subtracted from the growth
        asyncio.run(_publish(amqp_url, lines, queue))
        published = time.perf_counter()
        first = last = None
        rss: list[float] = []
        try:
            with _running(url, amqp_url, queue, exchange, workers, rss) as procs:
                deadline = time.perf_counter() + timeout
                while time.perf_counter() < deadline:
                    n = _count(engine)
                    now = time.perf_counter()
                    if n and first is None:
                        first = now
                    if n >= len(lines):
                        last = now
                        break
                    _check_alive(procs)
                    time.sleep(0.05)
                db_bytes = _database_bytes(engine) - empty
        finally:
            engine.dispose()
            asyncio.run(drop_queues(amqp_url, queue, exchange, workers))
    if first is None or last is None:
        raise click.ClickException(f"the workers did not store every frame in {timeout:.0f} s")
    return Throughput(workers, len(lines) / max(last - first, 1e-6), last - published,
                      max(rss, default=0.0), db_bytes, len(lines))


@contextlib.contextmanager
def _running(url: str, amqp_url: str, queue: str, exchange: str, workers: int,
             rss: list[float]) -> Iterator[list[subprocess.Popen[str]]]:
    """N worker processes (`python -m bot.bench.scale ...`), one partition each; on exit
    they are stopped and each one's peak RSS is appended to `rss`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "bot.bench.scale", url, amqp_url,
                               queue, exchange, str(i), str(workers)], env=env,
                              stdout=subprocess.PIPE, text=True)
             for i in range(workers)]
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            out, _ = p.communicate(timeout=60)
            rss += [json.loads(x)["rss_mb"] for x in out.splitlines() if "rss_mb" in x]


def _check_alive(procs: list[subprocess.Popen[str]]) -> None:
    if any(p.poll() is not None for p in procs):
        raise click.ClickException("a worker process exited early")


# --- N workers at offered rates ----------------------------------------------------------
#
# The producer publishes at a set rate, in small batches on a 20 ms tick, and notes when
# each batch went out. The store's frame count is sampled every SAMPLE_S. Lag at a
# sample is how long ago the oldest frame not yet stored was published (0 when the
# store has every frame published so far): how far the store is behind the newest
# published frame. Frames of different partitions are stored out of order, so "the
# oldest not stored" is the (n+1)-th published for a count of n: a count, not an id.

SAMPLE_S = 0.25
TICK_S = 0.02
WARMUP_FRAMES = 200  # published and stored before the first step: the workers are up


@dataclass(slots=True)
class Step:
    offered: float  # frames/s asked of the producer
    published: float  # frames/s the producer achieved
    stored: float  # frames/s stored during the step (the sustained consumed rate)
    lag_end_s: float  # lag at the end of the step
    lag_max_s: float  # largest lag sampled during the step
    behind: int  # frames published but not stored at the end of the step
    kept_up: bool  # lag at the end within the bound, and the producer reached the rate
    drain_s: float  # after the step, until every published frame was stored
    producer_short: bool = False  # under 95% of the rate offered: never "kept up"


@dataclass(slots=True)
class Paced:
    workers: int
    steps: list[Step]
    rss_mb: float
    db_bytes: int
    frames: int  # frames stored over all steps (warm-up included)
    published: int  # frames published over all steps (warm-up included)

    @property
    def capacity(self) -> float | None:
        """The highest offered rate kept up with."""
        return max((s.offered for s in self.steps if s.kept_up), default=None)


class _Log:
    """When each published frame went out: (frames published before the batch, time)."""

    def __init__(self) -> None:
        self.marks: list[tuple[int, float]] = []
        self.sent = 0

    def lag(self, stored: int, now: float) -> float:
        """Seconds since the oldest frame not yet stored was published."""
        if stored >= self.sent:
            return 0.0
        # the batch holding frame number stored+1 (1-based) is the last mark with
        # before <= stored
        i = bisect.bisect_right(self.marks, (stored, math.inf)) - 1
        return max(now - self.marks[i][1], 0.0)


def paced(lines: list[str], workers: int, rates: list[float], step_s: float,
          amqp_url: str, postgres_url: str, max_lag: float = 5.0) -> Paced:
    """N worker processes into one fresh PostgreSQL database, fed at increasing rates;
    stepping stops after the first step not kept up with."""
    from bot.store.db import make_engine

    tag = uuid.uuid4().hex[:8]
    queue, exchange = f"faultbot.scale-{tag}", f"faultbot.part-scale-{tag}"
    rss: list[float] = []
    with scratch_postgres(postgres_url) as url:
        engine = make_engine(url)
        empty = _database_bytes(engine)
        try:
            with _running(url, amqp_url, queue, exchange, workers, rss) as procs:
                steps, stored, published = asyncio.run(_paced_steps(
                    lines, rates, step_s, max_lag, amqp_url, queue, engine, procs))
                db_bytes = _database_bytes(engine) - empty
        finally:
            engine.dispose()
            asyncio.run(drop_queues(amqp_url, queue, exchange, workers))
    return Paced(workers, steps, max(rss, default=0.0), db_bytes, stored, published)


async def _paced_steps(lines: list[str], rates: list[float], step_s: float, max_lag: float,
                       amqp_url: str, queue: str, engine: Engine,
                       procs: list[subprocess.Popen[str]]) -> tuple[list[Step], int, int]:
    import aio_pika
    from pamqp.commands import Basic

    from bot.feeds.broker import INGRESS_ARGS

    # The producer stands in for a CSMS (CitrineOS publishes without confirms): bodies
    # encoded before the clock starts, as publish_records encodes them, and published
    # on the raw channel without confirms, so on 2 shared cores the offered rate is not
    # capped by the producer's own CPU (with confirms it fell short at 1,000 frames/s).
    objects = [json.dumps(json.loads(x), separators=(",", ":")).encode() for x in lines]
    props = Basic.Properties(content_type="application/json", delivery_mode=2)
    log = _Log()

    async def count() -> int:
        return await asyncio.to_thread(_count, engine)

    async def publish(n: int) -> None:
        log.marks.append((log.sent, time.perf_counter()))
        for body in objects[log.sent:log.sent + n]:
            await raw.basic_publish(body, routing_key=queue, properties=props)
        log.sent += n

    async def drain(timeout: float) -> float:
        began = time.perf_counter()
        while await count() < log.sent:
            _check_alive(procs)
            if time.perf_counter() - began > timeout:
                raise click.ClickException(
                    f"the workers did not catch up within {timeout:.0f} s of a step")
            await asyncio.sleep(SAMPLE_S)
        return time.perf_counter() - began

    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel(publisher_confirms=False)
        await channel.declare_queue(queue, durable=True, arguments=INGRESS_ARGS)
        raw = await channel.get_underlay_channel()
        await publish(min(WARMUP_FRAMES, len(objects)))
        await drain(180)  # the workers start (imports, connections) within this
        steps: list[Step] = []
        for rate in rates:
            if log.sent + rate * step_s > len(objects):
                raise click.ClickException(
                    f"the feed has {len(objects)} frames, too few for the steps: raise --hours")
            steps.append(await _step(rate, step_s, max_lag, log, publish, count, procs))
            steps[-1].drain_s = await drain(max(60.0, 10 * step_s))
            if not steps[-1].kept_up:
                break
        return steps, await count(), log.sent


async def _step(rate: float, step_s: float, max_lag: float, log: _Log,
                publish: Callable[[int], Awaitable[None]], count: Callable[[], Awaitable[int]],
                procs: list[subprocess.Popen[str]]) -> Step:
    """One step: publish at `rate` for `step_s` while sampling the store's count."""
    stored0, sent0 = await count(), log.sent
    began = time.perf_counter()
    lags: list[float] = []
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            now = time.perf_counter()
            lags.append(log.lag(await count(), now))
            _check_alive(procs)
            await asyncio.sleep(SAMPLE_S)

    sampler = asyncio.create_task(sample())
    while (elapsed := time.perf_counter() - began) < step_s:
        due = int(rate * elapsed) - (log.sent - sent0)
        if due > 0:
            await publish(due)
        await asyncio.sleep(TICK_S)
    if (due := round(rate * step_s) - (log.sent - sent0)) > 0:  # the last tick's share
        await publish(due)
    end = time.perf_counter()
    stored = await count()
    done.set()
    await sampler
    lag_end = log.lag(stored, end)
    took = end - began
    published = (log.sent - sent0) / took
    short = published < 0.95 * rate
    return Step(rate, published, (stored - stored0) / took, lag_end,
                max([*lags, lag_end]), log.sent - stored,
                lag_end <= max_lag and not short, 0.0, short)


def _database_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
                   or 0)


def _worker(url: str, amqp_url: str, queue: str, exchange: str, index: int,
            count: int) -> None:
    """One worker process: a BrokerFeed partition into the full pipeline, until SIGTERM;
    then it prints its own peak RSS (a JSON line on stdout)."""
    import signal

    from bot.feeds.broker import BrokerFeed
    from bot.feeds.partition import partition_of
    from bot.feeds.sink import pipeline_sink
    from bot.store.db import make_engine

    engine = make_engine(url)
    fold = {} if count == 1 else {
        "fold_name": f"partition-{index}-of-{count}",
        "owns": lambda charger: partition_of(charger, count) == index}
    sink = pipeline_sink(engine, **fold)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        feed = BrokerFeed(amqp_url, sink, mode="faultbot", queue=queue,
                          partition=(index, count), partition_exchange=exchange,
                          prefetch=2000)
        await feed.start()
        await stop.wait()
        await feed.stop()

    asyncio.run(main())
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"worker": index, "rss_mb": round(peak, 1)}), flush=True)


def _paced_frames(rates: list[float], step_s: float) -> int:
    """Frames the paced steps can use: the warm-up, every step, and a little slack."""
    return WARMUP_FRAMES + int(sum(rates) * step_s * 1.02) + 1000


def _when(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@click.command("scale")
@click.option("--chargers", default=200, show_default=True,
              help="Chargers in the feed. 200 keeps a 2-core run short; the 10,000-charger "
                   "fleet: --chargers 10000 --hours 1 --frames 1000000.")
@click.option("--hours", default=6.0, show_default=True, help="Hours of traffic generated.")
@click.option("--frames", default=20_000, show_default=True, help="Frames measured (at most).")
@click.option("--workers", default=2, show_default=True, help="Worker processes (N).")
@click.option("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where the bench may create and "
              "drop scratch databases.")
@click.option("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/", show_default=True)
@click.option("--rates", default=None, metavar="R1,R2,...",
              help="Paced mode: instead of draining a backlog, the producer offers these "
                   "frames/s in turn, each for --step-seconds, to 1 and N workers; stepping "
                   "stops after the first rate not kept up with. E.g. 500,1000,2000,4000.")
@click.option("--step-seconds", default=20.0, show_default=True,
              help="Paced mode: how long each rate is offered.")
@click.option("--max-lag", default=5.0, show_default=True,
              help="Paced mode: a step is kept up with when the lag at its end is at most "
                   "this many seconds (and the producer reached the rate).")
def scale_bench(chargers: int, hours: float, frames: int, workers: int, postgres_url: str,
                amqp_url: str, rates: str | None, step_seconds: float, max_lag: float) -> None:
    """Bytes per frame on both databases and N-worker throughput, next to baselines."""
    from bot.templating import terminal_env

    lines = fleet_lines(chargers, hours, frames)
    size = footprint(lines, postgres_url)
    one = many = paced_one = paced_many = None
    if rates:
        offered = [float(x) for x in rates.split(",")]
        feed = fleet_lines(chargers, hours, _paced_frames(offered, step_seconds))
        paced_one = paced(feed, 1, offered, step_seconds, amqp_url, postgres_url, max_lag)
        if workers > 1:
            paced_many = paced(feed, workers, offered, step_seconds, amqp_url,
                               postgres_url, max_lag)
    else:
        one = throughput(lines, 1, amqp_url, postgres_url)
        many = throughput(lines, workers, amqp_url, postgres_url) if workers > 1 else None
    stamps = [json.loads(x)["ts"] for x in (lines[0], lines[-1])]
    span = (_when(stamps[1]) - _when(stamps[0])) or 1.0  # seconds the frames cover
    out = terminal_env("cli").get_template("bench_scale.j2").render(
        size=size, one=one, many=many, chargers=chargers, hours=hours,
        paced=[x for x in (paced_one, paced_many) if x], step_seconds=step_seconds,
        max_lag=max_lag,
        frames_per_charger_day=len(lines) / chargers * 86_400 / span,
        load=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    click.echo(out.rstrip("\n"))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
            int(sys.argv[6]))
