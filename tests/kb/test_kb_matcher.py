"""Scoped matching: the known vendor decides, unknown is honest, hostile input stays bounded."""

from __future__ import annotations

import time

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.matcher import Matcher
from bot.kb.types import MatchQuery
from bot.vocab import Category


def q(**kw: str) -> MatchQuery:
    return MatchQuery(**kw)


def test_exact_in_vendor_match_with_evidence(matcher: Matcher) -> None:
    m = matcher.match(
        q(vendor="Alfen BV", code="210", info="Modbus TCP/IP lost, in safe mode max 14.0A")
    )
    assert m.entry is not None and m.entry.key == "alfen:210"
    assert m.method == "exact" and 0.95 <= m.confidence <= 0.97
    assert m.vendor == "Alfen"
    assert "vendorErrorCode 210 matched Alfen manual entry 210 (exact, score 100)" in m.evidence


@pytest.mark.parametrize(
    ("vendor", "code", "key"),
    [
        ("Alfen", "E210", "alfen:210"),  # an alias: exact
        ("alfen", "[0210]", "alfen:210"),
        ("Alfen", "Err 210", "alfen:210"),
        ("Alfen", "#210", "alfen:210"),
        ("Alfen", "２１０", "alfen:210"),  # fullwidth digits
        ("Zaptec", "0x1000", "zaptec:4096"),  # explicit hex to a decimal-bitmask vendor
        ("Keba AG", "9001", "keba:0x9001"),
        ("Keba AG", "0X9001", "keba:0x9001"),
        ("Acme DC Power", "E1", "acme-dc:0xE1"),  # hex vendor: E1 is the hex code E1
        ("ABB", "0x02", "abb:0x0002"),
    ],
)
def test_normalised_variants(matcher: Matcher, vendor: str, code: str, key: str) -> None:
    m = matcher.match(q(vendor=vendor, code=code))
    assert m.entry is not None and m.entry.key == key
    assert m.method in ("exact", "normalized") and m.confidence >= 0.9


def test_collisions_the_known_vendor_decides(matcher: Matcher) -> None:
    alfen = matcher.match(q(vendor="Alfen BV", code="101"))
    ge = matcher.match(q(vendor="GE", code="101"))
    assert (
        alfen.entry
        and alfen.entry.vendor == "Alfen"
        and alfen.entry.category == Category.GROUND_FAULT
    )
    assert ge.entry and ge.entry.vendor == "GE" and ge.entry.category == Category.INTERNAL_ERROR
    # GE's 131 is never answered for an Alfen, and Alfen's 211 never for GE (GE has its own).
    assert matcher.match(q(vendor="Alfen", code="131")).entry is None
    assert matcher.match(q(vendor="GE", code="211")).entry.category == Category.OVER_VOLTAGE
    assert matcher.match(q(vendor="Alfen", code="211")).entry.category == Category.CONNECTOR_LOCK


def test_collision_with_unknown_vendor_is_ambiguous_and_unsure(matcher: Matcher) -> None:
    m = matcher.match(q(code="101"))
    assert set(m.ambiguous) == {"Alfen", "GE"}
    assert m.confidence <= 0.4
    assert any("exists for several vendors (Alfen, GE)" in e for e in m.evidence)
    assert m.vendor is None


def test_ambiguous_code_decided_by_text(matcher: Matcher) -> None:
    m = matcher.match(q(code="101", info="Residual current detected via sensor"))
    assert m.entry and m.entry.category == Category.GROUND_FAULT
    assert m.ambiguous == ("Alfen", "GE")
    assert m.confidence <= 0.7
    assert any("points to ground_fault" in e for e in m.evidence)


def test_unknown_vendor_single_manual_is_a_guess(matcher: Matcher) -> None:
    m = matcher.match(q(code="131"))
    assert m.entry and m.entry.vendor == "GE" and m.confidence < 0.5
    named = matcher.match(q(vendor="Kempower", code="131"))
    # A charger naming another maker never gets GE's meaning: only a labelled hint.
    assert named.entry is None and named.hint and "GE's manual uses 131" in named.hint
    assert any("not in the knowledge base" in e for e in named.evidence)


