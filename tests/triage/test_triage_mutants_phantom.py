"""Edges of suspected_phantom, phantom_boot_fault and site_wide_cause that the other
triage tests never sit on: the exact confidence each one claims, the quirk's evidence
and window, the site window's last second, which cause names a mixed site event, and
the event's key. Expectations are worked out by hand from TriageConfig's defaults
(phantom window 120 s, site window 600 s, two chargers make a site event).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_triage_phantom import boot_cycle
from test_triage_quirks import QUIRKS
from triage_frames import REPO, Feed, engine

from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.triage.engine import TriageEngine


def test_learned_phantoms_claim_more_confidence_with_each_boot_up_to_090() -> None:
    f = Feed(engine(phantom_learn_after=1))
    runs = [boot_cycle(f, f"CP-{i}", i * 1000.0, 4) for i in range(8)]
    # boot 1 teaches the model (1 phantom); from boot 2 on the Faulted is suspected first
    assert [r[-1].rule for r in runs] == ["phantom_boot_fault"] * 8
    assert [r[0].rule for r in runs[1:]] == ["suspected_phantom"] * 7
    phantoms = [r[-1].confidence for r in runs]  # 0.6 + 0.05 per phantom seen, at most 0.9
    assert phantoms == pytest.approx([0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.9, 0.9])
    assert {r[0].confidence for r in runs[1:]} == {0.6}
    suspect = runs[1][0]
    assert suspect.severity == "advisory" and suspect.owner == "none"
    assert suspect.category == "internal_error"
    assert suspect.summary == ("Reported Faulted 3 s after booting; AC-22 Pro often shows a "
                               "phantom fault at boot that clears by itself.")
    assert suspect.action.startswith("Wait 2 min after the boot for it to clear by itself")
    assert "AC-22 Pro: phantom boot fault seen 1 times in 2 boots" in suspect.evidence
    last = runs[-1][-1]
    assert (last.severity, last.owner, last.category) == ("info", "none", "internal_error")
    assert last.summary == ("Reported Faulted 3 s after booting and Available 4 s later; "
                            "AC-22 Pro does that at boot, so it was not a real fault.")
    assert "Available 4 s after the fault" in last.evidence


def _quirk_kb(tmp: Path):  # the real base plus the quirks of test_triage_quirks
    for sub in ("standards", "vendors"):
        (tmp / sub).symlink_to(REPO / "knowledge" / sub)
    (tmp / "quirks.yaml").write_text(QUIRKS)
    return load_knowledge(tmp)


@pytest.fixture(scope="module")
def quirk_engine(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], TriageEngine]:
    kb = _quirk_kb(tmp_path_factory.mktemp("kb"))
    matcher = Matcher(kb)
    return lambda: TriageEngine(kb, matcher)


def test_a_quirk_window_is_named_and_trusted(quirk_engine: Callable[[], TriageEngine]) -> None:
    f = Feed(quirk_engine())
    f.boot("QSR-1", "Wall Box Chargers", "Quasar", 0)
    d = f.fault("QSR-1", 1, 240, error="InternalError")
    quirk_line = ("known model quirk test-wallbox-boot: the Quasar shows error registers for "
                  "up to 5 minutes after reboot.")
    assert d.rule == "suspected_phantom" and d.confidence == pytest.approx(0.6)
    assert quirk_line in d.evidence
    assert d.action.startswith("Wait 5 min after the boot")  # the quirk's 300 s, not 120 s
    assert d.summary.startswith("Reported Faulted 4 min after booting; Quasar often")
    assert not any("phantom boot fault seen" in e for e in d.evidence)  # none seen yet
    n = len(f.diagnoses)
    f.status("QSR-1", 1, "Available", 280)
    (p,) = f.diagnoses[n:]
    assert p.rule == "phantom_boot_fault" and p.confidence == pytest.approx(0.9)
    assert quirk_line in p.evidence
    assert "Quasar: phantom boot fault seen 1 times in 1 boots" in p.evidence  # this one


def sites(tmp_path: Path) -> TriageEngine:
    return engine({"Depot North": ["CP-021", "CP-022", "CP-023", "CP-024"]}, tmp_path)


def test_a_site_event_names_its_ports_span_key_and_confidence(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    b = f.fault("CP-022", 2, 40, error="UnderVoltage")
    assert b.rule == "site_wide_cause" and b.owner == "electrician"
    assert b.site_event == "Depot North:under_voltage:2026-11-20T08:00:00+00:00"
    assert b.confidence == pytest.approx(0.85)  # two chargers
    assert b.summary.startswith("Part of a site-wide ")
    assert "at Depot North: 2 ports on 2 chargers within 40 s" in b.summary
    assert any(e.startswith("ports CP-021/1, CP-022/2 at Depot North reported ")
               and e.endswith(" within 40 s") for e in b.evidence)
    c = f.fault("CP-023", 1, 100, error="UnderVoltage")
    assert c.site_event == b.site_event and c.confidence == pytest.approx(0.9)
    d = f.fault("CP-024", 1, 180, error="UnderVoltage")
    assert d.confidence == pytest.approx(0.95)  # four chargers: the cap
    assert "4 ports on 4 chargers within 3 min" in d.summary


def test_the_site_window_includes_its_last_second(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    assert f.fault("CP-022", 1, 600, error="UnderVoltage").rule == "site_wide_cause"
    g = Feed(sites(tmp_path))
    g.fault("CP-021", 1, 0, error="UnderVoltage")
    assert g.fault("CP-022", 1, 601, error="UnderVoltage").rule != "site_wide_cause"


def test_a_fault_stamped_long_before_the_others_does_not_join_them(tmp_path: Path) -> None:
    # A charger whose clock is an hour behind: its fault is not "within 10 minutes".
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 3600, error="UnderVoltage")
    assert f.fault("CP-022", 1, 0, error="UnderVoltage").rule != "site_wide_cause"


def test_mixed_voltages_name_the_majority_then_under_voltage(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="OverVoltage")
    f.fault("CP-021", 2, 10, error="OverVoltage")  # one charger: no site event yet
    d = f.fault("CP-022", 1, 20, error="UnderVoltage")
    assert (d.rule, d.category, d.owner) == ("site_wide_cause", "over_voltage", "electrician")
    tie = Feed(sites(tmp_path))
    tie.fault("CP-021", 1, 0, error="OverVoltage")
    d = tie.fault("CP-022", 1, 20, error="UnderVoltage")
    assert (d.rule, d.category) == ("site_wide_cause", "under_voltage")  # a tie: under first
    rev = Feed(sites(tmp_path))
    rev.fault("CP-021", 1, 0, error="UnderVoltage")
    d = rev.fault("CP-022", 1, 20, error="OverVoltage")
    assert (d.rule, d.category) == ("site_wide_cause", "under_voltage")


def test_a_learned_model_is_suspected_only_for_unspecific_faults() -> None:
    f = Feed(engine(phantom_learn_after=1))
    boot_cycle(f, "CP-1", 0, 4)  # the model learned: one phantom
    f.boot("CP-2", "Acme EV", "AC-22 Pro", 1000)
    d = f.fault("CP-2", 1, 1003, error="UnderVoltage")  # at boot, but a real supply fault
    assert d.rule != "suspected_phantom" and d.category == "under_voltage"
    f.boot("CP-3", "Acme EV", "AC-22 Pro", 2000)
    before = len(f.diagnoses)
    f.status("CP-3", 1, "Charging", 2003, error="InternalError")  # still charging: no fault
    charging = f.diagnoses[before:]  # diagnosed (a warning), but not as a boot phantom
    assert charging and all(x.rule != "suspected_phantom" for x in charging)
    s = f.fault("CP-3", 2, 2005, error="InternalError")
    assert s.rule == "suspected_phantom"
    assert "; if it stays Faulted: " in s.action  # then the manual's own advice


def test_a_tie_between_members_and_this_fault_goes_to_under_voltage(tmp_path: Path) -> None:
    # One charger's three ports (no site event yet: one charger), then a second charger.
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    f.fault("CP-021", 2, 5, error="OverVoltage")
    f.fault("CP-021", 3, 10, error="OverVoltage")
    d = f.fault("CP-022", 1, 20, error="UnderVoltage")  # 2 under (with this one), 2 over
    assert (d.rule, d.category) == ("site_wide_cause", "under_voltage")


def test_a_learned_model_with_a_code_nobody_knows_is_suspected_as_unknown() -> None:
    f = Feed(engine(phantom_learn_after=1))
    boot_cycle(f, "CP-1", 0, 4)
    f.boot("CP-2", "Acme EV", "AC-22 Pro", 1000)
    d = f.fault("CP-2", 1, 1003, error="OtherError", code="QQ-917")
    assert (d.rule, d.category) == ("suspected_phantom", "unknown")
    assert d.action.endswith("; if it stays Faulted, reset it remotely")  # no manual advice
