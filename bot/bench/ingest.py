"""Ingest benchmark: end-to-end frames/s next to a floor measured in the same run.

Lines come from the seeded fleet generator and are held in memory first (not timed).
Timed: (1) faultbot's ingest: read, decode, parse, normalize, persist, update state,
into a fresh, migrated SQLite file; (2) the floor: plain json.loads of the same lines
and a bulk insert of the same rows (fingerprint, charger, ts, direction, raw) into a
bare table with no indexes and no logic. The ratio is what the store costs on top of
"decode and write". Then (3) the whole `faultbot ingest` command (store, triage,
incidents; imports and migrations included) in its own process on the same lines written
to a file: frames/s and peak RSS, against a fresh SQLite file and, when a PostgreSQL
server URL is given (`--postgres-url`), against a scratch database on it, with the
PostgreSQL/SQLite ratio. Run: `faultbot bench ingest` or `python -m bot.bench.ingest`.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from bot.store.base import table_of
from bot.store.db import make_engine, migrate

_FLOOR_TABLE = "bench_floor_messages"


def _fleet(chargers: int, hours: float) -> list[str]:
    from bot.sample.fleet import generate_fleet_lines

    return list(generate_fleet_lines(chargers, hours=hours, seed=1))


def _ingest(engine: Engine, lines: list[str], batch_size: int) -> Any:
    from bot.ocpp.readers import read_lines
    from bot.store.loader import load

    return load(engine, read_lines(lines, source="bench"), batch_size=batch_size)


def _parse_only(lines: list[str]) -> None:
    from bot.ocpp.parse import Parser
    from bot.ocpp.readers import read_lines

    Parser().parse_many(read_lines(lines, source="bench"))


# The child reports its own peak RSS: VmHWM belongs to the memory map exec gave it.
# (getrusage's ru_maxrss does not do: Linux keeps it across exec, and a child spawned
# with vfork ran in this process's memory, which holds every generated line.)
_CHILD = """
import atexit, os
def _peak():
    try:
        with open("/proc/self/status") as f:
            kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kb = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    with open(os.environ["FAULTBOT_BENCH_PEAK"], "w") as out:
        out.write(kb)
