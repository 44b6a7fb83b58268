"""The matcher's whole answer on the fixture base, evidence included (found by mutation testing).

The evidence lines are what "Why?" shows people, so each case pins the full answer for
one path through the matcher: several codes in one value, an unknown vendor, a bitmask,
scope by firmware, the vendor's entry for a standard errorCode, text that agrees with
the errorCode. The expected confidences follow from the constants in the DESIGN table
(exact 0.96, scoped exact 0.97, normalised 0.9, embedded/scheme/bitmask 0.85, partial
bitmask 0.6, unknown 0.1, a guess from another maker's manual capped at 0.45).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher, names_a_scheme, show, split_codes
from bot.kb.types import MatchQuery

GUESS = (
    "a guess from {v}'s manual: the charger names no vendor, so this may be another "
    "maker's meaning (confidence capped at 0.45)"
)


def ask(matcher: Matcher, **kw: str) -> tuple[str | None, str, float, list[str]]:
    m = matcher.match(MatchQuery(**kw))
    return (m.entry.key if m.entry else None), m.method, m.confidence, m.evidence


# --- several codes in one value ------------------------------------------------------


def test_two_codes_the_most_severe_leads_and_both_are_parts(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="203,102", info="just one"))
    assert m.entry is not None and m.entry.key == "alfen:102"  # safety beats degraded
    assert (m.method, m.confidence, m.vendor) == ("exact", 0.96, "Alfen")
    assert [p.key for p in m.parts] == ["alfen:203", "alfen:102"]
    assert m.evidence == [
        "vendorErrorCode carries 2 codes, each read on its own: "
        "203: high_temperature, degraded, confidence 0.96; "
        "102: power_switch, safety, confidence 0.96",
        "info just one does not give one value per code",
        "the most severe, 102, leads:",
        "vendorErrorCode 102 matched Alfen manual entry 102 (exact, score 100)",
    ]


def test_equal_severity_the_first_code_leads(matcher: Matcher) -> None:
    # 101 and 102 are both safety: the first one sent leads
    m = matcher.match(MatchQuery(vendor="Alfen", code="102;101"))
    assert m.entry is not None and m.entry.key == "alfen:102"
    assert m.evidence[1] == "the most severe, 102, leads:"


def test_a_known_code_leads_an_unknown_one_and_values_pair_up(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="999; 101", info="3 mA; 12 mA"))
    assert m.entry is not None and m.entry.key == "alfen:101"
    assert [p.key for p in m.parts] == ["alfen:101"]
    assert m.evidence[0] == (
        "vendorErrorCode carries 2 codes, each read on its own: "
        "999 (3 mA): unknown; 101 (12 mA): ground_fault, safety, confidence 0.96"
    )
    assert "does not give one value per code" not in " ".join(m.evidence)


def test_several_unknown_codes_are_unknown(matcher: Matcher) -> None:
    key, method, confidence, evidence = ask(matcher, vendor="Alfen", code="998|999")
    assert (key, method, confidence) == (None, "none", 0.1)
    assert evidence == [
        "vendorErrorCode carries 2 codes, each read on its own: 998: unknown; 999: unknown",
        "vendorErrorCode 998 is not in Alfen's manual",
        "no knowledge-base entry matched: unknown",
    ]


def test_at_most_eight_codes_are_read(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="1,2,3,4,5,6,7,8,9,101"))
    assert m.entry is None  # 101 is the tenth code: never read
    assert m.evidence[0].startswith("vendorErrorCode carries 8 codes, each read on its own")
    assert m.evidence[0].endswith("8: unknown")


def test_split_codes() -> None:
    assert split_codes("") == ()
    assert split_codes("F12") == ("F12",)
    assert split_codes("F12, F31") == ("F12", "F31")
    assert split_codes("E1 ;E7|E9") == ("E1", "E7", "E9")
    assert split_codes("211,,203,") == ("211", "203")
    assert split_codes(",".join(str(i) for i in range(1, 12))) == tuple(
        str(i) for i in range(1, 9)
    )


def test_names_a_scheme_needs_two_letters() -> None:
    assert names_a_scheme("CX004")
    assert names_a_scheme("MREC8EmergencyStop")
    assert not names_a_scheme("F004")
    assert not names_a_scheme("4096")


def test_show_cuts_long_text_to_sixty_characters() -> None:
    assert show("x" * 60) == "x" * 60
    assert show("x" * 61) == "x" * 59 + "…"
    assert len(show("y" * 500)) == 60


# --- the charger's vendor is unknown -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key", "alfen", "ge"),
    [("101", "alfen:101", "ground_fault", "internal_error"),
     ("211", "alfen:211", "connector_lock", "over_voltage")],
)
def test_shared_code_with_different_meanings_shows_the_most_severe(
    matcher: Matcher, code: str, key: str, alfen: str, ge: str
) -> None:
    m = matcher.match(MatchQuery(code=code))
    assert m.entry is not None and m.entry.key == key
    assert (m.method, m.confidence, m.vendor) == ("normalized", 0.3, None)
    assert m.ambiguous == ("Alfen", "GE") and m.borrowed_from == "Alfen"
    assert m.evidence == [
        f"vendorErrorCode {code} exists for several vendors (Alfen, GE) and the charger's "
        "vendor is unknown",
        f"their meanings differ: Alfen: {alfen}; GE: {ge}; showing the most severe (Alfen)",
        GUESS.format(v="Alfen"),
    ]


@pytest.mark.parametrize(
    ("code", "key", "vendor", "written"),
    [("131", "ge:131", "GE", "131"), ("4096", "zaptec:4096", "Zaptec", "4096"),
     ("0x9001", "keba:0x9001", "KEBA", "0x9001"), ("E1", "acme-dc:0xE1", "Acme DC", "0xE1")],
)
def test_a_code_only_one_manual_lists_is_a_capped_guess(
    matcher: Matcher, code: str, key: str, vendor: str, written: str
) -> None:
    m = matcher.match(MatchQuery(code=code))
    assert m.entry is not None and m.entry.key == key
    assert (m.method, m.confidence, m.ambiguous, m.borrowed_from) == (
        "normalized", 0.45, (), vendor
    )
    assert m.evidence == [
        f"vendorErrorCode {code} matched {vendor} manual entry {written} (only {vendor} "
        "lists it; the charger's vendor is unknown)",
        GUESS.format(v=vendor),
    ]


def test_a_named_stranger_gets_a_hint_not_an_answer(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme Corp", code="131"))
    hint = (
        "GE's manual uses 131 for ground_fault (Ground-fault lockout after the fifth trip.); "
        "this charger says it is Acme Corp, not GE"
    )
    assert (m.entry, m.method, m.confidence, m.vendor, m.hint) == (None, "none", 0.1, None, hint)
    assert m.evidence == [
        "vendor Acme Corp is not in the knowledge base",
        f"hint, not used for the answer: {hint}",
        "no knowledge-base entry matched: unknown",
    ]


def test_a_scheme_code_needs_no_vendor(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="CX002"))
    assert m.entry is not None and m.entry.key == "chargex-mrec:CX002"
    assert (m.method, m.confidence, m.borrowed_from) == ("normalized", 0.85, None)
    assert m.evidence == [
        "vendorErrorCode CX002 matched ChargeX MREC scheme entry CX002 (only ChargeX MREC "
        "lists it; cross-vendor scheme)"
    ]


def test_a_scheme_code_from_a_known_vendor(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="MREC2GroundFailure"))
    assert m.entry is not None and m.entry.key == "chargex-mrec:CX002"
    assert (m.method, m.confidence, m.vendor) == ("normalized", 0.85, "Alfen")
    assert m.evidence == [
        "vendorErrorCode MREC2GroundFailure matched ChargeX MREC scheme entry CX002 "
        "(cross-vendor scheme, score 100)"
    ]


def test_text_alone_from_an_unknown_maker_is_a_phrasing(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme Corp", info="Emeter communication error"))
    assert m.entry is not None and m.entry.category.value == "power_meter"
    assert (m.method, m.confidence, m.borrowed_from) == ("phrasing", 0.8, None)
    assert m.evidence == [
        "vendor Acme Corp is not in the knowledge base",
        "info Emeter communication error matched the power_meter phrasing "
        "'Emeter communication error' (phrasing, score 100)",
    ]


# --- bitmasks ------------------------------------------------------------------------


def test_decimal_bitmask_of_three_known_bits(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code="6146"))  # 2 + 2048 + 4096
    assert m.entry is not None and m.entry.key == "zaptec:4096"
    assert (m.method, m.confidence) == ("bitmask", 0.85)
    assert [p.key for p in m.parts] == ["zaptec:2", "zaptec:2048", "zaptec:4096"]
    assert m.evidence == [
        "vendorErrorCode 6146 is the Zaptec bitmask 2 + 2048 + 4096: 2 high_temperature, "
        "2048 configuration, 4096 ground_fault; the most severe part is 4096 (bitmask, "
        "score 100)"
    ]


def test_bitmask_with_as_many_unknown_as_known_bits_is_partial(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code="4097"))  # 1 (unknown) + 4096
    assert m.entry is not None and m.entry.key == "zaptec:4096"
    assert (m.method, m.confidence) == ("bitmask", 0.6)
    assert [p.key for p in m.parts] == ["zaptec:4096"]
    assert m.evidence == [
        "vendorErrorCode 4097 is the Zaptec bitmask 1 + 4096: 4096 ground_fault; the most "
        "severe part is 4096 (bitmask, score 100)",
        "bits 1 are not in Zaptec's manual",
    ]


def test_bitmask_of_mostly_unknown_bits_is_no_bitmask(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code="4113"))  # 1 + 16 unknown, 4096 known
    assert m.method != "bitmask" and m.parts == ()


def test_hex_bitmask_names_bits_in_hex(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="ABB", code="0x0022"))
    assert m.entry is not None and m.entry.key == "abb:0x0002"
    assert (m.method, m.confidence) == ("bitmask", 0.85)
    assert m.evidence == [
        "vendorErrorCode 0x0022 is the ABB bitmask 0x2 + 0x20: 0x0002 ground_fault, "
        "0x0020 overcurrent; the most severe part is 0x0002 (bitmask, score 100)"
    ]


def test_a_single_unknown_bit_is_not_a_sum(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code="16"))
    assert m.entry is None and m.method == "none"
    assert "vendorErrorCode 16 is not in Zaptec's manual" in m.evidence


# --- scope ---------------------------------------------------------------------------


def test_firmware_unknown_and_rival_meanings_cost_confidence(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", code="11"))
    assert m.entry is not None and m.entry.key == "go-e:11"
    assert (m.method, m.confidence) == ("exact", 0.67)  # 0.97 - 0.3 (rival beats unknown)
    assert m.evidence == [
        "entry is for firmware <50; this charger's model/firmware is unknown",
        "the meaning differs by model/firmware (firmware >=50: connector_lock)",
        "vendorErrorCode 11 matched go-e manual entry 11 (exact, score 100)",
    ]


@pytest.mark.parametrize(("firmware", "category"), [("40", "ground_fault"),
                                                     ("49.9", "ground_fault"),
                                                     ("50", "connector_lock"),
                                                     ("61", "connector_lock")])
def test_firmware_in_range_picks_the_entry_at_full_confidence(
    matcher: Matcher, firmware: str, category: str
) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", code="11", firmware=firmware))
    assert m.entry is not None and m.entry.category.value == category
    assert (m.method, m.confidence) == ("exact", 0.97)
    assert m.evidence == ["vendorErrorCode 11 matched go-e manual entry 11 (exact, score 100)"]


def test_out_of_scope_firmware_is_unknown_and_says_why(matcher: Matcher) -> None:
    key, method, confidence, evidence = ask(matcher, vendor="go-e", code="12", firmware="60")
    assert (key, method, confidence) == (None, "none", 0.1)
    assert evidence == [
        "go-e's entry for 12 applies only to firmware <50; this charger (firmware 60) is out "
        "of scope",
        "no knowledge-base entry matched: unknown",
    ]


def test_out_of_scope_model_names_the_model(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme DC", model="ADC-60", code="0x6012"))
    assert m.entry is None
    assert m.evidence[0] == (
        "Acme DC's entry for 0x6012 applies only to models ADC-150*; this charger "
        "(model ADC-60) is out of scope"
    )


def test_in_scope_model_gets_the_scoped_confidence(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme DC", model="ADC-150S", code="0x6012"))
    assert m.entry is not None and m.entry.key == "acme-dc:0x6012"
    assert (m.method, m.confidence) == ("exact", 0.97)


def test_unknown_model_of_a_scoped_entry_costs_the_scope_penalty(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme DC", code="0x6012"))
    assert m.entry is not None and m.entry.key == "acme-dc:0x6012"
    assert (m.method, m.confidence) == ("exact", 0.82)  # 0.97 - 0.15
    assert m.evidence[0] == (
        "entry is for models ADC-150*; this charger's model/firmware is unknown"
    )


# --- codes written differently, codes in text -----------------------------------------


@pytest.mark.parametrize(
    ("vendor", "code", "written"),
    [("GE", "E211", "211"), ("Alfen", "0210", "210")],
)
def test_normalised_code_says_so(matcher: Matcher, vendor: str, code: str, written: str) -> None:
    m = matcher.match(MatchQuery(vendor=vendor, code=code))
    assert (m.method, m.confidence) == ("normalized", 0.9)
    assert m.evidence == [
        f"vendorErrorCode {code} matched {vendor} manual entry {written} (normalised, score 100)"
    ]


def test_code_in_the_info_text_after_an_unknown_code(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="77", info="fault [211] seen"))
    assert m.entry is not None and m.entry.key == "alfen:211"
    assert (m.method, m.confidence) == ("normalized", 0.85)
    assert m.evidence == [
        "vendorErrorCode 77 is not in Alfen's manual",
        "code 211 in the info text matched Alfen manual entry 211 (embedded, score 100)",
    ]


def test_code_in_the_info_text_alone(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", info="error 203 in module"))
    assert m.entry is not None and m.entry.key == "alfen:203"
    assert m.evidence == [
        "code 203 in the info text matched Alfen manual entry 203 (embedded, score 100)"
    ]


# --- text and the standard errorCode ---------------------------------------------------


def test_vendor_text_exact_phrase(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", info="Emeter communication error"))
    assert m.entry is not None and m.entry.key == "zaptec:8"
    assert (m.method, m.confidence) == ("fuzzy", 0.85)
    assert m.evidence == [
        "info Emeter communication error matched Zaptec manual entry 8 text "
        "'Emeter communication error' (fuzzy, score 100)"
    ]


def test_vendor_text_near_phrase_scales_down(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", info="Emeter communication errors seen"))
    assert m.entry is not None and m.entry.key == "zaptec:8" and m.method == "fuzzy"
    # a score between the cut-off (88) and 100 maps into 0.5..0.85
    assert 0.5 < m.confidence < 0.6


def test_vendor_text_and_agreeing_error_code(matcher: Matcher) -> None:
    m = matcher.match(
        MatchQuery(vendor="Zaptec", info="Ground fault, Try reconnecting cable",
                   error_code="GroundFailure")
    )
    assert m.entry is not None and m.entry.key == "zaptec:4096"
    assert (m.method, m.confidence) == ("fuzzy", 0.9)  # 0.85 + 0.05
    assert m.evidence == [
        "info Ground fault, Try reconnecting cable matched Zaptec manual entry 4096 text "
        "'Ground fault, Try reconnecting cable' (fuzzy, score 100)",
        "errorCode GroundFailure agrees",
    ]


def test_phrasing_and_agreeing_error_code(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", info="Overtemp", error_code="HighTemperature"))
    assert m.entry is not None and m.entry.category.value == "high_temperature"
    assert (m.method, m.confidence) == ("phrasing", 0.85)  # 0.8 + 0.05
    assert m.evidence == [
        "info Overtemp matched the high_temperature phrasing 'Overtemp' (phrasing, score 100)",
        "errorCode HighTemperature agrees",
    ]


def test_phrasing_beats_a_disagreeing_weaker_standard_code(matcher: Matcher) -> None:
    m = matcher.match(
        MatchQuery(vendor="Alfen", info="over current", error_code="HighTemperature")
    )
    assert m.entry is not None and m.entry.category.value == "overcurrent"
    assert (m.method, m.confidence) == ("phrasing", 0.8)
    assert m.evidence == [
        "info over current matched the overcurrent phrasing 'over current' (phrasing, "
        "score 100)"
    ]


def test_phrasing_after_an_unknown_code(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="999", info="RCD triggered"))
    assert m.entry is not None and m.entry.category.value == "ground_fault"
    assert (m.method, m.confidence) == ("phrasing", 0.8)
    assert m.evidence == [
        "vendorErrorCode 999 is not in Alfen's manual",
        "info RCD triggered matched the ground_fault phrasing 'RCD triggered' (phrasing, "
        "score 100)",
    ]


@pytest.mark.parametrize(("code", "confidence", "unread"), [("", 0.8, []),
                                                            ("77", 0.7, ["77"])])
def test_the_vendors_own_entry_for_a_standard_error_code(
    matcher: Matcher, code: str, confidence: float, unread: list[str]
) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code=code, error_code="GroundFailure"))
    assert m.entry is not None and m.entry.key == "zaptec:4096"
    assert (m.method, m.confidence) == ("vendor_standard", confidence)
    assert m.evidence == [
        *(f"vendorErrorCode {c} is not in Zaptec's manual" for c in unread),
        "errorCode GroundFailure matched Zaptec manual entry 4096, the one Zaptec sends with "
        "that errorCode (vendor's entry preferred over the OCPP standard entry, score 100)",
    ]


def test_a_standard_error_code_alone(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", error_code="HighTemperature"))
    assert m.entry is not None and m.entry.code == "HighTemperature"
    assert (m.method, m.confidence) == ("standard", 0.6)
    assert m.evidence == [
        "errorCode HighTemperature matched the OCPP standard entry HighTemperature "
        "(standard, score 100)"
    ]


@pytest.mark.parametrize(
    ("error_code", "why"),
    [("OtherError", "errorCode OtherError says nothing about the cause"),
     ("NoSuchThing", "errorCode NoSuchThing is not a known OCPP errorCode or "
                     "component/variable")],
)
def test_an_error_code_that_says_nothing(matcher: Matcher, error_code: str, why: str) -> None:
    key, method, confidence, evidence = ask(matcher, vendor="Alfen", error_code=error_code)
    assert (key, method, confidence) == (None, "none", 0.1)
    assert evidence == [why, "no knowledge-base entry matched: unknown"]


def test_vendor_named_by_another_spelling_is_said(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen BV", code="203"))
    assert m.vendor == "Alfen"
    assert m.evidence == [
        "vendor Alfen BV is Alfen",
        "vendorErrorCode 203 matched Alfen manual entry 203 (exact, score 100)",
    ]


def test_vendor_inferred_from_the_model(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(model="KC-P30-ES240", code="0x9001"))
    assert m.vendor == "KEBA" and m.entry is not None and m.entry.key == "keba:0x9001"
    assert m.evidence[0] == "vendor KEBA inferred from model KC-P30-ES240"
    assert m.borrowed_from is None


# --- the cache -------------------------------------------------------------------------


def test_cache_serves_repeats_and_evicts_the_oldest(fixture_kb: KnowledgeBase) -> None:
    m = Matcher(fixture_kb, cache_size=2)
    a, b, c = (MatchQuery(vendor="Alfen", code=x) for x in ("101", "102", "203"))
    first = m.match(a)
    first.evidence.append("changed by the caller")
    again = m.match(a)
    assert m.cache_hits == 1 and "changed by the caller" not in again.evidence
    m.match(b)
    m.match(a)  # a is now the most recent
    assert m.cache_hits == 2
    m.match(c)  # evicts b, the least recently used
    m.match(a)
    assert m.cache_hits == 3
    m.match(b)
    assert m.cache_hits == 3
    m.cache_clear()
    m.match(a)
    assert m.cache_hits == 3


def test_no_cache_means_no_hits(fixture_kb: KnowledgeBase) -> None:
    m = Matcher(fixture_kb, cache_size=0)
    q = MatchQuery(vendor="Alfen", code="101")
    assert m.match(q).entry == m.match(q).entry
    assert m.cache_hits == 0
    assert m.match_uncached(q).confidence == 0.96


# --- the text or the errorCode decides among manuals (vendor unknown) ------------------


def test_text_picks_the_manual_whose_meaning_it_names(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="101", info="RCD triggered"))
    assert m.entry is not None and m.entry.key == "alfen:101"
    assert (m.method, m.confidence, m.ambiguous) == ("normalized", 0.45, ("Alfen", "GE"))
    assert m.evidence == [
        "vendorErrorCode 101 exists for several vendors (Alfen, GE) and the charger's vendor "
        "is unknown",
        "info RCD triggered matched the ground_fault phrasing 'RCD triggered' (phrasing, "
        "score 100)",
        "the text/errorCode points to ground_fault: Alfen's entry 101 has that meaning",
        GUESS.format(v="Alfen"),
    ]


def test_error_code_picks_the_other_manual(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="101", error_code="InternalError"))
    assert m.entry is not None and m.entry.key == "ge:101" and m.borrowed_from == "GE"
    assert m.evidence[2] == (
        "the text/errorCode points to internal_error: GE's entry 101 has that meaning"
    )


def test_text_meaning_no_manual_lists_answers_from_the_text(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="101", info="over current"))
    assert m.entry is not None and m.entry.category.value == "overcurrent"
    # the phrasing's 0.8, capped at 0.7 because the code itself stays ambiguous
    assert (m.method, m.confidence, m.borrowed_from) == ("phrasing", 0.7, None)
    assert m.evidence[-1] == "the text/errorCode points to overcurrent; no listed entry means that"


def test_an_uninformative_error_code_decides_nothing(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="101", error_code="OtherError"))
    assert m.entry is not None and m.entry.key == "alfen:101"
    assert (m.method, m.confidence) == ("normalized", 0.3)


def test_code_in_the_text_of_an_unknown_vendor(matcher: Matcher) -> None:
    for q in (MatchQuery(info="fault [131] seen"), MatchQuery(code="77", info="fault [131] seen")):
        m = matcher.match(q)
        assert m.entry is not None and m.entry.key == "ge:131"
        assert m.evidence[0] == (
            "code 131 in the text matched GE manual entry 131 (only GE lists it; the charger's "
            "vendor is unknown)"
        )


def test_agreeing_text_is_noted_for_a_single_manual(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="131", info="RCD triggered"))
    assert m.entry is not None and m.entry.key == "ge:131"
    assert m.evidence[1] == "the text/errorCode agrees (ground_fault)"
    assert m.confidence == 0.45


def test_stronger_disagreeing_text_wins_over_a_single_manual(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="131", info="over current"))
    assert m.entry is not None and m.entry.category.value == "overcurrent"
    assert (m.method, m.confidence, m.borrowed_from) == ("phrasing", 0.8, None)
    assert m.evidence == [
        "vendorErrorCode 131 matched GE manual entry 131 (only GE lists it; the charger's "
        "vendor is unknown)",
        "but GE's meaning (ground_fault) may not apply here",
        "info over current matched the overcurrent phrasing 'over current' (phrasing, "
        "score 100)",
    ]


def test_a_scheme_code_from_a_stranger_is_answered(matcher: Matcher) -> None:
    # CX002 names its scheme: not another maker's number, so no hint and no cap
    m = matcher.match(MatchQuery(vendor="Acme Corp", code="CX002"))
    assert m.entry is not None and m.entry.key == "chargex-mrec:CX002"
    assert (m.confidence, m.hint, m.borrowed_from) == (0.85, None, None)


def test_a_stranger_with_a_code_and_text_gets_the_text_and_a_hint(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme Corp", code="101", info="RCD triggered"))
    assert m.entry is not None and m.entry.category.value == "ground_fault"
    assert (m.method, m.confidence) == ("phrasing", 0.8)
    assert m.hint == (
        "Alfen's manual uses 101 for ground_fault (DC residual current (6 mA) trip.); this "
        "charger says it is Acme Corp, not Alfen"
    )


def test_scope_applies_without_a_vendor(matcher: Matcher) -> None:
    # go-e 11 means connector_lock from firmware 50 on: the other entry is out of scope
    m = matcher.match(MatchQuery(code="11", firmware="60"))
    assert m.entry is not None and m.entry.category.value == "connector_lock"
    # unknown model of a model-scoped entry: 0.45 - 0.15
    m = matcher.match(MatchQuery(code="0x6012"))
    assert m.entry is not None and m.confidence == 0.3


def test_model_names_the_vendor_and_scopes_the_entry(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(model="ADC-60", code="0x6012"))
    assert (m.entry, m.vendor) == (None, "Acme DC")
    assert m.evidence[:2] == [
        "vendor Acme DC inferred from model ADC-60",
        "Acme DC's entry for 0x6012 applies only to models ADC-150*; this charger (model "
        "ADC-60) is out of scope",
    ]


# --- several manuals that agree (a base with two invented makers) ---------------------

NORDPOLE = """\
vendor:
  name: Nordpole
  sends: ["Nordpole"]
  code_format: decimal
