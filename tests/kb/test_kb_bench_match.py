"""`faultbot bench match`: the rapidfuzz baseline answers like a simple matcher, and the
report has both matchers' figures and the ratio (shape only: timings are not asserted)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from bot.bench.match import Case, bench_base, rapidfuzz_baseline, synthetic_base
from bot.kb.types import MatchQuery


def test_baseline_exact_respelled_scoped_and_unknown() -> None:
    kb = synthetic_base(300, seed=3)
    entry = next(e for e in kb.entries if e.vendor == "Vendor0001")  # hex codes
    other = next(e for e in kb.entries if e.vendor == "Vendor0002")
    code = entry.code or ""
    lookup = rapidfuzz_baseline(kb)
    sent = kb.vendors["Vendor0001"].sends[0]

    def ask(vendor: str | None, text: str) -> str | None:
        return lookup(Case(MatchQuery(vendor, None, None, text), None, text))

    assert ask(sent, code) == entry.key
    assert ask(sent, f"[{code}]") == entry.key  # normalised before the exact lookup
    # Scoped to the vendor: another vendor's code is not answered with this one's entry.
    assert ask(sent, other.code or "") != other.key
    assert ask("Nobody Ltd", "zzzz qqqq xxxx") is None


def test_bench_base_prints_both_matchers_and_the_ratio() -> None:
    lines: list[str] = []
    bench_base("tiny", synthetic_base(200, seed=1), 120, 1, lines.append)
    text = "\n".join(lines)
    assert lines[0].startswith("tiny: 200 entries, 2 vendors, 120 queries")
    for label in ("faultbot uncached:", "dict + rapidfuzz:"):
        row = next(line for line in lines if line.strip().startswith(label))
        shape = r"\d+ lookups/s +p50 [\d.]+ ms +p99 [\d.]+ ms +right \d+/\d+ \(\d+ %\)"
        assert re.search(shape, row)
    assert re.search(r"ratio: faultbot uncached is [\d.]+x the dict \+ rapidfuzz rate", text)
    assert "footnote, difflib" in lines[-1]


def test_bench_match_command_runs_on_a_small_base() -> None:
    from bot.cli.main import cli

    result = CliRunner().invoke(cli, ["bench", "match", "--queries", "100", "--entries", "200"])
    assert result.exit_code == 0, result.output
    assert result.output.count("dict + rapidfuzz:") == 2  # real and synthetic base
