"""The code-text reader (issue 11): codes whose names say what they are, read from their
words with the lexicon in knowledge/lexicon.yaml; never above a table entry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.kb.lint import lint_knowledge
from bot.kb.loader import default_knowledge, default_root
from bot.kb.matcher import Matcher
from bot.kb.reader import CodeReader, Declined, Reading
from bot.kb.types import MatchQuery
from bot.vocab import Category


@pytest.fixture(scope="module")
def real() -> Matcher:
    return Matcher(default_knowledge())


def _stranger(code: str, info: str | None = None, error: str = "OtherError") -> MatchQuery:
    return MatchQuery(vendor="Nobody Knows GmbH", code=code, info=info, error_code=error)


HLC = "high-level communication with the vehicle (ISO 15118 / DIN 70121)"
# One or more codes per word family of the lexicon, in the spellings chargers use.
FAMILIES = [
    ("EmergencyStopPressed", Category.EMERGENCY_STOP, "the emergency stop"),
    ("ESTOP_ACTIVE", Category.EMERGENCY_STOP, "the emergency stop"),
    ("MushroomButton", Category.EMERGENCY_STOP, "the emergency stop"),
    ("PilotShortToGround", Category.EV_COMMUNICATION, "the control pilot shorted to ground"),
    ("CP_SHORT", Category.EV_COMMUNICATION, "the control pilot shorted to ground"),
    ("PPInvalid", Category.EV_COMMUNICATION, "the proximity pilot"),
    ("ProximityPilotError", Category.EV_COMMUNICATION, "the proximity pilot"),
    ("SlacTimeout", Category.EV_COMMUNICATION, HLC),
    ("PlcModemLost", Category.EV_COMMUNICATION, HLC),
    ("HLC_SESSION_ABORTED", Category.EV_COMMUNICATION, HLC),
    ("ISO15118Failure", Category.EV_COMMUNICATION, HLC),
    ("V2G_MSG_TIMEOUT", Category.EV_COMMUNICATION, HLC),
    ("RCDTripped", Category.GROUND_FAULT, "residual or leakage current"),
    ("RCM_DC_6mA", Category.GROUND_FAULT, "residual or leakage current"),
    ("GFCI_TRIP", Category.GROUND_FAULT, "residual or leakage current"),
    ("ResidualCurrentDetected", Category.GROUND_FAULT, "residual or leakage current"),
    ("LeakageCurrentHigh", Category.GROUND_FAULT, "residual or leakage current"),
    ("IsolationResistanceLow", Category.ISOLATION_FAULT, "isolation monitoring"),
    ("IMD_FAULT", Category.ISOLATION_FAULT, "isolation monitoring"),
    ("InsulationFailure", Category.ISOLATION_FAULT, "isolation monitoring"),
    ("ContactorWelded", Category.POWER_SWITCH, "a contactor or relay"),
    ("RELAY_STUCK_CLOSED", Category.POWER_SWITCH, "a contactor or relay"),
    ("OverTemperature", Category.HIGH_TEMPERATURE, "a high temperature"),
    ("OVERTEMP_SHUTDOWN", Category.HIGH_TEMPERATURE, "a high temperature"),
    ("ThermalDerating", Category.HIGH_TEMPERATURE, "a high temperature"),
    ("FanFailure", Category.COOLING_FAILURE, "the cooling system"),
    ("CoolantPumpError", Category.COOLING_FAILURE, "the cooling system"),
    ("DoorOpen", Category.DOOR_OR_TAMPER, "a door, cover or tamper sensor"),
    ("LidOpenDetected", Category.DOOR_OR_TAMPER, "a door, cover or tamper sensor"),
    ("TamperAlarm", Category.DOOR_OR_TAMPER, "a door, cover or tamper sensor"),
    ("TiltSensorTriggered", Category.DOOR_OR_TAMPER, "a door, cover or tamper sensor"),
    ("MeterCommFailure", Category.POWER_METER, "the energy meter"),
    ("MID_METER_ERROR", Category.POWER_METER, "the energy meter"),
    ("RFIDReaderError", Category.READER, "the card reader"),
    ("CardReaderTimeout", Category.READER, "the card reader"),
    ("TlsCertificateExpired", Category.CONFIGURATION, "configuration or certificates"),
    ("LTE_MODEM_DOWN", Category.CONNECTIVITY, "the network connection"),
    ("SimCardMissing", Category.CONNECTIVITY, "the network connection"),
    ("BackhaulLost", Category.CONNECTIVITY, "the network connection"),
    ("SPD_TRIPPED", Category.SURGE_PROTECTION, "surge protection"),
    ("SurgeArresterFault", Category.SURGE_PROTECTION, "surge protection"),
    ("PhaseLossL2", Category.POWER_LOSS, "the supply or a phase"),
    ("GridFailure", Category.POWER_LOSS, "the supply or a phase"),
    ("OverVoltageL1", Category.OVER_VOLTAGE, "over-voltage"),
    ("UNDERVOLTAGE", Category.UNDER_VOLTAGE, "under-voltage"),
    ("OverCurrentPhase3", Category.OVERCURRENT, "over-current"),
    ("LockActuatorFault", Category.CONNECTOR_LOCK, "the connector lock"),
    ("PlugLatchFailure", Category.CONNECTOR_LOCK, "the connector lock"),
    ("PowerModule3Fault", Category.POWER_MODULE, "a power module"),
    ("RectifierFailure", Category.POWER_MODULE, "a power module"),
    ("LocalListFull", Category.LOCAL_LIST_CONFLICT, "the local authorization list"),
    ("WatchdogReset", Category.INTERNAL_ERROR, "the charger's own electronics or software"),
    ("ResetFailed", Category.RESET_FAILURE, "a failed reset"),
    ("LowTemperature", Category.HIGH_TEMPERATURE, "a temperature too low"),
    ("CP_DIODE_FAULT", Category.EV_COMMUNICATION, "the control pilot"),
    ("EVShiftPositionInvalid", Category.EV_COMMUNICATION, "the vehicle"),
]


@pytest.fixture(scope="module")
def reader() -> CodeReader:
    lexicon = default_knowledge().lexicon
    assert lexicon is not None
    return CodeReader(lexicon)


@pytest.mark.parametrize(("code", "category", "family"), FAMILIES)
def test_each_word_family_is_read(reader: CodeReader, code: str, category: Category,
                                  family: str) -> None:
    got = reader.read(code)
    assert isinstance(got, Reading), (code, got, reader.words(code))
    assert got.family.name == family and got.family.entry.category is category


@pytest.mark.parametrize(("code", "category", "family"), FAMILIES)
def test_a_stranger_sending_a_wordy_code_gets_its_category(
    real: Matcher, code: str, category: Category, family: str
) -> None:
    """Through the matcher: a cross-vendor phrasing (a table) may answer first; when it
    does not, the reader answers, says so, and stays between 0.5 and 0.7."""
    m = real.match(_stranger(code))
    assert m.entry is not None and m.entry.category is category, (code, m.evidence)
    assert m.method in ("words", "phrasing", "normalized"), m.method  # normalized: a scheme
    if m.method == "words":
        assert 0.5 <= m.confidence <= 0.7
        said = [e for e in m.evidence if "the code's words name" in e]
        assert said and f"the code's words name {family} (" in said[0], said
        assert "no manual entry, words only" in said[0]


@pytest.mark.parametrize(
    "code", ["PilotShortToGround", "PlcModemLost", "LidOpenDetected", "V2G_MSG_TIMEOUT",
             "RCM_DC_6mA", "CoolantPumpError", "SpdWornOut", "BackhaulLost"]
)  # fmt: skip
def test_the_issues_examples_were_unknown_and_are_read_by_words(real: Matcher, code: str) -> None:
    m = real.match(_stranger(code))
    assert m.method == "words" and 0.5 <= m.confidence <= 0.7, m.evidence


def test_every_family_of_the_lexicon_is_exercised() -> None:
    kb = default_knowledge()
    assert kb.lexicon is not None
    tested = {f for _, _, f in FAMILIES}
    assert {f.name for f in kb.lexicon.families} <= tested


def test_the_words_that_decided_are_named(real: Matcher) -> None:
    m = real.match(_stranger("PilotShortToGround"))
    line = next(e for e in m.evidence if "words name" in e)
    assert "(pilot, short;" in line and "read as 'pilot short to ground'" in line


def test_a_table_entry_beats_the_words(real: Matcher) -> None:
    """Zaptec's manual says what its code means; the words of an alias never override it."""
    m = real.match(MatchQuery(vendor="Zaptec", code="4096"))
    assert m.method != "words" and m.confidence > 0.7
    # A standard errorCode that disagrees with the words is kept; the words are noted.
    g = real.match(_stranger("LidOpenDetected", error="GroundFailure"))
    assert g.entry is not None and g.entry.category is Category.GROUND_FAULT
    assert g.method == "standard"
    assert any("point to door_or_tamper" in e for e in g.evidence)


