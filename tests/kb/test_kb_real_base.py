"""The real knowledge base under knowledge/: it loads, and every entry answers for itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.lint import lint_knowledge
from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.kb.scope import in_firmware_range
from bot.kb.types import MatchQuery
from bot.vocab import Category

ROOT = Path(__file__).resolve().parents[2] / "knowledge"
_VERSIONS = ("0.1", "1.0", "2.0", "4.5", "6.0", "10", "49", "50", "60", "100", "999")


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    # A missing knowledge base is a packaging bug, not a reason to skip.
    assert (ROOT / "vendors").is_dir(), f"{ROOT / 'vendors'} is missing"
    return load_knowledge(ROOT)  # raises KnowledgeError listing every file:line problem


def test_every_sent_vendor_string_resolves_to_its_vendor(real_kb: KnowledgeBase) -> None:
    for vendor in real_kb.vendors.values():
        for sent in vendor.sends:
            assert real_kb.resolve_vendor(sent) == vendor.name, sent


def test_every_vendor_entry_answers_for_its_own_code(real_kb: KnowledgeBase) -> None:
    matcher = Matcher(real_kb, cache_size=0)
    for entry in real_kb.entries:
        if entry.vendor is None:
            continue
        model = entry.models[0].replace("*", "X").replace("?", "X") if entry.models else None
        firmware = None
        if entry.firmware:
            firmware = next(v for v in _VERSIONS if in_firmware_range(entry.firmware, v))
        m = matcher.match_uncached(MatchQuery(entry.vendor, model, firmware, entry.code))
        assert m.entry is not None and m.entry.category == entry.category, (entry.key, m.evidence)


def test_standard_codes_present(real_kb: KnowledgeBase) -> None:
    for code in ("GroundFailure", "HighTemperature", "ConnectorLockFailure", "PowerSwitchFailure"):
        assert real_kb.standard(code) is not None, code


def test_full_base_lints_clean_and_phrasings_cover_every_category(real_kb: KnowledgeBase) -> None:
    assert (ROOT / "phrasings.yaml").is_file(), f"{ROOT / 'phrasings.yaml'} is missing"
    assert [str(p) for p in lint_knowledge(ROOT)] == []
    matcher = Matcher(real_kb, cache_size=0)
    for category in Category:
        if category is Category.UNKNOWN:
            continue
        phrases = [p for b in real_kb.phrasings if b.category == category for p in b.phrases]
        matched = [
            p
            for p in phrases
            if (m := matcher.match_uncached(MatchQuery(vendor="Unknown Maker", info=p))).entry
            and m.entry.category == category
        ]
        assert len(matched) >= 2, (category, phrases)
