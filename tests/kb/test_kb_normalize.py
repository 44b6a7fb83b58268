"""Code spellings: one code however the charger decorates it, format-aware."""

from __future__ import annotations

import pytest

from bot.kb.normalize import (
    CodeFormat,
    bit_value,
    candidate_keys,
    clean,
    index_key,
    is_distinctive,
    process_text,
)
from bot.kb.scope import in_firmware_range, parse_firmware_range, version_of

D, H, HB, DB = (
    CodeFormat.DECIMAL,
    CodeFormat.HEX,
    CodeFormat.HEX_BITMASK,
    CodeFormat.DECIMAL_BITMASK,
)


@pytest.mark.parametrize(
    "spelling",
    [
        "6012",
        "0x6012",
        "[6012]",
        "E6012",
        "Err 6012",
        "Error 6012",
        "#6012",
        "006012",
        "error code: 6012",
        "(6012)",
        " 6012 ",
    ],
)
def test_decorations_are_one_code(spelling: str) -> None:
    assert "6012" in candidate_keys(spelling, H)
    assert "6012" in candidate_keys(spelling, D)


def test_hex_vendor_reads_digits_as_hex_and_decimal_bitmask_converts_explicit_hex() -> None:
    assert index_key("0022", HB) == "22"
    assert bit_value(index_key("0022", HB), HB) == 0x22
    assert index_key("0x1000", DB) == "4096"
    assert bit_value("4098", DB) == 4098
    assert index_key("0xE1", H) == "e1"
    # A hex vendor's E1 is first the hex number E1, then a decorated 1.
    assert candidate_keys("E1", H)[:2] == ("e1", "1")
    assert candidate_keys("E1", D)[0] == "1"


def test_symbolic_keys_ignore_case_separators_and_leading_zeros() -> None:
    assert index_key("F-0101", CodeFormat.PREFIXED) == index_key("f0101", CodeFormat.PREFIXED)
    assert index_key("CC_a005", CodeFormat.SYMBOLIC) == index_key("cc-A5", CodeFormat.SYMBOLIC)


def test_distinctive_codes() -> None:
    assert is_distinctive("CX008")
    assert is_distinctive("MREC8EmergencyStop")
    assert not is_distinctive("E210")
    assert not is_distinctive("0x0400")
    assert not is_distinctive("GF")


def test_clean_caps_strips_and_folds_odd_unicode() -> None:
    assert clean("２１０", 10) == "210"  # fullwidth digits
    assert clean("a\x00b\u202ec\u200bd", 10) == "a b c d"
    assert len(clean("x" * 10_000_000, 200)) == 200


def test_process_text_splits_camel_case_and_digits() -> None:
    assert process_text("MREC8EmergencyStop") == "mrec 8 emergency stop"
    assert process_text("EMERGENCY_STOP_BUTTON_1") == "emergency stop button 1"


def test_firmware_ranges() -> None:
    assert version_of("TAC3Z9119006710273::V1.8.21") == (1, 8, 21)
    assert version_of("4.15.7-4054") == (4, 15, 7)
    assert version_of("no digits") is None
    assert parse_firmware_range(">=4.0,<7").contains((6, 5, 0))
    assert not parse_firmware_range(">=4.0,<7").contains((7, 0))
    assert parse_firmware_range("5.8").contains((5, 8, 1))
    assert not parse_firmware_range("5.8").contains((5, 9))
    assert parse_firmware_range("5.*").contains((5, 1))
    assert in_firmware_range("<50", "40.1") is True
    assert in_firmware_range("<50", "unknown") is None
    with pytest.raises(ValueError, match="cannot read"):
        parse_firmware_range(">=four")
