"""Learning from the field on SQLite and PostgreSQL: teach, unknown codes, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.kb.export import export_runtime
from bot.kb.knowledge import KnowledgeBase
from bot.kb.lint import lint_knowledge
from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.kb.models import KBUnknownCode
from bot.kb.runtime import RuntimeEntries, TeachError, UnknownSighting, sighting_for
from bot.kb.types import MatchQuery
from bot.vocab import Category

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_teach_is_used_at_once_and_attributed(db_engine: Engine, fixture_kb: KnowledgeBase) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    matcher = Matcher(fixture_kb, runtime)
    query = MatchQuery(vendor="Alfen BV", code="777", info="odd noise")
    before = matcher.match(query)
    assert before.entry is None
    entry = runtime.teach(
        "Alfen BV",
        "777",
        "cooling_failure",
        "vendor_service",
        "degraded",
        "The fan reports a blocked rotor.",
        "Clean the air intake.",
        "U0TEACH",
        note="ticket 42",
    )
    assert entry.vendor == "Alfen" and entry.key.startswith("runtime:")
    after = matcher.match(query)  # same query, same matcher: no stale cache
    assert after.entry is not None and after.entry.key == entry.key
    assert after.entry.category == Category.COOLING_FAILURE and after.confidence >= 0.9
    assert any("taught by U0TEACH on" in e and "ticket 42" in e for e in after.evidence)
    assert matcher.match(MatchQuery(vendor="Alfen", code="E777")).entry.key == entry.key
    assert matcher.match(MatchQuery(vendor="GE", code="777")).entry is None  # scoped to Alfen
    # Another process (a second RuntimeEntries on the same DB) sees it on its first read.
    other = Matcher(fixture_kb, RuntimeEntries(db_engine, fixture_kb))
    assert other.match(query).entry.key == entry.key
    # Re-teaching the same code replaces the entry instead of adding a second one.
    runtime.teach("Alfen", "777", "power_module", "vendor_service", "outage", "m2", "a2", "U0B")
    assert len(runtime.all()) == 1
    assert matcher.match(query).entry.category == Category.POWER_MODULE


def test_teach_for_a_vendor_not_in_the_base(db_engine: Engine, fixture_kb: KnowledgeBase) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    matcher = Matcher(fixture_kb, runtime)
    runtime.teach(
        "Kempower",
        "E-4711",
        "power_module",
        "vendor_service",
        "outage",
        "m",
        "a",
        "U1",
        model="S-Series*",
    )
    assert matcher.match(MatchQuery(vendor="Kempower Oy", model="S-Series 40", code="e-4711")).entry
    assert matcher.match(MatchQuery(vendor="Kempower", model="T-500", code="E-4711")).entry is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "teleport"}, "category 'teleport' is not one of"),
        ({"category": "unknown"}, "category 'unknown' is not one of"),
        ({"owner": "nobody"}, "owner 'nobody'"),
        ({"code": "  "}, "code is required"),
        ({"meaning": "x" * 2000}, "meaning is longer than"),
        ({"model": "NG[9"}, "unclosed"),
    ],
)
def test_teach_validates(db_engine: Engine, kwargs: dict[str, str], message: str) -> None:
    args = {
        "vendor": "Alfen",
        "code": "1",
        "category": "reader",
        "owner": "driver",
        "severity": "info",
        "meaning": "m",
        "action": "a",
        "taught_by": "U1",
    } | kwargs
    with pytest.raises(TeachError, match=message):
        RuntimeEntries(db_engine).teach(**args)


def test_record_unknown_bulk_upsert(db_engine: Engine, fixture_kb: KnowledgeBase) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    batch = [
        UnknownSighting("Alfen BV", "NG910-60023", "6.5.0", "999", "odd", T0 + timedelta(seconds=i))
        for i in range(5)
    ] + [UnknownSighting(None, None, None, "X1", None, T0)]
    assert runtime.record_unknown(batch) == 2  # one row per distinct code, one statement
    runtime.record_unknown(
        [
            UnknownSighting(
                "Alfen", "NG910-60023", "6.5.0", "999", "later", T0 + timedelta(hours=1)
            ),
            UnknownSighting("Alfen", "NG910-60023", "6.5.0", "999", None, T0 - timedelta(hours=1)),
        ]
    )
    rows = runtime.unknown()
    assert [(u.vendor, u.code, u.count) for u in rows] == [("Alfen", "999", 7), ("", "X1", 1)]
    top = rows[0]
    assert top.first_seen == T0 - timedelta(hours=1)
    assert top.last_seen == T0 + timedelta(hours=1)
    assert top.info == "later"
    assert runtime.unknown(limit=1) == rows[:1]
    # Teaching the code drops it from the list.
    runtime.teach("Alfen", "E999", "reader", "vendor_service", "degraded", "m", "a", "U1")
    assert [u.code for u in runtime.unknown()] == ["X1"]


def test_record_unknown_handles_big_and_hostile_batches(db_engine: Engine) -> None:
    runtime = RuntimeEntries(db_engine)
    batch = [UnknownSighting("V", None, None, f"C{i % 1500}", "x" * 5000, T0) for i in range(3000)]
    batch.append(UnknownSighting("<!channel>" * 50, "\x00m", None, "9" * 10_000, None, T0))
    batch.append(UnknownSighting("V", None, None, "   ", None, T0))  # no code: skipped
    assert runtime.record_unknown(batch) == 1501
    with db_engine.connect() as conn:
        assert conn.scalar(select(func.sum(KBUnknownCode.count))) == 3001
        assert conn.scalar(select(func.max(func.length(KBUnknownCode.code)))) == 200


def test_sighting_for_only_codes_not_explained_by_code(matcher: Matcher) -> None:
    known = MatchQuery(vendor="Alfen", code="210")
    assert sighting_for(known, matcher.match(known), T0) is None
    unknown = MatchQuery(vendor="Alfen", code="999", error_code="HighTemperature")
    s = sighting_for(unknown, matcher.match(unknown), T0)
    assert s is not None and s.vendor == "Alfen" and s.code == "999"
    guess = MatchQuery(code="131")
    assert sighting_for(guess, matcher.match(guess), T0) is not None
    assert sighting_for(MatchQuery(info="no code"), matcher.match(MatchQuery(info="x")), T0) is None


def test_export_lints_clean_and_loads(
    db_engine: Engine, fixture_kb: KnowledgeBase, tmp_path: Path
) -> None:
    runtime = RuntimeEntries(db_engine, fixture_kb)
    runtime.teach(
        "Alfen",
        "777",
        "cooling_failure",
        "vendor_service",
        "degraded",
        'Fan blocked: "quotes", colons: and #hashes',
        "Clean it.",
        "U1",
        model="NG910-*",
        escalation="Replace the fan.",
        note="ticket 42",
    )
    runtime.teach("Kempower", "0042", "power_module", "vendor_service", "outage", "m", "a", "U2")
    root = tmp_path / "exported"
    path = root / "vendors" / "taught.yaml"
    path.parent.mkdir(parents=True)
    assert export_runtime(db_engine, path, fixture_kb, header="review me") == 2
    assert path.read_text().startswith("# review me\n")
    assert lint_knowledge(root) == []
    kb = load_knowledge(root)
    assert set(kb.vendors) == {"Alfen", "Kempower"}
    alfen = kb.entries_for("Alfen")[0]
    assert alfen.code == "777" and alfen.models == ("NG910-*",)
    assert alfen.meaning == 'Fan blocked: "quotes", colons: and #hashes'
    assert alfen.source.startswith("taught by U1 on") and "ticket 42" in alfen.source
    assert kb.entries_for("Kempower")[0].code == "0042"  # leading zeros kept as written
    m = Matcher(kb).match(MatchQuery(vendor="Alfen BV", model="NG910-1", code="777"))
    assert m.entry and m.entry.category == Category.COOLING_FAILURE
