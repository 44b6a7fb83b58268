"""Vendor resolution from what chargers really send."""

from __future__ import annotations

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.vendors import vendor_key


@pytest.mark.parametrize(
    ("sent", "model", "expected"),
    [
        ("ABB", None, "ABB"),
        ("ABB B.V.", None, "ABB"),
        ("abb", None, "ABB"),
        ("Alfen BV", None, "Alfen"),
        ("Wall Box Chargers", None, "Wallbox"),
        ("Keba AG", None, "KEBA"),
        ("KEBA", None, "KEBA"),
        ("zaptec", None, "Zaptec"),
        ("https://chargex.inl.gov", None, "ChargeX MREC"),
        ("General Electric Company", None, "GE"),
        (None, "NG910-60023", "Alfen"),
        ("Unheard Of Inc.", "NG910-60023", "Alfen"),
        ("Unheard Of Inc.", None, None),
        ("", "", None),
        (None, None, None),
        ("<!channel>", None, None),
    ],
)
def test_resolve_vendor(
    fixture_kb: KnowledgeBase, sent: str | None, model: str | None, expected: str | None
) -> None:
    assert fixture_kb.resolve_vendor(sent, model) == expected


def test_vendor_key_strips_legal_suffixes_and_punctuation() -> None:
    assert vendor_key("ABB B.V.") == vendor_key("abb") == "abb"
    assert vendor_key("go-e GmbH") == "goe"
    assert vendor_key("Schneider Electric") == "schneiderelectric"


def test_quirks_need_the_model_in_scope(fixture_kb: KnowledgeBase) -> None:
    ids = [q.id for q in fixture_kb.quirks_for("Wall Box Chargers", "Quasar 1", None)]
    assert ids == ["wallbox-quasar-boot-error"]
    assert fixture_kb.quirks_for("Wallbox", "PLP1-0-2-4", None) == []
    assert fixture_kb.quirks_for("Wallbox", None, None) == []  # no evidence, no phantom filter
    assert [q.id for q in fixture_kb.quirks_for("go-e", "go-eCharger HOME", "40.2")] == [
        "goe-old-numbering"
    ]
    assert fixture_kb.quirks_for("go-e", "go-eCharger HOME", "55") == []
    # The quirk file said "zaptec"; the loader files it under the canonical name.
    assert [q.vendor for q in fixture_kb.quirks_for("Zaptec", None, None)] == ["Zaptec"]