def test_words_and_errorcode_agreeing_raise_the_confidence(real: Matcher) -> None:
    alone = real.match(_stranger("RCDTripped"))
    both = real.match(_stranger("RCDTripped", error="GroundFailure"))
    assert both.method == "words" and both.confidence > alone.confidence
    assert both.confidence <= 0.7


def test_info_text_is_read_when_the_code_has_no_words(real: Matcher) -> None:
    m = real.match(_stranger("E_0931", info="Contactor welded on phase L1"))
    assert m.entry is not None and m.entry.category is Category.POWER_SWITCH
    assert any(e.startswith("info Contactor welded") for e in m.evidence)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("ImdReconnected", "say it is over"),
        ("SlacRestored", "say it is over"),
        ("CP_a101", None),  # Tesla's charge port alert: a code name, not words
        ("F-0101", None),
        ("FanMeter", "name both"),  # two families, same weight: no guess
    ],
)
def test_words_that_decide_nothing_give_an_honest_unknown(
    real: Matcher, reader: CodeReader, code: str, why: str | None
) -> None:
    got = reader.read(code)
    assert not isinstance(got, Reading), got
    if why:
        assert isinstance(got, Declined) and why in got.why
    m = real.match(_stranger(code))
    assert m.entry is None and m.confidence == 0.1, m.evidence
    if why:
        assert any(why in e for e in m.evidence), m.evidence