atexit.register(_peak)
from bot.cli.main import cli
cli()
"""


def whole_ingest(path: Path, database_url: str, batch_size: int) -> tuple[float, float, int]:
    """`faultbot ingest FILE` in its own process: (seconds, peak RSS in MB, exit code)."""
    peak_file = path.with_suffix(".peak")
    env = {**os.environ, "DATABASE_URL": database_url, "FAULTBOT_BENCH_PEAK": str(peak_file)}
    argv = [sys.executable, "-c", _CHILD, "ingest", str(path),
            "--batch-size", str(batch_size), "--json"]
    started = time.perf_counter()
    code = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False).returncode
    seconds = time.perf_counter() - started
    try:
        peak_mb = int(peak_file.read_text()) / 1024  # kB
    except (OSError, ValueError):
        peak_mb = float("nan")
    return seconds, peak_mb, code


def _whole(
    lines: list[str], tmp: str, batch_size: int, postgres_url: str | None,
    floor_rate: float, echo: Callable[[str], None],
) -> dict[str, float]:
    """The whole command on SQLite and (given a server) PostgreSQL, same file."""
    n = len(lines)
    path = Path(tmp) / "fleet.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
    out: dict[str, float] = {}
    runs: list[tuple[str, str | None]] = [("sqlite", f"sqlite:///{Path(tmp) / 'whole.db'}")]
    runs.append(("postgresql", postgres_url))
    for backend, url in runs:
        if url is None:
            echo(f"whole `faultbot ingest` ({backend}): skipped (give --postgres-url)")
            continue
        if backend == "postgresql":
            from bot.store.db import scratch_postgres

            with scratch_postgres(url, prefix="faultbot_bench") as scratch:
                seconds, rss, code = whole_ingest(path, scratch, batch_size)
        else:
            seconds, rss, code = whole_ingest(path, url, batch_size)
        if code not in (0, 1):
            echo(f"whole `faultbot ingest` ({backend}): failed, exit code {code}")
            continue
        rate = n / seconds
        out[f"whole_{backend}_fps"], out[f"whole_{backend}_rss_mb"] = rate, rss
        line = (f"whole `faultbot ingest` ({backend}): {rate:,.0f} frames/s  ({seconds:.2f} s, "
                f"peak RSS {rss:.0f} MB); bare floor/this: {floor_rate / rate:.2f}x")
        if backend == "postgresql" and "whole_sqlite_fps" in out:
            line += f"; PostgreSQL/SQLite: {rate / out['whole_sqlite_fps']:.2f}x"
        echo(line)
    return out


def floor_insert(
    engine: Engine, lines: list[str], fingerprints: list[str], batch_size: int, indexed: bool
) -> None:
    """json.loads + bulk insert of the same rows, one commit per batch."""
    insert = (
        f"INSERT INTO {_FLOOR_TABLE} (fingerprint, charger, ts, direction, raw) "
        "VALUES (?, ?, ?, ?, ?)" + (" ON CONFLICT DO NOTHING" if indexed else "")
    )
    if engine.dialect.name != "sqlite":
        insert = insert.replace("?", "%s")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        loads = json.loads
        for start in range(0, len(lines), batch_size):
            chunk = lines[start : start + batch_size]
            rows = []
            for i, line in enumerate(chunk, start):
                obj = loads(line)
                rows.append((fingerprints[i], obj["charger"], obj["ts"], obj["dir"], line))
            cur.executemany(insert, rows)
            raw.commit()
        cur.close()
    finally:
        raw.close()


def make_floor_table(engine: Engine, indexed: bool) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {_FLOOR_TABLE}"))
        key = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
        conn.execute(
            text(
                f"CREATE TABLE {_FLOOR_TABLE} (id {key}, fingerprint VARCHAR(64), "
                "charger VARCHAR(200), ts VARCHAR(40), direction VARCHAR(3), raw TEXT)"
            )
        )
        if indexed:  # what idempotent, per-charger-queryable storage needs, and no more
            conn.execute(
                text(f"CREATE UNIQUE INDEX {_FLOOR_TABLE}_fp ON {_FLOOR_TABLE} (fingerprint)")
            )
            conn.execute(text(f"CREATE INDEX {_FLOOR_TABLE}_ct ON {_FLOOR_TABLE} (charger, ts)"))


def run(
    *,
    chargers: int = 1000,
    hours: float = 6.0,
    batch_size: int = 20_000,
    profile: bool = False,
    database_url: str | None = None,
    postgres_url: str | None = None,
    whole: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    echo(f"generating {chargers} chargers x {hours:g} h of fleet traffic (not timed) ...")
    lines = _fleet(chargers, hours)
    n = len(lines)
    size_mb = sum(len(x) for x in lines) / 1e6
    echo(f"{n} frames, {size_mb:.1f} MB")

    with tempfile.TemporaryDirectory(prefix="faultbot-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'ingest.db'}"
        engine = make_engine(url)
        migrate(engine)

        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        summary = _ingest(engine, lines, batch_size)
        if profiler:
            profiler.disable()
        ingest_s = time.perf_counter() - started

        from bot.store.models import MessageRow

        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(table_of(MessageRow))) or 0
            fingerprints = [
                r[0]
                for r in conn.execute(
                    select(MessageRow.fingerprint).order_by(MessageRow.id).limit(n)
                )
            ]
        fingerprints += ["-"] * (n - len(fingerprints))  # rejected lines still get a row

        floors: dict[bool, float] = {}
        for indexed in (False, True):
            name = f"floor{int(indexed)}.db"
            floor_engine = engine if database_url else make_engine(f"sqlite:///{Path(tmp) / name}")
            make_floor_table(floor_engine, indexed)
            started = time.perf_counter()
            floor_insert(floor_engine, lines, fingerprints, batch_size, indexed)
            floors[indexed] = time.perf_counter() - started
            if database_url:
                with engine.begin() as conn:
                    conn.execute(text(f"DROP TABLE IF EXISTS {_FLOOR_TABLE}"))
            else:
                floor_engine.dispose()
        engine.dispose()
        floor_rate = n / floors[False]
        wholes = _whole(lines, tmp, batch_size, postgres_url, floor_rate, echo) if whole else {}

    started = time.perf_counter()
    _parse_only(lines)
    parse_s = time.perf_counter() - started
    floor_s, indexed_s = floors[False], floors[True]
    ingest_rate, floor_rate = n / ingest_s, n / floor_s
    backend = url.split(":", 1)[0]
    echo(
        f"ingest ({backend}): {ingest_rate:,.0f} frames/s  ({ingest_s:.2f} s; stored "
        f"{summary.stored}, duplicates {summary.duplicates}, rejected {summary.rejected_count}, "
        f"in log {stored})"
    )
    echo(f"floor  (json.loads + bare bulk insert): {floor_rate:,.0f} frames/s  ({floor_s:.2f} s)")
    echo(f"ratio  floor/ingest: {floor_rate / ingest_rate:.2f}x")
    echo("where the time goes:")
    echo(
        f"  read + parse alone (no database): {n / parse_s:,.0f} frames/s  ({parse_s:.2f} s, "
        f"{parse_s / ingest_s:.0%} of ingest)"
    )
    store_s = max(ingest_s - parse_s, 1e-9)
    echo(f"  store (ingest minus read + parse): {n / store_s:,.0f} frames/s  ({store_s:.2f} s)")
    echo(
        f"  floor with the log's two indexes (unique fingerprint, charger+time): "
        f"{n / indexed_s:,.0f} frames/s  ({indexed_s:.2f} s)"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        echo(out.getvalue())
    return {
        "frames": n,
        "ingest_fps": ingest_rate,
        "floor_fps": floor_rate,
        "indexed_floor_fps": n / indexed_s,
        "parse_fps": n / parse_s,
        **wholes,
    }


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chargers", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--batch-size", type=int, default=20_000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--database-url")
    ap.add_argument("--postgres-url", help="a PostgreSQL server for the whole-command run")
    ap.add_argument("--no-whole", action="store_true", help="skip the whole-command runs")
    args = ap.parse_args()
    run(
        chargers=args.chargers,
        hours=args.hours,
        batch_size=args.batch_size,
        profile=args.profile,
        database_url=args.database_url,
        postgres_url=args.postgres_url,
        whole=not args.no_whole,
    )
