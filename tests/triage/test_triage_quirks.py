"""Model quirks from the knowledge base: not_a_fault, degraded_not_down, invalid_error_code,
boot_fault_window and fault_while_charging_advisory.

The base is the real one (knowledge/standards, knowledge/vendors) read by the real loader,
with a quirks file written here, so each quirk kind is exercised whatever the shipped
quirks.yaml holds; test_triage_sample.py covers the shipped quirks on the sample feed.
"""

from __future__ import annotations

import pytest
from triage_frames import REPO, Feed

from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.triage.engine import TriageEngine

QUIRKS = """
quirks:
  - id: test-zaptec-disabled
    vendor: Zaptec
    kind: not_a_fault
    codes: ["2048"]
    explanation: "2048 means the charger was disabled in the portal."
    source: "test"
  - id: test-alfen-safe-mode
    vendor: Alfen
    kind: degraded_not_down
    codes: ["210"]
    explanation: "in safe mode it still charges at the safe-mode current."
    source: "test"
  - id: test-abb-error
    vendor: ABB
    kind: invalid_error_code
    explanation: "this firmware sends errorCode Error for any fault."
    source: "test"
  - id: test-wallbox-boot
    vendor: Wallbox
    models: ["*Quasar*"]
    kind: boot_fault_window
    window_s: 300
    explanation: "the Quasar shows error registers for up to 5 minutes after reboot."
    source: "test"
  - id: test-keba-fan
    vendor: KEBA
    kind: fault_while_charging_advisory
    explanation: "fan warnings surface as Faulted while the car keeps charging."
    source: "test"
"""


@pytest.fixture(scope="module")
def quirky_engine_factory(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("kb")
    for sub in ("standards", "vendors"):
        (root / sub).symlink_to(REPO / "knowledge" / sub)
    (root / "quirks.yaml").write_text(QUIRKS)
    kb = load_knowledge(root)
    matcher = Matcher(kb)
    return lambda: TriageEngine(kb, matcher)


def test_not_a_fault_is_suppressed_with_the_reason(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("ZAP-1", "Zaptec", "Zaptec Go", 0)
    d = f.fault("ZAP-1", 1, 4000, error="InternalError", code="2048")
    assert d.rule == "not_a_fault" and d.suppressed and d.severity == "info"
    assert any("disabled in the portal" in e for e in d.evidence)


def test_zaptec_real_fault_is_not_caught_by_the_quirk(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("ZAP-1", "Zaptec", "Zaptec Go", 0)
    d = f.fault("ZAP-1", 1, 4000, error="OtherError", code="4096")
    assert d.rule != "not_a_fault" and not d.suppressed


def test_degraded_not_down_on_connector_zero(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("ALF-1", "Alfen BV", "NG910-60023", 0)
    d = f.fault("ALF-1", 0, 4000, error="OtherError", code="210",
                info="Modbus TCP/IP lost, in safe mode max 6A")
    assert d.rule == "degraded_not_down" and d.severity == "degraded" and not d.suppressed
    assert d.category == "connectivity"
    assert any("safe-mode current" in e for e in d.evidence)


def test_invalid_error_code_quirk_is_named_in_the_evidence(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("ABB-1", "ABB", "Terra AC", 0)
    d = f.fault("ABB-1", 1, 4000, error="Error")
    assert any('errorCode "Error" is not a standard' in e and "known quirk" in e
               for e in d.evidence)


def test_boot_window_quirk_suspects_at_once_and_uses_its_window(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("QSR-1", "Wall Box Chargers", "Quasar", 0)
    d = f.fault("QSR-1", 1, 200, error="InternalError")
    assert d.rule == "suspected_phantom" and d.severity == "advisory"
    n = len(f.diagnoses)
    f.status("QSR-1", 1, "Available", 280)  # inside the quirk's 300 s
    (p,) = f.diagnoses[n:]
    assert p.rule == "phantom_boot_fault" and p.suppressed
    assert any("test-wallbox-boot" in e for e in p.evidence)
    # another model of the vendor is not covered by the quirk
    f.boot("PLS-1", "Wall Box Chargers", "Pulsar Plus", 10_000)
    d2 = f.fault("PLS-1", 1, 10_003, error="InternalError")
    assert d2.rule != "suspected_phantom"


def test_boot_window_quirk_recovery_after_the_window_is_real(quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("QSR-2", "Wall Box Chargers", "Quasar", 0)
    f.fault("QSR-2", 1, 200, error="InternalError")
    n = len(f.diagnoses)
    f.status("QSR-2", 1, "Available", 900)
    assert f.diagnoses[n:] == []


def test_fault_while_charging_quirk_suppresses_only_during_a_session(
        quirky_engine_factory) -> None:
    f = Feed(quirky_engine_factory())
    f.boot("KEBA-1", "Keba AG", "KC-P30", 0)
    idle = f.fault("KEBA-1", 1, 4000, error="HighTemperature")
    assert idle.rule != "fault_while_charging" and not idle.suppressed
    f.status("KEBA-1", 1, "Available", 4100)
    f.start("KEBA-1", 1, "TAG-K", 9, 100, 5000)
    busy = f.fault("KEBA-1", 1, 5100, error="HighTemperature")
    assert busy.rule == "fault_while_charging" and busy.suppressed
    assert busy.severity == "advisory"
