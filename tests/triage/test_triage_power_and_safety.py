"""safety_first, safety_repeat and site_wide_cause, with their near-misses."""

from __future__ import annotations

from pathlib import Path

from triage_frames import Feed, engine

DAY = 86400.0


def test_first_ground_fault_is_reset_and_watch_second_within_24h_is_safety() -> None:
    f = Feed(engine())
    first = f.fault("CP-1", 1, 0, error="GroundFailure")
    f.status("CP-1", 1, "Available", 60)
    second = f.fault("CP-1", 1, 5 * 3600, error="GroundFailure")
    assert first.rule == "safety_first" and second.rule == "safety_repeat"
    assert first.category == "ground_fault" and first.severity == "outage"
    assert first.owner == "remote_operator" and "reset" in first.action.lower()
    assert any("1st ground fault on this port in 24 h" in e for e in first.evidence)
    assert second.severity == "safety" and second.owner == "electrician"
    assert "out of service" in second.action and "retry" not in second.action.lower()
    assert any("2nd ground fault on this port in 24 h" in e for e in second.evidence)


def test_two_ground_faults_a_week_apart_are_not_repeated() -> None:
    f = Feed(engine())
    f.fault("CP-1", 1, 0, error="GroundFailure")
    f.status("CP-1", 1, "Available", 60)
    later = f.fault("CP-1", 1, 7 * DAY, error="GroundFailure")
    assert later.severity != "safety" and later.owner == "remote_operator"


def test_ground_faults_on_two_different_ports_are_not_repeated() -> None:
    f = Feed(engine())
    f.fault("CP-1", 1, 0, error="GroundFailure")
    other = f.fault("CP-1", 2, 60, error="GroundFailure")
    assert other.severity != "safety"


def sites(tmp_path: Path):
    return engine({"Depot North": ["CP-021", "CP-022", "CP-023"], "Harbour": ["CP-031"]},
                  tmp_path)


def test_undervoltage_on_three_chargers_of_one_site_is_one_site_cause(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    a = f.fault("CP-021", 1, 0, error="UnderVoltage")
    assert a.rule != "site_wide_cause"
    n = len(f.diagnoses)
    f.status("CP-022", 1, "Faulted", 40, error="UnderVoltage")
    b, a2 = f.diagnoses[n], f.diagnoses[n + 1]
    assert b.rule == "site_wide_cause" and b.category == "under_voltage"
    assert b.owner == "electrician" and b.site_event
    # the first port is re-diagnosed as part of the same event
    assert a2.supersedes and a2.message_fingerprint == a.message_fingerprint
    assert a2.rule == "site_wide_cause" and a2.site_event == b.site_event
    assert a2.charger == "CP-021"
    c = f.fault("CP-023", 2, 110, error="UnderVoltage")
    assert c.rule == "site_wide_cause" and c.site_event == b.site_event
    assert "Depot North" in c.summary
    assert any("CP-021/1, CP-022/1, CP-023/2" in e and "within" in e for e in c.evidence)
    assert len(f.diagnoses) == n + 3  # CP-021 and CP-022 were already part of it


def test_two_ports_at_different_sites_dipping_together_is_not_site_wide(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    other = f.fault("CP-031", 1, 10, error="UnderVoltage")
    assert other.rule != "site_wide_cause"
    assert all(not d.supersedes for d in f.diagnoses)


def test_same_site_but_outside_the_window_is_not_site_wide(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    later = f.fault("CP-022", 1, 3600, error="UnderVoltage")
    assert later.rule != "site_wide_cause"


def test_no_sites_file_means_each_charger_is_its_own_site() -> None:
    f = Feed(engine())
    f.fault("CP-021", 1, 0, error="UnderVoltage")
    other = f.fault("CP-022", 1, 10, error="UnderVoltage")
    assert other.rule != "site_wide_cause"


def test_dying_gasp_makes_the_site_event_a_power_loss_for_the_utility(tmp_path: Path) -> None:
    f = Feed(sites(tmp_path))
    f.fault("CP-021", 1, 0, error="OtherError", code="DYING GASP")
    d = f.fault("CP-022", 1, 20, error="OtherError", code="DYING GASP")
    assert (d.rule, d.category, d.owner) == ("site_wide_cause", "power_loss", "utility")
    # a later under-voltage port joins the same event, with the same cause and owner
    c = f.fault("CP-023", 1, 60, error="UnderVoltage")
    assert (c.category, c.owner, c.site_event) == ("power_loss", "utility", d.site_event)


def test_first_alfen_101_keeps_the_manuals_advice_after_the_generic_step() -> None:
    """Issue 11: the generic first step replaced Alfen's own advice, under the name
    safety_repeat. Now the generic step comes first, then Alfen's advice and escalation."""
    f = Feed(engine())
    f.boot("CP-9", "Alfen BV", "NG910-60023", 0)
    first = f.fault("CP-9", 1, 10, error="GroundFailure", code="101")
    assert first.rule == "safety_first" and first.category == "ground_fault"
    action = first.action
    assert action.startswith("First, reset the charger remotely"), action
    assert "Alfen's manual: Update the charger's firmware" in action, action
    assert "that car goes to its dealer" in action, action
    assert "If that does not help: Happens with several cars" in action, action
    assert action.index("First, reset") < action.index("Alfen's manual")
    f.status("CP-9", 1, "Available", 60)
    second = f.fault("CP-9", 1, 3600, error="GroundFailure", code="101")
    assert second.rule == "safety_repeat" and second.severity == "safety"
    assert second.action.startswith("First, take the port out of service")
    assert "Alfen's manual: Update the charger's firmware" in second.action
