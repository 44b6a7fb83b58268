"""Edges of the rule table's shared pieces (bot/triage/rules/base.py and decide()) that
the rule tests reach only on their common path: which quirk applies to a fault's codes
when a model has quirks of several kinds, numeric codes in YAML, an errorCode as a
quirk code; the severity order; how vendor text is capped and made visible.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from triage_frames import REPO, Feed, engine

from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.triage.engine import TriageEngine
from bot.triage.rules.base import cap, worse
from bot.vocab import Severity

# Two quirks of one vendor, of different kinds, the first one not for the fault's codes;
# `codes: [2048]` is a YAML number, a charger sends the code as text.
QUIRKS = """
quirks:
  - id: t-zaptec-boot
    vendor: Zaptec
    kind: boot_fault_window
    window_s: 300
    codes: ["777"]
    explanation: "777 at boot clears by itself."
    source: "test"
  - id: t-zaptec-disabled
    vendor: Zaptec
    kind: not_a_fault
    codes: [2048]
    explanation: "2048 means the charger was disabled in the portal."
    source: "test"
  - id: t-keba-weak
    vendor: KEBA
    kind: not_a_fault
    codes: ["WeakSignal"]
    explanation: "this KEBA reports a weak mobile signal as a fault."
    source: "test"
"""


@pytest.fixture(scope="module")
def quirk_engine(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], TriageEngine]:
    root = tmp_path_factory.mktemp("kb")
    for sub in ("standards", "vendors"):
        (root / sub).symlink_to(REPO / "knowledge" / sub)
    (root / "quirks.yaml").write_text(QUIRKS)
    kb = load_knowledge(root)
    matcher = Matcher(kb)
    return lambda: TriageEngine(kb, matcher)


def test_a_later_quirk_of_another_kind_still_applies(
        quirk_engine: Callable[[], TriageEngine]) -> None:
    f = Feed(quirk_engine())
    f.boot("ZAP-1", "Zaptec", "Zaptec Go", 0)
    d = f.fault("ZAP-1", 1, 4000, error="InternalError", code="2048")
    assert d.rule == "not_a_fault" and d.suppressed
    assert any("t-zaptec-disabled" in e for e in d.evidence)


def test_a_quirk_with_codes_leaves_other_codes_alone(
        quirk_engine: Callable[[], TriageEngine]) -> None:
    f = Feed(quirk_engine())
    f.boot("ZAP-1", "Zaptec", "Zaptec Go", 0)
    d = f.fault("ZAP-1", 1, 10, error="InternalError", code="2049")
    assert d.rule not in ("not_a_fault", "suspected_phantom") and not d.suppressed
    e = f.fault("ZAP-1", 2, 20, error="InternalError", code="777")
    assert e.rule == "suspected_phantom"  # the boot quirk's own code, 20 s after boot


def test_an_error_code_can_be_a_quirk_code(quirk_engine: Callable[[], TriageEngine]) -> None:
    f = Feed(quirk_engine())
    f.boot("KEBA-1", "KEBA", "P30", 0)
    d = f.fault("KEBA-1", 1, 4000, error="WeakSignal")
    assert d.rule == "not_a_fault" and d.severity == "info"
    other = f.fault("KEBA-1", 2, 4100, error="GroundFailure")
    assert other.rule != "not_a_fault"


@pytest.mark.parametrize("a, b, expected", [
    (Severity.SAFETY, Severity.OUTAGE, Severity.SAFETY),
    (Severity.OUTAGE, Severity.SAFETY, Severity.SAFETY),
    (Severity.DEGRADED, Severity.OUTAGE, Severity.OUTAGE),
    (Severity.ADVISORY, Severity.DEGRADED, Severity.DEGRADED),
    (Severity.INFO, Severity.INFO, Severity.INFO),
])
def test_worse_is_the_more_urgent_severity(a: Severity, b: Severity, expected: Severity) -> None:
    assert worse(a, b) is expected


@pytest.mark.parametrize("text, limit, expected", [
    (None, 10, ""),
    ("", 10, ""),
    ("0123456789", 10, "0123456789"),  # exactly the limit: kept whole
    ("0123456789A", 10, "012345678…"),  # one over: cut, the mark makes it the limit again
    ("E\x00\x1b7", 10, "E\\x00\\x1b7"),  # control characters shown, not sent
    ("ab\ncd", 4, "ab\\…"),  # made visible first, then capped
])
def test_cap_keeps_vendor_text_verbatim_visible_and_bounded(text: str | None, limit: int,
                                                            expected: str) -> None:
    assert cap(text, limit) == expected



def test_a_borrowed_guess_says_whose_manual_and_what_it_means() -> None:
    # F1 alone, no maker: ABL's manual is the only one with that code (0xF1, "F1").
    d = Feed(engine()).fault("CP-77", 1, 0, code="F1")
    assert d.summary == ("A guess from ABL's manual (the charger names no maker): Contactor "
                         "welded: a contact is closed when it should be open.")


def test_an_entry_marked_suppress_gives_a_suppressed_diagnosis() -> None:
    # Zaptec 1024 (WARNING_REBOOT) is `suppress: true` in knowledge/vendors/zaptec.yaml.
    f = Feed(engine())
    f.boot("ZAP-1", "Zaptec", "Zaptec Go", 0)
    d = f.fault("ZAP-1", 1, 4000, error="InternalError", code="1024")
    assert d.rule == "kb_match" and d.suppressed
    other = f.fault("ZAP-1", 2, 4100, error="InternalError", code="2049")
    assert not other.suppressed