def test_a_false_friend_is_not_read_as_its_look_alike(real: Matcher) -> None:
    m = real.match(_stranger("STOPBUTTON_PRESSED"))
    assert m.entry is None or m.entry.category is not Category.EMERGENCY_STOP


# -- multi-code values -----------------------------------------------------------------


def test_a_multi_code_value_is_split_and_the_most_severe_leads(real: Matcher) -> None:
    m = real.match(
        MatchQuery(vendor="Nobody Knows GmbH", code="FanFailure,RCDTripped,DoorOpen",
                   info="fan=0rpm,Idn=31mA,door=1")
    )  # fmt: skip
    assert m.entry is not None and m.entry.category is Category.GROUND_FAULT
    assert {p.category for p in m.parts} == {
        Category.COOLING_FAILURE, Category.GROUND_FAULT, Category.DOOR_OR_TAMPER
    }
    head = m.evidence[0]
    assert head.startswith("vendorErrorCode carries 3 codes, each read on its own:")
    # each measurement next to its own code
    assert "FanFailure (fan=0rpm): cooling_failure" in head
    assert "RCDTripped (Idn=31mA): ground_fault" in head
    assert "DoorOpen (door=1): door_or_tamper" in head
    # a door fault is "safety" in the lexicon too; the ground fault wins on confidence order
    assert any("leads" in e for e in m.evidence)


def test_a_multi_code_value_of_a_known_vendor_reads_each_from_its_manual(real: Matcher) -> None:
    m = real.match(MatchQuery(vendor="Alfen BV", code="210; 101", info="14.0A; 7mA"))
    assert m.entry is not None and m.entry.key == "alfen:101"  # ground fault, safety
    assert [p.key for p in m.parts] == ["alfen:210", "alfen:101"]
    assert "210 (14.0A): connectivity" in m.evidence[0]
    assert "101 (7mA): ground_fault" in m.evidence[0]


