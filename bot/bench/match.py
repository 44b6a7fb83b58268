"""`faultbot bench match`: knowledge-base lookups per second, next to a simple matcher.

Two bases: the real one under knowledge/ and a synthetic one (seeded) with many
vendors, codes in every format, and phrasings. Each is queried with a seeded mix
of exact codes, respelled codes (`E`, `0x`, brackets, leading zeros), bitmask sums,
info texts, unknown vendors and unknown codes. Reported, for faultbot's matcher and
for the baseline the issue names (a dict lookup, else rapidfuzz `extractOne` over the
same strings, scoped to the vendor when its name is known), both on every query of
the same run: lookups/s, p50/p99 latency and the share of answers each got right,
and the ratio. faultbot's cached rate for repeats is printed too; a difflib scan
(a strawman) is kept only as a footnote, on a sample because it is slow.
"""

from __future__ import annotations

import difflib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.kb.knowledge import KnowledgeBase, PhrasingBlock, VendorSpec
from bot.kb.matcher import CACHE_SIZE, Matcher
from bot.kb.normalize import CodeFormat, is_numeric_code
from bot.kb.types import KBEntry, MatchQuery
from bot.vocab import Category, Owner, Severity

BASELINE_BUDGET_S = 2.0  # the difflib footnote gets this long per base, on a sample of queries
FUZZ_CUTOFF = 80.0  # rapidfuzz WRatio score below which the baseline answers "unknown"

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


def rapidfuzz_baseline(kb: KnowledgeBase) -> Callable[[Case], str | None]:
    """The simple matcher of issue 14: what one writes with a dict and rapidfuzz.

    The vendor is resolved by an exact (casefolded) dict of its names and the names
    chargers send; the text is looked up exactly (dict, after rapidfuzz's default
    normalisation), else `process.extractOne` with WRatio and a cutoff over that
    vendor's codes, aliases and phrasings, or over all of them when the vendor is
    unknown. Choices are normalised once, up front, as a sensible user would."""
    from rapidfuzz import fuzz, process, utils

    vendor_of: dict[str, str] = {}
    for name, spec in kb.vendors.items():
        for sent in (name, *spec.sends):
            vendor_of.setdefault(sent.casefold(), name)
    exact: dict[tuple[str | None, str], str] = {}
    choices: dict[str | None, list[str]] = {None: []}
    keys: dict[str | None, list[str]] = {None: []}
    for e in kb.entries:
        for s in (e.code or "", *e.aliases, *e.phrasings):
            norm = utils.default_process(s)
            if not norm:
                continue
            for pool in {e.vendor, None}:
                exact.setdefault((pool, norm), e.key)
                choices.setdefault(pool, []).append(norm)
                keys.setdefault(pool, []).append(e.key)

    def lookup(case: Case) -> str | None:
        vendor = vendor_of.get((case.query.vendor or "").casefold())
        pool = vendor if vendor in choices else None
        text = utils.default_process(case.text)
        hit = exact.get((pool, text))
        if hit is not None:
            return hit
        found = process.extractOne(
            text, choices[pool], scorer=fuzz.WRatio, processor=None, score_cutoff=FUZZ_CUTOFF
        )
        return keys[pool][found[2]] if found else None

    return lookup


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


@dataclass(slots=True)
class Measured:
    """One matcher over one base's queries: rate, latencies (ms), answers right."""

    rate: float
    latencies: list[float]
    right: int
    of: int
    sample: int

    def line(self, label: str) -> str:
        return (
            f"  {label:19}{self.rate:10.0f} lookups/s"
            f"   p50 {_percentile(self.latencies, 50):.3f} ms"
            f"   p99 {_percentile(self.latencies, 99):.3f} ms   right {self.right}/{self.of}"
            f" ({100 * self.right / max(1, self.of):.0f} %)"
        )


def _measure(
    answer: Callable[[Case], str | None], items: list[Case], budget_s: float | None = None
) -> Measured:
    """Time each query through `answer` and count the right ones (the whole list, or a
    sample of at least 20 when `budget_s` runs out)."""
    latencies: list[float] = []
    ok = asked = 0
    end = None if budget_s is None else time.perf_counter() + budget_s
    for c in items:
        if end is not None and len(latencies) >= 20 and time.perf_counter() > end:
            break
        t = time.perf_counter_ns()
        got = answer(c)
        latencies.append((time.perf_counter_ns() - t) / 1e6)
        asked += c.expect is not None
        ok += c.expect is not None and got == c.expect
    rate = 1000 * len(latencies) / max(1e-9, sum(latencies))
    return Measured(rate, latencies, ok, asked, len(latencies))


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
    t0 = time.perf_counter()
    baseline = rapidfuzz_baseline(kb)
    baseline_build_s = time.perf_counter() - t0

    def ours(case: Case) -> str | None:
        m = matcher.match_uncached(case.query)
        return m.entry.key if m.entry else None

    faultbot = _measure(ours, items)
    fuzzy = _measure(baseline, items)
    # Repeats: a working set the LRU can hold (real feeds repeat a few codes per charger).
    working = items[: min(len(items), CACHE_SIZE // 2)]
    for c in working:
        matcher.match(c.query)
    cached_total, _ = _time(matcher.match, working * 4)
    cached_rate = len(working) * 4 / cached_total
    naive = _measure(_naive(kb), items, BASELINE_BUDGET_S)

    echo(
        f"{label}: {len(kb.entries)} entries, {len(kb.vendors)} vendors, {len(items)} queries;"
        f" built in {build_s * 1000:.0f} ms (faultbot), {baseline_build_s * 1000:.0f} ms (baseline)"
    )
    echo(faultbot.line("faultbot uncached:"))
    echo(fuzzy.line("dict + rapidfuzz:"))
    p99_ratio = _percentile(faultbot.latencies, 99) / _percentile(fuzzy.latencies, 99)
    echo(
        f"  ratio: faultbot uncached is {faultbot.rate / fuzzy.rate:.2f}x the dict + rapidfuzz"
        f" rate; its p99 is {p99_ratio:.2f}x"
        f" the baseline's; right {faultbot.right - fuzzy.right:+d} answers"
    )
    echo(
        f"  faultbot cached:   {cached_rate:10.0f} lookups/s   ({cached_rate / faultbot.rate:.1f}x"
        " uncached)"
    )
    echo(
        f"  footnote, difflib scan (sample of {naive.sample}): {naive.rate:.1f} lookups/s,"
        f" right {naive.right}/{naive.of}"
    )


def run(queries: int, entries: int, seed: int, echo: Callable[[str], None] = print) -> None:
    from bot.kb.loader import KnowledgeError, default_knowledge

    try:
        real = default_knowledge()
    except KnowledgeError as exc:
        echo(f"real knowledge base: skipped, it has problems ({len(exc.problems)})")
    else:
        bench_base("real knowledge base", real, queries, seed, echo)
    bench_base(f"synthetic base (seed {seed})", synthetic_base(entries, seed), queries, seed, echo)
