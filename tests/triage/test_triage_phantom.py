"""phantom_boot_fault: learned per model from history; near-misses stay real faults."""

from __future__ import annotations

from triage_frames import Feed, engine


def boot_cycle(f: Feed, charger: str, t: float, recover_after: float) -> list:
    """Boot, Faulted+InternalError 3 s later, Available `recover_after` s after that."""
    f.boot(charger, "Acme EV", "AC-22 Pro", t)
    before = len(f.diagnoses)
    f.status(charger, 1, "Faulted", t + 3, error="InternalError")
    f.status(charger, 1, "Available", t + 3 + recover_after)
    return f.diagnoses[before:]


def test_model_learned_after_n_boots_then_suppressed_with_reason() -> None:
    f = Feed(engine(phantom_learn_after=3))
    runs = [boot_cycle(f, f"CP-{i}", i * 1000.0, 4) for i in range(5)]
    # boots 1 and 2: one ordinary diagnosis each, nothing superseded yet
    for run in runs[:2]:
        assert len(run) == 1 and not run[0].suppressed
        assert run[0].category == "internal_error"
    # boot 3 teaches the model: the Available supersedes the Faulted's diagnosis
    first, phantom = runs[2]
    assert not first.suppressed
    assert phantom.supersedes and phantom.suppressed
    assert phantom.rule == "phantom_boot_fault"
    assert phantom.message_fingerprint == first.message_fingerprint
    assert phantom.ts == first.ts and phantom.connector == 1
    assert "AC-22 Pro" in phantom.summary and "4 s" in phantom.summary
    assert any("Available 4 s after the fault" in e for e in phantom.evidence)
    # boot 4+: suspected at once (low urgency), then suppressed when Available comes
    suspect, phantom4 = runs[3]
    assert suspect.rule == "suspected_phantom" and suspect.severity == "advisory"
    assert not suspect.suppressed
    assert phantom4.rule == "phantom_boot_fault" and phantom4.suppressed
    assert any("phantom boot fault seen 4 times in 4 boots" in e for e in phantom4.evidence)
    # the port view lists what was ignored, and why
    view = f.engine.port_view("CP-4", 1)
    assert view is not None and view.diagnosis is None and view.status == "Available"
    assert [d.rule for d in view.ignored] == ["phantom_boot_fault"]


def test_available_only_after_ten_minutes_is_not_phantom() -> None:
    f = Feed(engine(phantom_learn_after=1))
    run = boot_cycle(f, "CP-1", 0, 600)
    assert len(run) == 1 and not run[0].suppressed
    # and it did not teach the model anything: the next boot fault is not suspected
    run2 = boot_cycle(f, "CP-2", 5000, 4)
    assert run2[0].rule != "suspected_phantom"


def test_fault_long_after_boot_is_not_in_the_boot_window() -> None:
    f = Feed(engine(phantom_learn_after=1))
    boot_cycle(f, "CP-1", 0, 4)  # model learned
    f.boot("CP-2", "Acme EV", "AC-22 Pro", 10_000)
    d = f.fault("CP-2", 1, 10_000 + 3600, error="InternalError")
    n = len(f.diagnoses)
    f.status("CP-2", 1, "Available", 10_000 + 3605)
    assert d.rule != "suspected_phantom" and not d.suppressed
    assert len(f.diagnoses) == n  # nothing superseded


def test_boot_time_ground_fault_is_never_learned_as_phantom() -> None:
    f = Feed(engine(phantom_learn_after=1))
    f.boot("CP-1", "Acme EV", "AC-22 Pro", 0)
    f.status("CP-1", 1, "Faulted", 3, error="GroundFailure")
    n = len(f.diagnoses)
    f.status("CP-1", 1, "Available", 6)
    assert len(f.diagnoses) == n
    assert f.diagnoses[-1].category == "ground_fault" and not f.diagnoses[-1].suppressed