def test_multi_code_with_info_not_per_code_keeps_info_whole(real: Matcher) -> None:
    m = real.match(_stranger("FanFailure|OverTemperature", info="cabinet 71 C"))
    assert m.entry is not None
    assert any("does not give one value per code" in e for e in m.evidence)


def test_multi_code_with_only_unknown_codes_is_unknown(real: Matcher) -> None:
    m = real.match(_stranger("X1,X2,X3"))
    assert m.entry is None and m.confidence == 0.1


# -- hostile text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "Overtemp" * 20_000,
        "<!channel> *bold* _it_ ~strike~ `RCD` <https://x.example|click>",
        "温度过高_OverTemperature_Überhitzung_перегрев",
        "\u202eRCDTripped\u202c\x00\x07",
        ",,,;;;|||",
        "A," * 5000,
        "_" * 10_000,
    ],
)
def test_hostile_codes_are_bounded_and_never_crash(real: Matcher, code: str) -> None:
    t = time.perf_counter()
    m = real.match(_stranger(code, info=code))
    assert time.perf_counter() - t < 0.5
    assert 0 <= m.confidence <= 1
    assert all(len(e) < 2000 for e in m.evidence)


def test_mixed_scripts_still_read_the_latin_words(real: Matcher) -> None:
    m = real.match(_stranger("温度过高_OverTemperature"))
    assert m.entry is not None and m.entry.category is Category.HIGH_TEMPERATURE


def test_the_reader_never_crashes_on_any_text() -> None:
    """Seeded fuzz: random mixes of lexicon words, separators, digits and any Unicode."""
    import random

    kb = default_knowledge()
    assert kb.lexicon is not None
    reader = CodeReader(kb.lexicon)
    rng = random.Random(11)
    vocab = [w for f in kb.lexicon.families for t in f.terms for w in t] + list(kb.lexicon.words)
    pieces = [*vocab, "_", "-", "/", " ", "0x", "123", "\u0301", "\x00", "ß", "İ", "ǅ", "🔥"]
    for _ in range(2000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 30))]
        parts += [chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 5))]
        rng.shuffle(parts)
        text = "".join(p.upper() if rng.random() < 0.3 else p for p in parts)
        got = reader.read(text)
        assert got is None or isinstance(got, (Reading, Declined))


# -- the lexicon is data, and linted --------------------------------------------------------


def test_the_real_lexicon_lints_clean() -> None:
    assert [p for p in lint_knowledge() if "lexicon" in p.file] == []


