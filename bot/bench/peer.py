"""`faultbot bench explain`: `faultbot explain --json` next to ocpp-lens on the same log.

Both run as whole processes (start-up included, best and median of N runs, the two
tools' runs alternating so that a change in the load of a shared machine lands on both;
wall time and the process's CPU time, which the load disturbs less) on the same
frames: the bundled sample (`faultbot sample`) and a synthetic fleet log of `--frames`
frames (bot.sample.fleet). ocpp-lens does not read faultbot's log format (contract 1:
`{"ts", "charger", "frame"}`): on it as is, it finds no message at all and so does no
work. It is therefore given the same frames in the wrapped form its parser reads
(`{"timestamp", "message"}`), and each tool's message count is printed so that the
reader can see both read the whole log. ocpp-lens is the optional `bench` extra
(`pip install -e '.[bench]'`); without it only faultbot's times are printed.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

PEER = "ocpp-lens"
PEER_VERSION = "0.2.0"


@dataclass(frozen=True, slots=True)
class Timed:
    best: float
    median: float
    cpu_best: float | None = None  # the process's user + system CPU time
    cpu_median: float | None = None


def find_peer() -> Path | None:
    """The ocpp-lens console script of this Python's environment, else the one on PATH."""
    here = Path(sys.executable).parent / PEER
    if here.is_file():
        return here
    found = shutil.which(PEER)
    return Path(found) if found else None


def _time(argv: list[str], runs: int, cwd: Path) -> Timed:
    from bot.bench.proc import times

    out = times(argv, runs, cwd)  # as installed, after one untimed run (bot.bench.proc)
    return Timed(min(out), statistics.median(out))


