"""`faultbot bench match`: knowledge-base lookups per second, next to a naive baseline.

Two bases: the real one under knowledge/ and a synthetic one (seeded) with many
vendors, codes in every format, and phrasings. Each is queried with a seeded mix
of exact codes, respelled codes (`E`, `0x`, brackets, leading zeros), bitmask sums,
info texts, unknown vendors and unknown codes. Reported: uncached lookups/s with
p50/p99 latency, the cached rate for repeats, and the same queries answered by a
naive difflib scan over the same strings (measured in the same run, on a sample,
because it is slow), with the share of answers each got right.
"""

from __future__ import annotations

import difflib
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.kb.knowledge import KnowledgeBase, PhrasingBlock, VendorSpec
from bot.kb.matcher import CACHE_SIZE, Matcher
from bot.kb.normalize import CodeFormat, is_numeric_code
from bot.kb.types import KBEntry, MatchQuery
from bot.vocab import Category, Owner, Severity

BASELINE_BUDGET_S = 4.0  # the naive scan gets this long per base, on a sample of queries

_WORD_TEXT = (
    "fault error failure lost timeout high low over under voltage current temperature sensor "
    "relay contactor lock unlock pilot proximity meter module fan cooling door tilt water "
    "ground residual isolation insulation reader card network link modbus bus board power "
    "supply input output phase breaker surge emergency stop button station cable plug vehicle "
    "communication firmware configuration watchdog memory clock display heater pump valve"
)
_WORDS = _WORD_TEXT.split()
_FORMATS = (
    CodeFormat.DECIMAL,
    CodeFormat.HEX,
    CodeFormat.HEX_BITMASK,
    CodeFormat.DECIMAL_BITMASK,
    CodeFormat.SYMBOLIC,
    CodeFormat.PREFIXED,
)


@dataclass(slots=True)
class Case:
    query: MatchQuery
    expect: str | None  # the entry key a right answer has (None: any answer is a guess)
    text: str  # what the naive baseline searches with