def test_lexicon_mistakes_are_reported_with_their_line(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    (root / "lexicon.yaml").write_text(
        "lexicon:\n"
        "  source: test\n"
        "  words:\n"
        "    overtemp: over temperature\n"
        "    two words: x\n"
        "  families:\n"
        "    - name: heat\n"
        "      category: hot_stuff\n"
        "      severity: degraded\n"
        "      owner: site_staff\n"
        "      terms: [overtemp, \"fan!\"]\n"
        "      meaning: m\n"
        "      action: a\n",
        encoding="utf-8",
    )
    found = [str(p) for p in lint_knowledge(root) if "lexicon" in p.file]
    assert any(":5: word 'two words' must be one word" in f for f in found), found
    assert any(":7: category 'hot_stuff' is not one of" in f for f in found) or any(
        ":8: category 'hot_stuff'" in f for f in found
    ), found
    assert any("term 'overtemp' uses 'overtemp'" in f for f in found), found
    assert any("term 'fan!': only letters, digits and spaces" in f for f in found), found


def test_evgo_compound_codes_each_get_their_measurement(real: Matcher) -> None:
    """EVgo MREC: concurrent codes as CSV in vendorErrorCode, the N-th info value belongs to
    the N-th code (mrec.evgo.com/def/format.html)."""
    m = real.match(MatchQuery(vendor="com.evgo.mrec", code="F009,F006", info="96,20",
                              error_code="OtherError"))  # fmt: skip
    assert m.entry is not None and m.entry.key == "evgo-mrec:F006"  # isolation: safety leads
    assert "F009 (96): high_temperature" in m.evidence[0]
    assert "F006 (20): isolation_fault" in m.evidence[0]


def test_a_plain_one_letter_scheme_code_is_not_another_makers(real: Matcher) -> None:
    """EVgo's F004 looks like any maker's code: under another maker it is not EVgo's."""
    m = real.match(MatchQuery(vendor="Wallbox", code="F004"))
    assert m.entry is None or m.entry.vendor != "EVgo MREC"
    named = real.match(MatchQuery(vendor="com.evgo.mrec", code="F004"))
    assert named.entry is not None and named.entry.key == "evgo-mrec:F004"


def test_a_short_code_is_not_found_inside_a_phrase(real: Matcher) -> None:
    """`F1` used to match the phrase `F400: EMERGENCY_STOP_BUTTON_1` at score 100."""
    m = real.match(MatchQuery(vendor="Nobody Knows GmbH", code="F1"))
    assert m.entry is None or m.entry.category is not Category.EMERGENCY_STOP


def test_lint_catches_a_term_that_reads_as_another_family(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    text = (root / "lexicon.yaml").read_text(encoding="utf-8")
    # "released" is a cleared word: a term containing it could never be read.
    text = text.replace('terms: ["lock", "latch",', 'terms: ["lock released", "lock", "latch",')
    (root / "lexicon.yaml").write_text(text, encoding="utf-8")
    found = [str(p) for p in lint_knowledge(root)]
    assert any("term 'lock released' of 'the connector lock' reads as" in f for f in found), found


def test_lint_wants_a_reason_for_a_vendor_file_without_codes(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    (root / "vendors" / "silent.yaml").write_text(
        'vendor:\n  name: Silent Co\n  sends: ["Silent Co"]\n  code_format: decimal\n'
        'source: "nowhere"\ncodes: []\n',
        encoding="utf-8",
    )
    found = [str(p) for p in lint_knowledge(root)]
    assert any("vendor 'Silent Co' has no codes and its notes do not say why" in f
               for f in found), found  # fmt: skip


def test_code_words_decide_and_a_disagreeing_info_is_shown(real: Matcher) -> None:
    m = real.match(_stranger("LidOpenDetected", info="fan stalled"))
    assert m.entry is not None and m.entry.category is Category.DOOR_OR_TAMPER
    assert any("the info's words point to the cooling system instead" in e for e in m.evidence)
    assert m.confidence <= 0.6


@pytest.mark.parametrize(
    ("code", "word"),
    [("V2GParameterInvalid", "iso15118"), ("ContactorK1Welded", "contactor"),
     ("LTE4GLost", "cellular"), ("Iso15118Timeout", "iso15118")],
)  # fmt: skip
def test_an_abbreviation_cut_at_its_digits_is_joined_again(
    reader: CodeReader, code: str, word: str
) -> None:
    """camelCase splitting cuts `V2G` into `v 2 g`; the lexicon's word is found again."""
    words = reader.words(code)
    assert word in words and "2" not in words[:1], words


@pytest.mark.parametrize("code", ["V2GTPPayloadTypeInvalid", "SDPDiscoveryTimeout",
                                  "EXIDecodingError"])  # fmt: skip
def test_iso15118_layer_names_are_read_as_vehicle_communication(
    reader: CodeReader, code: str
) -> None:
    got = reader.read(code)
    assert isinstance(got, Reading), (code, got, reader.words(code))
    assert got.family.entry.category is Category.EV_COMMUNICATION


def test_tls_alone_does_not_say_whose_link_failed(real: Matcher) -> None:
    """A TLS handshake may be the car's (ISO 15118) or the backend's (OCPP): no guess, but
    a TLS code that names certificates is still read as certificates."""
    m = real.match(_stranger("TLSHandshakeError"))
    assert m.entry is None or m.entry.category is not Category.CONFIGURATION, m.evidence
    cert = real.match(_stranger("TlsCertificateExpired"))
    assert cert.entry is not None and cert.entry.category is Category.CONFIGURATION


@pytest.mark.parametrize(
    ("code", "wrong"),
    [("CABLE_FAULT", Category.GROUND_FAULT), ("DC_HARDWARE", Category.POWER_MODULE)],
)  # fmt: skip
def test_a_code_saying_part_of_a_phrase_is_not_that_phrase(
    real: Matcher, code: str, wrong: Category
) -> None:
    """`cable fault` is contained in the phrasing `Ground fault, Try reconnecting cable`
    as a set of words; it used to score 100 against it."""
    m = real.match(MatchQuery(vendor="Nobody Knows GmbH", code=code))
    assert m.entry is None or m.entry.category is not wrong or m.method != "phrasing", m.evidence


def test_a_phrase_inside_a_longer_text_still_counts(real: Matcher) -> None:
    m = real.match(_stranger("X1", info="Ground fault, Try reconnecting cable now please"))
    assert m.entry is not None and m.entry.category is Category.GROUND_FAULT, m.evidence


def test_a_short_phrase_counts_only_with_its_words_together(real: Matcher) -> None:
    """`mains lost` (a supply phrasing) is not in `Communication with mains meter lost`
    (SmartEVSE's text for a silent meter): its words are there, but apart."""
    m = real.match(_stranger("X1", info="Communication with mains meter lost",
                             error="PowerMeterFailure"))  # fmt: skip
    assert m.entry is not None and m.entry.category is Category.POWER_METER, m.evidence
    together = real.match(_stranger("X1", info="Supply: mains lost since 10:00"))
    assert together.entry is not None and together.entry.category is Category.POWER_LOSS


@pytest.mark.parametrize(
    ("code", "category"),
    [("insulation_monitor/CommunicationFault", Category.ISOLATION_FAULT),
     ("PowerModuleCommunicationFault", Category.POWER_MODULE),
     ("SurgeProtectionCommunicationFault", Category.SURGE_PROTECTION)],
)  # fmt: skip
def test_a_communication_fault_with_a_named_device_is_that_devices(
    real: Matcher, code: str, category: Category
) -> None:
    """The generic `CommunicationFault` phrasing (the network) yields when the code names the
    device the controller cannot reach; the evidence says why."""
    m = real.match(_stranger(code))
    assert m.entry is not None and m.entry.category is category, m.evidence
    assert m.method == "words" and any("a link phrasing pointed to connectivity" in e
                                       for e in m.evidence), m.evidence  # fmt: skip


def test_a_communication_fault_naming_no_device_stays_the_network(real: Matcher) -> None:
    m = real.match(_stranger("CommunicationFault"))
    assert m.entry is not None and m.entry.category is Category.CONNECTIVITY, m.evidence


def test_a_condition_of_a_device_is_not_a_link(real: Matcher) -> None:
    """Only link words hand the fault to the device: a power module that is too hot is a
    temperature fault, as its phrasing says."""
    m = real.match(_stranger("PowerModuleOverTemperature"))
    assert m.entry is not None and m.entry.category is Category.HIGH_TEMPERATURE, m.evidence


def test_lint_wants_link_words_to_be_single_words(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    path = root / "lexicon.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("links: [communication,", 'links: ["two words", communication,'),
                    encoding="utf-8")  # fmt: skip
    found = [str(p) for p in lint_knowledge(root) if "lexicon" in p.file]
    assert any("link word 'two words' must be one word" in f for f in found), found


def test_a_failed_self_test_of_a_named_device_is_that_devices(real: Matcher) -> None:
    """`self-test failed` is a generic internal-error phrasing; a GFI's failed self-test (an
    info text a charger sends with GroundFailure) is about ground-fault protection."""
    m = real.match(_stranger("X1", info="GFI self test failed", error="GroundFailure"))
    assert m.entry is not None and m.entry.category is Category.GROUND_FAULT, m.evidence
    assert any("the info text names residual or leakage current" in e for e in m.evidence)
    plain = real.match(_stranger("X1", info="self-test failed"))
    assert plain.entry is not None and plain.entry.category is Category.INTERNAL_ERROR