def test_bitmask_decomposition(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Zaptec", code="4098"))
    assert m.method == "bitmask"
    assert m.entry and m.entry.code == "4096"  # ground fault outranks high temperature
    assert [p.code for p in m.parts] == ["2", "4096"]
    assert m.confidence == pytest.approx(0.85)
    assert any("bitmask 2 + 4096" in e for e in m.evidence)
    abb = matcher.match(q(vendor="ABB B.V.", code="0022"))  # hex vendor: 0x22 = 0x20 + 0x02
    assert [p.code for p in abb.parts] == ["0x0002", "0x0020"]
    assert abb.entry and abb.entry.category == Category.GROUND_FAULT
    # Mostly unknown bits are not passed off as a decomposition.
    assert matcher.match(q(vendor="ABB", code="0x6012")).entry is None


def test_model_and_firmware_scope(matcher: Matcher) -> None:
    rev_a = matcher.match(q(vendor="go-e", code="11", firmware="40.1"))
    rev_b = matcher.match(q(vendor="go-e", code="11", firmware="055.2"))
    assert rev_a.entry and rev_a.entry.category == Category.GROUND_FAULT
    assert rev_b.entry and rev_b.entry.category == Category.CONNECTOR_LOCK
    assert rev_a.confidence == rev_b.confidence == pytest.approx(0.97)
    unsure = matcher.match(q(vendor="go-e", code="11"))
    assert unsure.confidence <= 0.7
    assert any("differs by model/firmware" in e for e in unsure.evidence)
    out = matcher.match(q(vendor="go-e", code="12", firmware="55"))
    assert out.entry is None and any("out of scope" in e for e in out.evidence)
    dc = matcher.match(q(vendor="Acme DC Power", model="ADC-150-2", code="0x6012"))
    assert dc.entry and dc.entry.category == Category.POWER_MODULE
    assert matcher.match(q(vendor="Acme DC Power", model="ADC-50", code="0x6012")).entry is None


def test_vendor_inferred_from_model(matcher: Matcher) -> None:
    m = matcher.match(q(model="NG910-60023", code="101"))
    assert m.vendor == "Alfen" and m.entry and m.entry.key == "alfen:101"
    assert any("inferred from model" in e for e in m.evidence)


def test_code_embedded_in_text(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Alfen", info="[101]Error in installation"))
    assert m.entry and m.entry.key == "alfen:101"
    assert any("embedded" in e for e in m.evidence)
    m = matcher.match(q(vendor="Alfen", code="Err: 211 lock"))
    assert m.entry and m.entry.key == "alfen:211"
    # A number inside prose is not a code: "max 14.0A" must not become code 14.
    assert matcher.match(q(vendor="Zaptec", info="limited to 8 A by the site")).entry is None


def test_schemes_answer_distinctive_codes_for_any_vendor(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Alfen", code="CX008"))
    assert m.entry and m.entry.vendor == "ChargeX MREC" and m.confidence == pytest.approx(0.85)
    m = matcher.match(q(vendor="Whoever", code="MREC8EmergencyStop"))
    assert m.entry and m.entry.category == Category.EMERGENCY_STOP


def test_phrasings_and_false_friends(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Acme", code="F400", info="EMERGENCY_STOP_BUTTON_1"))
    assert m.entry and m.entry.category == Category.EMERGENCY_STOP and m.method == "phrasing"
    assert 0.5 <= m.confidence <= 0.85
    m = matcher.match(q(info="[42300]Emergency stop button pressed", error_code="OtherError"))
    assert m.entry and m.entry.category == Category.EMERGENCY_STOP
    for friend in ("User_ScreenStopButton", "STOPBUTTON_PRESSED emergency stop"):
        m = matcher.match(q(vendor="Acme", info=friend))
        assert m.entry is None or m.entry.category != Category.EMERGENCY_STOP, friend
    btc = matcher.match(q(vendor="BTC Power", code="STOPBUTTON_PRESSED"))
    assert btc.entry and btc.entry.suppress and btc.entry.category != Category.EMERGENCY_STOP
    # Similar-looking but different classes stay apart.
    assert matcher.match(q(info="under temperature")).entry is None


def test_vendor_text_matches_its_own_manual(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Zaptec", info="Ground fault, Try reconnecting cable"))
    assert m.entry and m.entry.key == "zaptec:4096" and m.method == "fuzzy"


# Two vendors' wordings per category (from oem-codes.md §25 and the seed article).
TWO_VENDORS = {
    Category.EMERGENCY_STOP: ["EMERGENCY_STOP_BUTTON_1", "MREC8EmergencyStop"],
    Category.GROUND_FAULT: [
        "Residual current detected via sensor",
        "A RCD-DC fault event has occurred",
    ],
    Category.ISOLATION_FAULT: ["isolation_monitor/DeviceFault", "MREC11CableCheckFault"],
    Category.OVERCURRENT: [
        "The vehicle has drawn more current than allowed",
        "MCB of type 2 socket triggered",
    ],
    Category.OVER_VOLTAGE: ["urn:fault:koala:input-overvoltage", "Overvolt"],
    Category.UNDER_VOLTAGE: ["urn:fault:koala:input-undervoltage", "Input voltage too low"],
    Category.POWER_LOSS: ["DYING GASP", "MREC15PowerLoss"],
    Category.HIGH_TEMPERATURE: ["An overtemperature event has occurred", "Overtemp"],
    Category.COOLING_FAILURE: ["cooling fan below nominal RPM", "FAN_FAILURE"],
    Category.CONNECTOR_LOCK: [
        "Unable to lock cable to charging station",
        "EVSE_FAULT_ACT_LOCK_FAULT",
    ],
    Category.EV_COMMUNICATION: [
        "Vehicle diode check failed - tamper detection",
        "CP level abnormal",
    ],
    Category.POWER_MODULE: [
        "DC output module Vol abnormal during idle time",
        "power_supply_DC/HardwareFault",
    ],
    Category.POWER_SWITCH: ["Contactor welded", "Relay sticky"],
    Category.POWER_METER: ["Emeter communication error", "MeterCommunicationError"],
    Category.READER: ["Payment_Failed", "RFID reader not responding"],
    Category.RESET_FAILURE: [
        "Charging reset too many times, Try reconnecting",
        "Error Too Many Restarts",
    ],
    Category.CONNECTIVITY: [
        "EnergyManagerConnectionError",
        "Switched to LTE. Closing OCPP until WIFI is active",
    ],
    Category.LOCAL_LIST_CONFLICT: ["Local list conflict", "local authorization list mismatch"],
    Category.DOOR_OR_TAMPER: ["Device open cover detected by tamper switch", "EnclosureOpen"],
    Category.SURGE_PROTECTION: ["SPD fault", "surge protection device tripped"],
    Category.CONFIGURATION: [
        "The charging station has not been fully configured",
        "Misconfiguration",
    ],
    Category.INTERNAL_ERROR: ["FPGA watchdog triggered", "Auxiliary processor exception"],
}


def test_every_category_from_two_vendors_phrasings(matcher: Matcher) -> None:
    assert set(TWO_VENDORS) == {c for c in Category if c is not Category.UNKNOWN}
    for category, texts in TWO_VENDORS.items():
        for text in texts:
            m = matcher.match(q(vendor="Somebody Unknown", info=text))
            assert m.entry is not None, text
            assert m.entry.category == category, (text, m.evidence)


def test_standard_fallback_and_honest_unknown(matcher: Matcher) -> None:
    m = matcher.match(q(vendor="Alfen", code="999", error_code="HighTemperature"))
    assert m.method == "standard" and m.confidence == pytest.approx(0.6)
    assert any("999 is not in Alfen's manual" in e for e in m.evidence)
    m = matcher.match(q(vendor="Alfen", code="999", error_code="OtherError"))
    assert m.entry is None and m.method == "none" and m.confidence <= 0.2
    assert any("OtherError says nothing" in e for e in m.evidence)
    m = matcher.match(q(error_code="Error"))  # Legrand's invalid errorCode
    assert m.entry is None and any("not a known OCPP errorCode" in e for e in m.evidence)
    m = matcher.match(q(error_code="ConnectorPlugRetentionLock/Problem"))
    assert m.entry and m.entry.category == Category.CONNECTOR_LOCK
    assert matcher.match(q()).entry is None


def test_text_agreeing_with_error_code_raises_confidence(matcher: Matcher) -> None:
    alone = matcher.match(q(vendor="Acme", info="Residual current detected via sensor"))
    both = matcher.match(
        q(vendor="Acme", info="Residual current detected via sensor", error_code="GroundFailure")
    )
    assert both.confidence > alone.confidence
    assert any("GroundFailure agrees" in e for e in both.evidence)


HOSTILE = [
    "9" * 10_000_000,
    "<!channel> <@U123> *bold* `code`",
    "\u202e012\u200b\x00\x1b[31m",
    "(" * 5000 + "a" * 5000 + ")" * 5000,
    "a" * 50_000 + "!",
    "[" * 10_000,
    "0x" + "f" * 100_000,
    "E" * 100_000,
    "𝟐𝟏𝟎",
    "emergency " * 100_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_bounded(matcher: Matcher, text: str) -> None:
    start = time.perf_counter()
    for query in (
        q(vendor="Alfen", code=text),
        q(vendor=text, model=text, firmware=text, code=text, info=text, error_code=text),
        q(info=text),
    ):
        m = matcher.match(query)
        assert 0 <= m.confidence <= 1
        assert all(len(e) < 1000 for e in m.evidence)
    assert time.perf_counter() - start < 2.0  # generous: a bound, not a benchmark


def test_cache_serves_repeats_as_copies(fixture_kb: KnowledgeBase) -> None:
    matcher = Matcher(fixture_kb, cache_size=8)
    first = matcher.match(q(vendor="Alfen", code="210"))
    first.evidence.append("caller scribble")
    second = matcher.match(q(vendor="Alfen", code="210"))
    assert matcher.cache_hits == 1
    assert "caller scribble" not in second.evidence
    for i in range(20):
        matcher.match(q(vendor="Alfen", code=str(i)))
    assert len(matcher._cache) <= 8