def synthetic_base(entries: int, seed: int) -> KnowledgeBase:
    """A seeded base of about `entries` code entries over many vendors and formats."""
    rng = random.Random(seed)
    per_vendor = 100
    categories = [c for c in Category if c is not Category.UNKNOWN]
    vendors: dict[str, VendorSpec] = {}
    out: list[KBEntry] = []
    for v in range(max(1, entries // per_vendor)):
        fmt = _FORMATS[v % len(_FORMATS)]
        name = f"Vendor{v:04d}"
        vendors[name] = VendorSpec(name, (f"{name} GmbH",), (f"V{v:04d}-*",), fmt)
        for i in range(per_vendor):
            if fmt.bitmask:
                code = f"0x{1 << (i % 32):04X}" if fmt.hex else str(1 << (i % 32))
                if i >= 32:
                    code = f"{code}_{i}"  # keep codes unique; only 32 bits exist
            elif fmt == CodeFormat.HEX:
                code = f"0x{rng.randrange(0x100, 0xFFFF):04X}"
            elif fmt == CodeFormat.DECIMAL:
                code = str(rng.randrange(1, 999))
            elif fmt == CodeFormat.SYMBOLIC:
                code = "_".join(rng.sample(_WORDS, 3)).upper() + f"_{i}"
            else:
                code = f"F-{i:04d}"
            phrase = " ".join(rng.sample(_WORDS, rng.randint(3, 6)))
            out.append(
                KBEntry(
                    key=f"{name.lower()}:{code}:{i}",
                    vendor=name,
                    code=code,
                    category=rng.choice(categories),
                    severity=rng.choice(list(Severity)),
                    owner=rng.choice(list(Owner)),
                    meaning=f"Synthetic meaning {i} of {name}.",
                    action="Synthetic action.",
                    source="synthetic",
                    aliases=(f"E{code}",) if fmt == CodeFormat.DECIMAL and i % 3 == 0 else (),
                    phrasings=(phrase,) if i % 2 == 0 else (),
                )
            )
    blocks = []
    for n, category in enumerate(categories * 10):
        entry = KBEntry(
            key=f"phrasing:{category.value}:{n}",
            vendor=None,
            code=None,
            category=category,
            severity=Severity.OUTAGE,
            owner=Owner.VENDOR_SERVICE,
            meaning="Synthetic phrasing.",
            action="Synthetic action.",
            source="synthetic",
        )
        phrases = tuple(" ".join(rng.sample(_WORDS, rng.randint(2, 4))) for _ in range(5))
        blocks.append(PhrasingBlock(entry, phrases, ()))
    return KnowledgeBase(out, vendors, blocks, [])


def _respell(code: str, fmt: CodeFormat, rng: random.Random) -> str:
    if not is_numeric_code(code):
        return code.lower()
    digits = code[2:] if code.lower().startswith("0x") else code
    if code.lower().startswith("0x") and not fmt.hex:  # hex-written code of a decimal vendor
        return rng.choice((f"0X{digits}", f"[{code}]", f"#{code}", f"Err {code}"))
    return rng.choice(
        (
            f"[{code}]",
            f"E{digits}" if not fmt.hex else f"0x{digits.lower()}",
            f"Err {code}",
            f"#{code}",
            f"00{digits}" if fmt.hex or not fmt.bitmask else code,
        )
    )


def cases(kb: KnowledgeBase, n: int, seed: int) -> list[Case]:
    """A seeded mix of query shapes over the vendors' entries."""
    rng = random.Random(seed)
    entries = [e for e in kb.entries if e.vendor is not None and e.code]
    if not entries:
        return []
    out: list[Case] = []
    for _ in range(n):
        e = rng.choice(entries)
        spec = kb.vendors[e.vendor or ""]
        sent = rng.choice(spec.sends or (spec.name,))
        model = None
        if e.models:
            model = e.models[0].replace("*", "X")
        shape = rng.random()
        if shape < 0.35:
            q, expect, text = MatchQuery(sent, model, None, e.code), e.key, e.code or ""
        elif shape < 0.6:
            code = _respell(e.code or "", spec.code_format, rng)
            q, expect, text = MatchQuery(sent, model, None, code), e.key, code
        elif shape < 0.75 and e.phrasings:
            info = rng.choice(e.phrasings) + " " + rng.choice(_WORDS)
            q, expect, text = MatchQuery(sent, model, None, None, info), e.key, info
        elif shape < 0.85:
            q, expect, text = MatchQuery(None, None, None, e.code), None, e.code or ""
        elif shape < 0.93:
            code = str(rng.randrange(100_000, 999_999))
            q, expect, text = MatchQuery(sent, model, None, code, None, "OtherError"), None, code
        else:
            info = " ".join(rng.sample(_WORDS, 4))
            q, expect, text = MatchQuery("Nobody Ltd", None, None, None, info), None, info
        out.append(Case(q, expect, text))
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _time(call: Callable[[MatchQuery], object], items: list[Case]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for case in items:
        t0 = time.perf_counter_ns()
        call(case.query)
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    return time.perf_counter() - start, latencies


def _naive(kb: KnowledgeBase) -> Callable[[Case], str | None]:
    """difflib over every code, alias and phrasing string: what one writes without an index."""
    strings: list[str] = []
    keys: list[str] = []
    for e in kb.entries:
        for s in (e.code or "", *e.aliases, *e.phrasings):
            if s:
                strings.append(s.casefold())
                keys.append(e.key)
    first: dict[str, str] = {}
    for s, k in zip(strings, keys, strict=True):
        first.setdefault(s, k)

    def lookup(case: Case) -> str | None:
        found = difflib.get_close_matches(case.text.casefold(), strings, n=1, cutoff=0.6)
        return first[found[0]] if found else None

    return lookup


def bench_base(
    label: str, kb: KnowledgeBase, n: int, seed: int, echo: Callable[[str], None]
) -> None:
    t0 = time.perf_counter()
    matcher = Matcher(kb)
    build_s = time.perf_counter() - t0
    items = cases(kb, n, seed)
    if not items:
        echo(f"{label}: no vendor entries to query")
        return
    total, lat = _time(matcher.match_uncached, items)
    rate = len(items) / total
    right = [c for c in items if c.expect is not None]
    correct = sum(
        1 for c in right if (m := matcher.match_uncached(c.query)).entry and m.entry.key == c.expect
    )
    # Repeats: a working set the LRU can hold (real feeds repeat a few codes per charger).
    working = items[: min(len(items), CACHE_SIZE // 2)]
    for c in working:
        matcher.match(c.query)
    cached_total, _ = _time(matcher.match, working * 4)
    cached_rate = len(working) * 4 / cached_total

    naive = _naive(kb)
    sample: list[Case] = []
    naive_lat: list[float] = []
    naive_ok = 0
    budget_end = time.perf_counter() + BASELINE_BUDGET_S
    for c in items:
        if time.perf_counter() > budget_end and len(sample) >= 20:
            break
        t = time.perf_counter_ns()
        got = naive(c)
        naive_lat.append((time.perf_counter_ns() - t) / 1e6)
        sample.append(c)
        naive_ok += bool(c.expect is not None and got == c.expect)
    naive_right = sum(1 for c in sample if c.expect is not None)
    naive_rate = 1000 / statistics.fmean(naive_lat)

    echo(
        f"{label}: {len(kb.entries)} entries, {len(kb.vendors)} vendors, matcher built in "
        f"{build_s * 1000:.0f} ms"
    )
    echo(
        f"  faultbot uncached: {rate:10.0f} lookups/s   p50 {_percentile(lat, 50):.3f} ms   "
        f"p99 {_percentile(lat, 99):.3f} ms   right {correct}/{len(right)}"
    )
    echo(
        f"  faultbot cached:   {cached_rate:10.0f} lookups/s   ({cached_rate / rate:.1f}x uncached)"
    )
    echo(
        f"  naive difflib:     {naive_rate:10.1f} lookups/s   p50 "
        f"{_percentile(naive_lat, 50):.3f} ms   p99 {_percentile(naive_lat, 99):.3f} ms   "
        f"right {naive_ok}/{naive_right} (sample of {len(sample)})"
    )
    echo(f"  ratio: faultbot uncached is {rate / naive_rate:.0f}x the naive scan")


def run(queries: int, entries: int, seed: int, echo: Callable[[str], None] = print) -> None:
    from bot.kb.loader import KnowledgeError, default_knowledge

    try:
        real = default_knowledge()
    except KnowledgeError as exc:
        echo(f"real knowledge base: skipped, it has problems ({len(exc.problems)})")
    else:
        bench_base("real knowledge base", real, queries, seed, echo)
    bench_base(f"synthetic base (seed {seed})", synthetic_base(entries, seed), queries, seed, echo)
