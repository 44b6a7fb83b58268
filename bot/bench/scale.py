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
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import click
from sqlalchemy import Engine, text

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


async def _cleanup(amqp_url: str, queue: str, exchange: str, count: int) -> None:
    import aio_pika

    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        for name in [queue, queue + ".dead"] + [f"{exchange}.{i}" for i in range(count)]:
            await channel.queue_delete(name)
        await channel.exchange_delete(exchange)


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
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        procs = [subprocess.Popen([sys.executable, "-m", "bot.bench.scale", url, amqp_url,
                                   queue, exchange, str(i), str(workers)], env=env,
                                  stdout=subprocess.PIPE, text=True)
                 for i in range(workers)]
        first = last = None
        rss: list[float] = []
        try:
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                n = _count(engine)
                now = time.perf_counter()
                if n and first is None:
                    first = now
                if n >= len(lines):
                    last = now
                    break
                if any(p.poll() is not None for p in procs):
                    raise click.ClickException("a worker process exited early")
                time.sleep(0.05)
            db_bytes = _database_bytes(engine) - empty
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                out, _ = p.communicate(timeout=60)
                rss += [json.loads(x)["rss_mb"] for x in out.splitlines() if "rss_mb" in x]
            engine.dispose()
            asyncio.run(_cleanup(amqp_url, queue, exchange, workers))
    if first is None or last is None:
        raise click.ClickException(f"the workers did not store every frame in {timeout:.0f} s")
    return Throughput(workers, len(lines) / max(last - first, 1e-6), last - published,
                      max(rss, default=0.0), db_bytes, len(lines))


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
def scale_bench(chargers: int, hours: float, frames: int, workers: int, postgres_url: str,
                amqp_url: str) -> None:
    """Bytes per frame on both databases and N-worker throughput, next to baselines."""
    from bot.templating import terminal_env

    lines = fleet_lines(chargers, hours, frames)
    size = footprint(lines, postgres_url)
    one = throughput(lines, 1, amqp_url, postgres_url)
    many = throughput(lines, workers, amqp_url, postgres_url) if workers > 1 else None
    stamps = [json.loads(x)["ts"] for x in (lines[0], lines[-1])]
    span = (_when(stamps[1]) - _when(stamps[0])) or 1.0  # seconds the frames cover
    out = terminal_env("cli").get_template("bench_scale.j2").render(
        size=size, one=one, many=many, chargers=chargers, hours=hours,
        frames_per_charger_day=len(lines) / chargers * 86_400 / span,
        load=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    click.echo(out.rstrip("\n"))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
            int(sys.argv[6]))
