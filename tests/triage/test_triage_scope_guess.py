"""Issue 11 in a diagnosis: a borrowed guess says whose manual; a named stranger gets a hint."""


from __future__ import annotations

from triage_frames import Feed, engine


def test_the_diagnosis_summary_names_whose_manual_a_guess_comes_from() -> None:
    f = Feed(engine())
    d = f.fault("CP-77", 1, 0, code="F1")
    assert d.summary.startswith("A guess from ABL's manual (the charger names no maker):")
    assert d.confidence < 0.5
    named = Feed(engine())
    d2 = named.fault("CP-78", 1, 0, code="F1", vendor_id="OpenSchemeX")
    assert "ABL" not in d2.summary and d2.category == "unknown"
    assert any("hint, not used for the answer: ABL's manual uses F1" in e for e in d2.evidence)


def test_a_code_read_from_its_words_is_diagnosed_and_still_offered_for_teaching() -> None:
    eng = engine()
    f = Feed(eng)
    d = f.fault("CP-79", 1, 0, code="PlcModemLost", vendor_id="Nobody Knows GmbH")
    assert d.category == "ev_communication" and 0.5 <= d.confidence <= 0.7
    said = "the code's words name high-level communication with the vehicle"
    assert any(said in e for e in d.evidence)
    assert any(u.code == "PlcModemLost" for u in eng.recent_unknown_codes())
