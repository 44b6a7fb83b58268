"""Word codes in a bitmask vendor's file: matched as written or normalised, never decomposed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.loader import load_knowledge, read_knowledge
from bot.kb.matcher import Matcher
from bot.kb.types import MatchQuery
from bot.vocab import Category

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"


def _entry(code: str) -> str:
    return (
        f'  - code: "{code}"\n    category: connectivity\n    severity: degraded\n'
        '    owner: site_staff\n    meaning: "m"\n    action: "a"\n'
    )


def _base_with(tmp_path: Path, vendor_file: str, *codes: str) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_ROOT, root)
    path = root / "vendors" / vendor_file
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + "".join(_entry(c) for c in codes), "utf-8")
    return root


def test_a_word_code_loads_in_a_decimal_bitmask_file(tmp_path: Path) -> None:
    root = _base_with(tmp_path, "zaptec.yaml", "ProhibitedByCommunicationMode")
    kb = load_knowledge(root)
    m = Matcher(kb).match(MatchQuery(vendor="Zaptec", code="ProhibitedByCommunicationMode"))
    assert m.entry is not None and m.entry.code == "ProhibitedByCommunicationMode"
    assert m.method == "exact" and m.parts == ()
    # Normalised spellings find it too; the bit map is untouched (4098 still decomposes).
    m2 = Matcher(kb).match(MatchQuery(vendor="zaptec", code="prohibited_by_communication_mode"))
    assert m2.entry is m.entry and m2.method == "normalized"
    summed = Matcher(kb).match(MatchQuery(vendor="Zaptec", code="4098"))
    assert summed.method == "bitmask" and {p.code for p in summed.parts} == {"4096", "2"}


@pytest.mark.parametrize(
    ("vendor_file", "code", "problem"),
    [
        ("zaptec.yaml", "4097", "is not a single bit (decimal_bitmask)"),
        ("zaptec.yaml", "E12", "is not a single bit (decimal_bitmask)"),
        ("abb.yaml", "0x0003", "is not a single bit (hex_bitmask)"),
    ],
)
def test_numbers_in_a_bitmask_file_must_still_be_single_bits(
    tmp_path: Path, vendor_file: str, code: str, problem: str
) -> None:
    root = _base_with(tmp_path, vendor_file, code)
    _kb, problems = read_knowledge(root)
    assert any(f"code '{code}' {problem}" in str(p) for p in problems), problems


def test_a_bitmask_word_is_never_decomposed(tmp_path: Path) -> None:
    """A word that is not listed is unknown, not a 'sum of bits'."""
    kb = load_knowledge(_base_with(tmp_path, "zaptec.yaml", "ProhibitedByCommunicationMode"))
    m = Matcher(kb).match(MatchQuery(vendor="Zaptec", code="SomethingElseEntirely"))
    assert m.method != "bitmask" and m.parts == ()


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return load_knowledge()


def test_zaptec_lte_word_lives_in_zaptecs_file(real_kb: KnowledgeBase) -> None:
    matcher = Matcher(real_kb)
    m = matcher.match(
        MatchQuery(
            vendor="Zaptec",
            model="Zaptec Go OCPP",
            code="ProhibitedByCommunicationMode",
            info="Switched to LTE. Closing OCPP until WIFI is active",
            error_code="OtherError",
        )
    )
    assert m.entry is not None and m.entry.vendor == "Zaptec", m.evidence
    assert m.entry.key == "zaptec:ProhibitedByCommunicationMode"
    assert m.entry.category == Category.CONNECTIVITY and m.method == "exact"
    assert m.confidence >= 0.9 and m.parts == ()
    # The word is no longer a cross-vendor phrase (each fact lives once).
    phrases = {p.casefold() for block in real_kb.phrasings for p in block.phrases}
    assert "prohibitedbycommunicationmode" not in phrases