def _time_pair(ours: list[str], theirs: list[str], runs: int, cwd: Path
               ) -> tuple[Timed, Timed]:
    """Both commands in turn (ours, theirs, ours, ...) after one untimed run of each, so
    that a change in the machine's load lands on both alike; wall time and CPU time
    (user + system of the child, less sensitive to the load than wall time)."""
    import resource
    import time

    from bot.bench.proc import installed_env

    env = installed_env()
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for i in range(runs + 1):
        for k, argv in enumerate((ours, theirs)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                walls[k].append(wall)
                cpus[k].append(after.ru_utime + after.ru_stime
                               - before.ru_utime - before.ru_stime)
    a, b = (Timed(min(w), statistics.median(w), min(c), statistics.median(c))
            for w, c in zip(walls, cpus, strict=True))
    return a, b


def write_fleet_log(path: Path, frames: int, chargers: int, seed: int) -> None:
    from bot.sample.fleet import generate_fleet_lines

    # A year is far more than `frames` needs; the generator is lazy, so only what is
    # taken is drawn.
    lines = generate_fleet_lines(chargers, hours=24 * 365, seed=seed)
    with path.open("w", encoding="utf-8") as out:
        for line in itertools.islice(lines, frames):
            out.write(line + "\n")


def write_peer_log(source: Path, target: Path) -> tuple[int, int]:
    """The frames of a contract-1 log in ocpp-lens's wrapped form; (written, left out).
    Lines that are not a contract-1 record (the sample's deliberately bad ones) are
    left out: ocpp-lens would skip them too."""
    written = skipped = 0
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not (isinstance(record, dict) and isinstance(record.get("frame"), list)):
                skipped += 1
                continue
            out.write(json.dumps({"timestamp": record.get("ts"), "message": record["frame"]},
                                 separators=(",", ":")) + "\n")
            written += 1
    return written, skipped


def _peer_count(peer: Path, log: Path, cwd: Path) -> int | None:
    """How many messages ocpp-lens read from `log` (its "N messages found." line)."""
    done = subprocess.run([str(peer), str(log)], cwd=cwd, capture_output=True, text=True,
                          check=False)
    found = re.search(r"(\d+) messages found", done.stdout)
    return int(found.group(1)) if found else None


def _faultbot_count(me: list[str], log: Path, cwd: Path) -> int:
    """How many diagnoses `faultbot explain --json` printed (one JSON object a line)."""
    done = subprocess.run([*me, "explain", "--json", str(log)], cwd=cwd, capture_output=True,
                          text=True, check=False)
    return sum(1 for line in done.stdout.splitlines() if line.startswith("{"))


def compare(label: str, log: Path, runs: int, peer: Path | None, work: Path,
            echo: Callable[[str], None]) -> None:
    me = [sys.executable, "-m", "bot.cli.main"]
    with log.open(encoding="utf-8") as lines:
        frames = sum(1 for _ in lines)
    argv = [*me, "explain", "--json", str(log)]
    echo(f"{label}: {frames} lines, {log.stat().st_size / 1e6:.1f} MB")
    if peer is None:
        ours = _time(argv, runs, work)
        echo(f"  faultbot explain --json   best {ours.best:6.3f} s  median {ours.median:6.3f} s"
             f"   ({_faultbot_count(me, log, work)} diagnoses)")
        echo(f"  {PEER}: not installed, no ratio (pip install -e '.[bench]' installs "
             f"{PEER}=={PEER_VERSION})")
        return
    wrapped = work / f"{log.stem}.{PEER}.jsonl"
    written, skipped = write_peer_log(log, wrapped)
    report = work / f"{log.stem}.{PEER}.json"
    ours, theirs = _time_pair(argv, [str(peer), str(wrapped), "--json", str(report), "--quiet"],
                              runs, work)
    read = _peer_count(peer, wrapped, work)
    echo("  (runs alternate between the two; CPU: the process's user + system time)")
    echo(f"  faultbot explain --json   best {ours.best:6.3f} s  median {ours.median:6.3f} s"
         f"   CPU best {ours.cpu_best:6.3f} s  median {ours.cpu_median:6.3f} s"
         f"   ({_faultbot_count(me, log, work)} diagnoses)")
    echo(f"  {PEER} --json --quiet   best {theirs.best:6.3f} s  median {theirs.median:6.3f} s"
         f"   CPU best {theirs.cpu_best:6.3f} s  median {theirs.cpu_median:6.3f} s"
         f"   ({read} of {written} frames read; {skipped} unreadable lines left out)")
    echo(f"  ratio: faultbot takes {ours.best / theirs.best:.2f}x ocpp-lens's time (best),"
         f" {ours.median / theirs.median:.2f}x (median); CPU {_ratio(ours, theirs)};"
         " below 1 is faster")
    echo(f"  (ocpp-lens on the contract-1 file as is reads {_peer_count(peer, log, work)} "
         "messages: it does not know the `frame` key)")


def _ratio(ours: Timed, theirs: Timed) -> str:
    if not (ours.cpu_best and theirs.cpu_best and ours.cpu_median and theirs.cpu_median):
        return "n/a"
    return (f"{ours.cpu_best / theirs.cpu_best:.2f}x (best),"
            f" {ours.cpu_median / theirs.cpu_median:.2f}x (median)")


def run(*, frames: int, chargers: int, runs: int, seed: int, peer: Path | None,
        echo: Callable[[str], None], sample: bool = True) -> None:
    work = Path(tempfile.mkdtemp(prefix="faultbot-bench-explain-"))
    me = [sys.executable, "-m", "bot.cli.main"]
    try:
        if sample:
            subprocess.run([*me, "sample", "--out", str(work / "sample")], cwd=work,
                           check=True, stdout=subprocess.DEVNULL)
            compare("bundled sample (faultbot sample)", work / "sample" / "sample.jsonl",
                    runs, peer, work, echo)
        if frames:
            fleet = work / "fleet.jsonl"
            write_fleet_log(fleet, frames, chargers, seed)
            compare(f"fleet log, {chargers} chargers (bot.sample.fleet, seed {seed})", fleet,
                    runs, peer, work, echo)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@click.command("explain")
@click.option("--frames", default=20_000, show_default=True, type=click.IntRange(0, 10_000_000),
              help="Frames in the fleet log (0: the bundled sample only). The issue's "
                   "figure is 100000.")
@click.option("--chargers", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help="Chargers in the fleet log. The default keeps many frames per charger "
                   "at 20k frames; the 10,000-charger size: --chargers 10000 --frames 1000000.")
@click.option("--sample/--no-sample", default=True, show_default=True,
              help="Also compare on the bundled sample (38k frames, 36 chargers).")
@click.option("--runs", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--ocpp-lens", "peer_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The ocpp-lens executable (default: this environment's, else PATH).")
def explain_bench(frames: int, chargers: int, sample: bool, runs: int, seed: int,
                  peer_path: Path | None) -> None:
    """`faultbot explain --json` vs ocpp-lens on the same log, whole process, and the ratio."""
    peer = peer_path if peer_path is not None else find_peer()
    if peer is not None and not peer.is_file():
        peer = None
    run(frames=frames, chargers=chargers, runs=runs, seed=seed, peer=peer, echo=click.echo,
        sample=sample)