source: "invented for a test"
codes:
  - code: "707"
    category: cooling_failure
    severity: degraded
    owner: vendor_service
    meaning: "The fan does not turn."
    action: "Service replaces the fan."
  - code: "808"
    category: power_module
    severity: outage
    owner: vendor_service
    meaning: "A power module failed."
    action: "Service replaces the module."
"""
SUDPOLE = """\
vendor:
  name: Sudpole
  sends: ["Sudpole"]
  code_format: decimal
source: "invented for a test"
codes:
  - code: "0707"
    aliases: ["F707"]
    category: cooling_failure
    severity: degraded
    owner: vendor_service
    meaning: "Fan failure."
    action: "Replace the fan."
  - code: "808"
    category: power_module
    severity: safety
    owner: electrician
    meaning: "A power module burnt."
    action: "Isolate the charger."
"""
AGREE = (
    "vendorErrorCode {sent} is listed by Nordpole (707), Sudpole (0707); the manuals agree "
    "(cooling_failure, degraded, vendor_service): answering from {name} manual entry "
    "{code} (the charger's vendor is unknown)"
)


@pytest.fixture(scope="module")
def poles(tmp_path_factory: pytest.TempPathFactory, fixture_root: Path) -> Matcher:
    root = tmp_path_factory.mktemp("kb") / "base"
    shutil.copytree(fixture_root, root)
    (root / "vendors" / "nordpole.yaml").write_text(NORDPOLE)
    (root / "vendors" / "sudpole.yaml").write_text(SUDPOLE)
    return Matcher(load_knowledge(root))


@pytest.mark.parametrize(
    ("sent", "key", "name", "code"),
    [("707", "nordpole:707", "Nordpole", "707"),  # neither writes it so: first by name
     ("0707", "sudpole:0707", "Sudpole", "0707")],  # Sudpole writes it exactly so
)
def test_manuals_that_agree_are_no_ambiguity(
    poles: Matcher, sent: str, key: str, name: str, code: str
) -> None:
    m = poles.match(MatchQuery(code=sent))
    assert m.entry is not None and m.entry.key == key
    assert (m.method, m.confidence, m.ambiguous, m.borrowed_from) == (
        "normalized", 0.45, (), name
    )
    assert m.evidence == [AGREE.format(sent=sent, name=name, code=code), GUESS.format(v=name)]


def test_a_distinctive_code_one_manual_lists(poles: Matcher) -> None:
    m = poles.match(MatchQuery(code="F707"))
    assert m.entry is not None and m.entry.key == "sudpole:0707"
    assert m.evidence[0] == (
        "vendorErrorCode F707 matched Sudpole manual entry 0707 (only Sudpole lists it; "
        "distinctive code)"
    )


def test_same_category_different_urgency_shows_the_most_severe(poles: Matcher) -> None:
    m = poles.match(MatchQuery(code="808"))
    assert m.entry is not None and m.entry.key == "sudpole:808"
    assert (m.confidence, m.ambiguous) == (0.4, ("Nordpole", "Sudpole"))
    assert m.evidence[:2] == [
        "vendorErrorCode 808 exists for several vendors (Nordpole, Sudpole) and the charger's "
        "vendor is unknown",
        "they agree on power_module but not on who acts or how urgent it is; showing the most "
        "severe (Sudpole)",
    ]


def test_agreeing_manuals_and_agreeing_text(poles: Matcher) -> None:
    m = poles.match(MatchQuery(code="707", info="fan failure"))
    assert m.entry is not None and m.entry.key == "nordpole:707"
    assert m.evidence[1] == "the text/errorCode agrees (cooling_failure)"


def test_agreeing_manuals_and_stronger_other_text(poles: Matcher) -> None:
    m = poles.match(MatchQuery(code="707", info="Overtemp"))
    assert m.entry is not None and m.entry.category.value == "high_temperature"
    assert (m.method, m.confidence) == ("phrasing", 0.8)
    assert m.evidence[1:] == [
        "but Nordpole's meaning (cooling_failure) may not apply here",
        "info Overtemp matched the high_temperature phrasing 'Overtemp' (phrasing, score 100)",
    ]


def test_a_stranger_gets_the_agreeing_manuals_as_a_hint(poles: Matcher) -> None:
    m = poles.match(MatchQuery(vendor="Acme Corp", code="707"))
    assert m.entry is None and m.hint == (
        "Nordpole's manual uses 707 for cooling_failure (The fan does not turn.); this charger "
        "says it is Acme Corp, not Nordpole"
    )


# --- more text paths -------------------------------------------------------------------


def test_a_false_friend_is_noted_on_the_answer(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", info="STOPBUTTON_PRESSED RCD triggered"))
    assert m.entry is not None and m.entry.category.value == "ground_fault"
    assert m.evidence == [
        "info STOPBUTTON_PRESSED RCD triggered matched the ground_fault phrasing "
        "'RCD triggered' (phrasing, score 100)",
        "info text is a known false friend of emergency_stop",
    ]


def test_a_false_friend_alone_is_unknown(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", info="STOPBUTTON_PRESSED emergency stop"))
    assert (m.entry, m.evidence) == (None, ["no knowledge-base entry matched: unknown"])


def test_a_textual_code_is_read_as_text(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="EMERGENCY_STOP_BUTTON"))
    assert m.entry is not None and m.entry.category.value == "emergency_stop"
    assert (m.method, m.confidence) == ("phrasing", 0.8)
    assert m.evidence == [
        "vendorErrorCode EMERGENCY_STOP_BUTTON is not in Alfen's manual",
        "vendorErrorCode EMERGENCY_STOP_BUTTON matched the emergency_stop phrasing "
        "'EMERGENCY_STOP_BUTTON' (phrasing, score 100)",
    ]


@pytest.mark.parametrize(("code", "confidence"), [("", 0.85), ("77", 0.75)])
def test_the_vendors_standard_entry_beats_an_agreeing_phrasing(
    matcher: Matcher, code: str, confidence: float
) -> None:
    m = matcher.match(
        MatchQuery(vendor="Zaptec", code=code, info="RCD triggered", error_code="GroundFailure")
    )
    assert m.entry is not None and m.entry.key == "zaptec:4096"
    assert (m.method, m.confidence) == ("vendor_standard", confidence)  # 0.8/0.7 + 0.05
    assert m.evidence[-1] == (
        "the text agrees (info RCD triggered matched the ground_fault phrasing 'RCD triggered' "
        "(phrasing, score 100))"
    )


def test_the_vendors_text_beats_its_weaker_standard_entry(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", error_code="GroundFailure",
                                 info="High temperature, Let charging station cool down"))
    assert m.entry is not None and m.entry.key == "zaptec:2"
    assert (m.method, m.confidence) == ("fuzzy", 0.85)


def test_text_of_an_unknown_vendor_prefers_the_phrasing(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(info="Ground fault, Try reconnecting cable"))
    assert m.entry is not None and m.method == "phrasing" and m.confidence == 0.8
    assert m.borrowed_from is None


def test_two_letters_of_text_are_no_text(matcher: Matcher) -> None:
    assert matcher.match(MatchQuery(vendor="Alfen", info="ok")).entry is None
    assert matcher.match(MatchQuery(vendor="Alfen", code="F1")).entry is None


# --- several codes: what each code's reading carries -----------------------------------


def test_each_code_is_read_with_the_chargers_firmware(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", code="11,12", firmware="60"))
    assert m.entry is not None and m.entry.category.value == "connector_lock"
    assert (m.method, m.confidence) == ("exact", 0.97)
    assert m.evidence[0] == (
        "vendorErrorCode carries 2 codes, each read on its own: 11: connector_lock, outage, "
        "confidence 0.97; 12: unknown"
    )


def test_each_code_is_read_with_the_chargers_model(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Acme DC", model="ADC-150S", code="0x6012,0xE1"))
    assert [p.key for p in m.parts] == ["acme-dc:0x6012", "acme-dc:0xE1"]
    assert "0x6012: power_module" in m.evidence[0] and "confidence 0.97" in m.evidence[0]


def test_each_code_is_read_with_its_own_text(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="77,78", info="RCD triggered; over current"))
    assert [p.category.value for p in m.parts] == ["ground_fault", "overcurrent"]
    assert m.evidence[0] == (
        "vendorErrorCode carries 2 codes, each read on its own: 77 (RCD triggered): "
        "ground_fault, safety, confidence 0.8; 78 (over current): overcurrent, outage, "
        "confidence 0.8"
    )


def test_each_code_is_read_with_the_error_code(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="998,999", error_code="HighTemperature"))
    assert m.entry is not None and m.entry.code == "HighTemperature"
    assert (m.method, m.confidence) == ("standard", 0.6)
    assert [p.code for p in m.parts] == ["HighTemperature", "HighTemperature"]


def test_several_codes_without_a_vendor_keep_the_guess(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(code="131,4096"))
    assert m.entry is not None and m.entry.key == "ge:131"
    assert (m.confidence, m.borrowed_from, m.vendor) == (0.45, "GE", None)
    assert [p.key for p in m.parts] == ["ge:131", "zaptec:4096"]
    shared = matcher.match(MatchQuery(code="101,998"))
    assert shared.ambiguous == ("Alfen", "GE") and shared.borrowed_from == "Alfen"


def test_several_unknown_codes_keep_the_vendor_and_the_hint(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="998|999"))
    assert (m.entry, m.vendor) == (None, "Alfen")
    stranger = matcher.match(MatchQuery(vendor="Acme Corp", code="131,999"))
    assert stranger.entry is None and stranger.hint == (
        "GE's manual uses 131 for ground_fault (Ground-fault lockout after the fifth trip.); "
        "this charger says it is Acme Corp, not GE"
    )


# --- bitmask limits --------------------------------------------------------------------


def test_a_64_bit_value_is_still_a_bitmask_and_65_bits_are_not(matcher: Matcher) -> None:
    top = 2**63
    m = matcher.match(MatchQuery(vendor="Zaptec", code=str(top + 4098)))
    assert m.method == "bitmask" and m.confidence == 0.6
    assert [p.key for p in m.parts] == ["zaptec:2", "zaptec:4096"]
    assert m.evidence[-1] == f"bits {top} are not in Zaptec's manual"
    m = matcher.match(MatchQuery(vendor="Zaptec", code=str(2**64 + 4098)))
    assert m.entry is None and m.method == "none"


def test_unknown_bits_are_listed(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Zaptec", code="4115"))  # 1 + 2 + 16 + 4096
    assert (m.method, m.confidence) == ("bitmask", 0.6)
    assert m.evidence == [
        "vendorErrorCode 4115 is the Zaptec bitmask 1 + 2 + 16 + 4096: 2 high_temperature, "
        "4096 ground_fault; the most severe part is 4096 (bitmask, score 100)",
        "bits 1, 16 are not in Zaptec's manual",
    ]
    m = matcher.match(MatchQuery(vendor="ABB", code="0x0003"))
    assert m.evidence[-1] == "bits 0x1 are not in ABB's manual"


# --- scope doubts cost the same on every path ------------------------------------------


def test_normalised_code_with_rival_meanings_costs_confidence(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", code="011"))
    assert m.entry is not None and m.entry.key == "go-e:11"
    assert (m.method, m.confidence) == ("normalized", 0.6)  # 0.9 - 0.3
    exact = matcher.match(MatchQuery(vendor="go-e", code="011", firmware="60"))
    assert exact.entry is not None and exact.entry.category.value == "connector_lock"
    assert exact.confidence == 0.9


def test_embedded_code_with_rival_meanings_costs_confidence(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", info="error 11 seen"))
    assert m.entry is not None and m.entry.key == "go-e:11"
    assert (m.method, m.confidence) == ("normalized", 0.55)  # 0.85 - 0.3
    assert m.evidence[-1] == (
        "code 11 in the info text matched go-e manual entry 11 (embedded, score 100)"
    )


def test_an_out_of_scope_embedded_code_is_skipped_for_the_next(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="go-e", info="err 12 then err 11", firmware="60"))
    assert m.entry is not None and m.entry.category.value == "connector_lock"
    assert m.confidence == 0.85
    assert m.evidence == [
        "go-e's entry for 12 applies only to firmware <50; this charger (firmware 60) is out "
        "of scope",
        "code 11 in the info text matched go-e manual entry 11 (embedded, score 100)",
    ]


def test_a_code_inside_the_vendor_error_code_text(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen", code="fault [211]"))
    assert m.entry is not None and m.entry.key == "alfen:211"
    assert m.evidence == [
        "vendorErrorCode fault [211] is not in Alfen's manual",
        "code 211 in the vendorErrorCode text matched Alfen manual entry 211 (embedded, "
        "score 100)",
    ]
