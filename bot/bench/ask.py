"""`faultbot bench ask`: how long reading one question takes on a large fleet.

A seeded fleet (10,000 chargers FLT-00001… on 500 sites named from place and kind
words, so many sites share words) and the real knowledge base are indexed once
(timed, reported). Then seeded questions in the styles people use (ids spelled
loosely, sites with typos and other word orders, codes with makers, time words,
digest/help) are read one by one: p50/p99/max. Next to it, measured in the same run,
the floor: cleaning and folding the same text plus one regex pass over it, which any
reader pays; and, on a sample, a naive reader that fuzzy-matches every word against
every charger and site name (what the index saves). `--check` exits 1 when p99 is
over the 5 ms goal.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import click

GOAL_P99_MS = 5.0
REPEATS = 3
_PLACES = (
    "North", "South", "East", "West", "Central", "Harbour", "River", "Lake", "Airport",
    "Station", "Market", "Castle", "Park", "Hill", "Valley", "Bridge", "Forest", "Meadow",
    "Garden", "Mill", "Church", "Port", "Bay", "Cliff", "Green", "Oak", "Elm", "Stone", "Rose",
    "King", "Queen", "Abbey", "Canal", "Dock", "Field", "Moor", "Ridge", "Spring", "Brook",
    "Fair", "Marsh",
)
_KINDS = ("Depot", "Garage", "Hotel", "Hub", "Retail", "Mall", "Plaza", "Office", "Campus",
          "Yard", "Court", "Square")
_VENDORS = ("ABB", "Alfen", "Zaptec", "KEBA", "Mennekes", "Delta", "Tritium", "Autel")
_CODES = ("0x0002", "210", "4096", "EV0081", "GroundFailure", "101", "0x1000", "F400")
_WORD = re.compile(r"[a-z0-9]+")


def fleet(chargers: int, sites: int, seed: int) -> tuple[list[str], Any]:
    from bot.sample.fleet import fleet_charger_ids
    from bot.store.sites import Site, SiteMap

    rng = random.Random(seed)
    ids = fleet_charger_ids(chargers)
    names: list[str] = []
    while len(names) < sites:
        words = [*rng.sample(_PLACES, rng.choice((1, 2))), rng.choice(_KINDS)]
        name = " ".join(words)
        if name not in names:
            names.append(name)
    members: dict[str, list[str]] = {n: [] for n in names}
    for i, charger in enumerate(ids):
        members[names[i % len(names)]].append(charger)
    return ids, SiteMap([Site(n, timezone="Europe/Berlin", chargers=c) for n, c in members.items()])


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def questions(ids: list[str], site_names: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    shapes: list[Callable[[], str]] = [
        lambda: f"why is {rng.choice(ids)} down?",
        lambda: f"is flt{int(rng.choice(ids)[4:])} ok last night",
        lambda: f"FLT {int(rng.choice(ids)[4:])} port 2 status pls",
        lambda: f"charger {rng.randint(1, len(ids))} broken again??",
        lambda: f"anything wrong at {rng.choice(site_names).lower()}",
        lambda: " ".join(_typo(w, rng) for w in rng.choice(site_names).lower().split()) + " ok?",
        lambda: " ".join(reversed(rng.choice(site_names).split())) + " status yesterday",
        lambda: f"what does {rng.choice(_CODES)} mean on {rng.choice(_VENDORS)}",
        lambda: f"{rng.choice(_VENDORS).lower()} code {rng.randint(1, 4000)}?",
        lambda: f"what happened at {rng.choice(site_names)} on tuesday",
        lambda: f"{rng.choice(ids)} at {rng.choice(site_names).lower()} since this morning",
        lambda: "give me the morning report",
        lambda: "what can you do",
        lambda: "list the codes you don't understand",
        lambda: "customer says the charger near the entrance is dead, no idea which one",
    ]
    return [rng.choice(shapes)() for _ in range(n)]


def _floor(text: str) -> int:
    from bot.ask.entities import clean

    return len(_WORD.findall(clean(text).lower().replace("'", "")))


def _naive(text: str, names: list[str]) -> Any:
    from rapidfuzz import fuzz, process

    return [process.extractOne(w, names, scorer=fuzz.ratio, score_cutoff=80)
            for w in _WORD.findall(text.lower()) if len(w) >= 3]


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def run(*, chargers: int = 10_000, sites: int = 500, count: int = 5000, seed: int = 7,
        naive_samples: int = 50, echo: Callable[[str], None] = print) -> dict[str, float]:
    from bot.ask.cues import load_cues
    from bot.ask.index import build_index
    from bot.ask.intent import understand
    from bot.kb.loader import default_knowledge

    kb = default_knowledge()
    cues = load_cues()
    ids, site_map = fleet(chargers, sites, seed)
    started = time.perf_counter()
    index = build_index(ids, site_map, kb)
    build_s = time.perf_counter() - started
    echo(f"index    {len(ids):,} chargers, {len(index.sites):,} sites, {len(index.vendors)} "
         f"vendor names, {len(index.codes):,} codes: built in {build_s * 1000:.0f} ms (once)")
    asked = questions(ids, list(index.sites), count, seed)
    for q in asked[:50]:  # warm caches (regex compiles, cue file) outside the timing
        understand(q, index, cues)

    # Each question is read REPEATS times; its cost is the best of them, so a pause of a
    # shared machine's scheduler is not billed to the reader (every raw time is kept too).
    read_ms, raw_ms, cpu_ms, floor_ms = [], [], [], []
    kinds: dict[str, int] = {}
    for q in asked:
        best = best_floor = float("inf")
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            _floor(q)
            t1 = time.perf_counter()
            c1 = time.thread_time()
            cmd = understand(q, index, cues)
            c2 = time.thread_time()
            t2 = time.perf_counter()
            cpu_ms.append((c2 - c1) * 1000)
            best_floor = min(best_floor, (t1 - t0) * 1000)
            raw_ms.append((t2 - t1) * 1000)
            best = min(best, raw_ms[-1])
        floor_ms.append(best_floor)
        read_ms.append(best)
        kinds[cmd.kind] = kinds.get(cmd.kind, 0) + 1
    names = [*ids, *index.sites]
    naive_ms = []
    for q in asked[:naive_samples]:
        t0 = time.perf_counter()
        _naive(q, names)
        naive_ms.append((time.perf_counter() - t0) * 1000)

    p50, p99, worst = _pct(read_ms, 0.5), _pct(read_ms, 0.99), max(read_ms)
    f50, f99 = _pct(floor_ms, 0.5), _pct(floor_ms, 0.99)
    n50 = statistics.median(naive_ms)
    echo(f"floor    (clean + fold + one regex pass):  p50 {f50:.3f} ms, p99 {f99:.3f} ms")
    echo(f"read     (bot.ask.understand):             p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
         f"max {worst:.2f} ms over {len(asked):,} questions  ({p99 / f99:.0f}x floor at p99)")
    echo(f"         every single read, pauses included: p99 {_pct(raw_ms, 0.99):.3f} ms, "
         f"max {max(raw_ms):.2f} ms over {len(raw_ms):,} reads; CPU time of each read: "
         f"p99 {_pct(cpu_ms, 0.99):.3f} ms")
    echo(f"naive    (fuzzy every word vs every name): p50 {n50:.1f} ms on {len(naive_ms)} "
         f"questions  ({n50 / p50:.0f}x the index)")
    echo("readings " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    verdict = "ok" if p99 < GOAL_P99_MS else "OVER"
    echo(f"goal     p99 < {GOAL_P99_MS:g} ms: {verdict}")
    return {"p50_ms": p50, "p99_ms": p99, "raw_p99_ms": _pct(raw_ms, 0.99),
            "cpu_p99_ms": _pct(cpu_ms, 0.99), "max_ms": worst,
            "floor_p99_ms": f99, "naive_p50_ms": n50, "build_ms": build_s * 1000}


@click.command("ask")
@click.option("--chargers", type=click.IntRange(1, 200_000), default=10_000, show_default=True)
@click.option("--sites", type=click.IntRange(1, 20_000), default=500, show_default=True)
@click.option("--questions", "count", type=click.IntRange(10, 1_000_000), default=5000,
              show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--check", is_flag=True, help=f"Exit 1 when p99 is not under {GOAL_P99_MS:g} ms.")
def ask_bench(chargers: int, sites: int, count: int, seed: int, check: bool) -> None:
    """Time to read one question on a large fleet, next to a floor measured in the same run."""
    figures = run(chargers=chargers, sites=sites, count=count, seed=seed, echo=click.echo)
    if check and figures["p99_ms"] >= GOAL_P99_MS:
        raise SystemExit(1)
