"""A known vendor's own entry for a standard errorCode beats the generic OCPP entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.kb.types import Match, MatchQuery
from bot.vocab import Category, Owner

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"


@pytest.fixture(scope="module")
def real() -> Matcher:
    return Matcher(load_knowledge())


def _says(m: Match) -> str:
    e = m.entry
    return f"{e.key if e else None} {m.confidence} {m.method} {m.evidence}"


@pytest.mark.parametrize(
    ("error_code", "category"),
    [
        ("GroundFailure", Category.GROUND_FAULT),
        ("PowerMeterFailure", Category.POWER_METER),
        ("PowerSwitchFailure", Category.POWER_SWITCH),
        ("UnderVoltage", Category.UNDER_VOLTAGE),
        ("ConnectorLockFailure", Category.CONNECTOR_LOCK),
    ],
)
def test_a_bare_standard_error_code_from_compleo_gets_compleos_entry(
    real: Matcher, error_code: str, category: Category
) -> None:
    m = real.match(MatchQuery(vendor="Compleo", firmware="6.1.2", error_code=error_code))
    assert m.entry is not None and m.entry.vendor == "Compleo", _says(m)
    assert m.entry.ocpp_error_code == error_code and m.entry.category == category
    assert m.method == "vendor_standard" and m.confidence == 0.8, _says(m)
    assert "preferred over the OCPP standard entry" in m.evidence[-1], _says(m)
    generic = real.kb.standard(error_code)
    assert generic is not None and m.entry is not generic


def test_compleo_ground_failure_carries_compleos_advice(real: Matcher) -> None:
    m = real.match(MatchQuery(vendor="Compleo Charging Solutions", error_code="GroundFailure"))
    assert m.entry is not None and m.entry.key == "compleo:GroundFailure", _says(m)
    assert m.entry.owner == Owner.ELECTRICIAN and "sliding cover" in m.entry.action
    # Firmware unknown: the entry is scoped to 5.x/6.x, so the answer says so and costs a bit.
    assert m.confidence == 0.65 and any("firmware >=5,<7" in e for e in m.evidence), _says(m)


def test_out_of_scope_firmware_falls_back_to_the_standard(real: Matcher) -> None:
    m = real.match(MatchQuery(vendor="Compleo", firmware="4.2", error_code="GroundFailure"))
    assert m.entry is real.kb.standard("GroundFailure") and m.method == "standard", _says(m)


def test_an_unreadable_vendor_code_still_gets_the_vendors_entry(real: Matcher) -> None:
    m = real.match(
        MatchQuery(vendor="Compleo", firmware="6.0", code="Z42", error_code="GroundFailure")
    )
    assert m.entry is not None and m.entry.key == "compleo:GroundFailure", _says(m)
    assert m.confidence == 0.7 and m.method == "vendor_standard", _says(m)
    assert any("Z42 is not in Compleo's manual" in e for e in m.evidence), _says(m)


def test_the_display_letter_is_still_an_exact_code(real: Matcher) -> None:
    m = real.match(MatchQuery(vendor="Compleo", firmware="6.0", code="B", error_code="OtherError"))
    assert m.entry is not None and m.entry.key == "compleo:GroundFailure"
    assert m.method == "exact"


@pytest.mark.parametrize("error_code", ["OtherError", "NoError"])
def test_uninformative_error_codes_never_pick_a_vendor_entry(
    real: Matcher, error_code: str
) -> None:
    m = real.match(MatchQuery(vendor="Zaptec", error_code=error_code))
    assert m.entry is None, _says(m)


def test_several_vendor_entries_for_one_error_code_leave_the_standard(real: Matcher) -> None:
    """Zaptec sends GroundFailure for five different bits: no single entry fits."""
    m = real.match(MatchQuery(vendor="Zaptec", model="Zaptec Go OCPP", error_code="GroundFailure"))
    assert m.entry is real.kb.standard("GroundFailure") and m.method == "standard", _says(m)


def test_zaptec_power_switch_failure_means_not_configured(real: Matcher) -> None:
    """oem-codes.md: Zaptec 512 arrives as PowerSwitchFailure but means 'not fully configured'."""
    m = real.match(
        MatchQuery(vendor="Zaptec", model="Zaptec Go OCPP", error_code="PowerSwitchFailure")
    )
    assert m.entry is not None and m.entry.key == "zaptec:512", _says(m)
    assert m.entry.category == Category.CONFIGURATION and m.method == "vendor_standard"


def test_an_unknown_vendor_gets_the_standard_entry(real: Matcher) -> None:
    m = real.match(MatchQuery(vendor="Nobody Knows Ltd", error_code="GroundFailure"))
    assert m.entry is real.kb.standard("GroundFailure") and m.method == "standard", _says(m)


def test_the_vendors_entry_beats_a_cross_vendor_phrasing_of_the_same_fault(
    real: Matcher,
) -> None:
    m = real.match(
        MatchQuery(
            vendor="Compleo",
            firmware="6.0",
            info="Residual current detected",
            error_code="GroundFailure",
        )
    )
    assert m.entry is not None and m.entry.key == "compleo:GroundFailure", _says(m)
    assert m.confidence == 0.85 and any("the text agrees" in e for e in m.evidence), _says(m)


def _vendor_with_scoped_entries(root: Path) -> None:
    (root / "vendors" / "acme_ac.yaml").write_text(
        """vendor:
  name: Acme AC
  sends: ["Acme AC GmbH"]
  code_format: decimal
source: "Acme AC manual"
codes:
  - code: "7"
    models: ["AC-1*"]
    ocpp_error_code: HighTemperature
    category: high_temperature
    severity: degraded
    owner: site_staff
    meaning: "AC-1 fan duct blocked."
    action: "Clear the duct."
  - code: "8"
    models: ["AC-2*"]
    ocpp_error_code: HighTemperature
    category: cooling_failure
    severity: outage
    owner: vendor_service
    meaning: "AC-2 fan failed."
    action: "Book service."
""",
        encoding="utf-8",
    )


def test_exactly_one_entry_in_scope_decides(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_ROOT, root)
    _vendor_with_scoped_entries(root)
    matcher = Matcher(load_knowledge(root))
    one = matcher.match(
        MatchQuery(vendor="Acme AC", model="AC-2 Pro", error_code="HighTemperature")
    )
    assert one.entry is not None and one.entry.code == "8", _says(one)
    assert one.method == "vendor_standard" and one.confidence == 0.8
    # Model unknown: both entries could apply, so neither is preferred.
    both = matcher.match(MatchQuery(vendor="Acme AC", error_code="HighTemperature"))
    assert both.entry is not None and both.entry.vendor is None, _says(both)
    assert both.method == "standard"
