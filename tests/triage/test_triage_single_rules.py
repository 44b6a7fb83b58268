"""Rules decided by one message: hardware failures, honest unknowns, KB/standard codes."""

from __future__ import annotations

from datetime import timedelta

from triage_frames import T0, Feed, engine

from bot.ocpp.readers import read_lines
from bot.vocab import Category, Owner, Severity


def test_reset_failure_after_a_csms_reset_needs_a_breaker_power_cycle() -> None:
    f = Feed(engine())
    f.call("CP-1", "Reset", {"type": "Hard"}, 0, direction="out")
    d = f.fault("CP-1", 0, 90, error="ResetFailure")
    assert (d.rule, d.category, d.owner) == ("reset_failure", "reset_failure", "site_staff")
    assert "breaker" in d.action
    assert any("the CSMS sent a Reset 90 s before" in e for e in d.evidence)
    assert any("whole charger" in e for e in d.evidence)  # connector 0


def test_meter_failure_flags_the_running_session_as_energy_suspect() -> None:
    f = Feed(engine())
    f.start("CP-2", 1, "TAG-M", 77, 5000, 0)
    d = f.fault("CP-2", 1, 300, error="PowerMeterFailure")
    assert (d.rule, d.category) == ("meter_failure", "power_meter")
    suspects = f.engine.take_energy_suspect_sessions()
    assert [(s.charger, s.connector, s.transaction_id, s.id_tag) for s in suspects] == [
        ("CP-2", 1, "77", "TAG-M")]
    assert f.engine.take_energy_suspect_sessions() == []  # drained


def test_meter_failure_without_a_session_flags_nothing() -> None:
    f = Feed(engine())
    d = f.fault("CP-2", 1, 300, error="PowerMeterFailure")
    assert d.rule == "meter_failure"
    assert f.engine.take_energy_suspect_sessions() == []


def test_reader_failure_keeps_the_port_usable_by_remote_start() -> None:
    f = Feed(engine())
    d = f.fault("CP-3", 1, 0, error="ReaderFailure")
    assert (d.rule, d.category, d.severity) == ("reader_failure", "reader", "degraded")
    assert "remote" in d.action.lower() and "replace" in d.action.lower()


def test_faulted_with_no_error_and_no_codes_is_an_honest_unknown() -> None:
    f = Feed(engine())
    d = f.fault("CP-4", 1, 0, error="NoError")
    assert (d.rule, d.category) == ("no_information", "unknown")
    assert d.confidence <= 0.3
    assert "log" in d.action and "reset" in d.action.lower()


def test_seed_message_with_nothing_to_go_on_is_no_information() -> None:
    f = Feed(engine())
    d = f.fault("CP-4", 1, 0, error="OtherError", code="Error(s) occurred in EVSE",
                info="See logging for more information")
    assert (d.rule, d.category) == ("no_information", "unknown")
    assert d.confidence <= 0.3
    assert any("Error(s) occurred in EVSE" in e and "says nothing" in e for e in d.evidence)


def test_unknown_vendor_code_is_unknown_and_recorded_for_the_kb() -> None:
    f = Feed(engine())
    f.boot("CP-5", "Alfen BV", "NG910-60023", 0, firmware="6.1.0")
    d = f.fault("CP-5", 1, 4000, error="OtherError", code="9999")
    assert d.category == "unknown" and d.confidence <= 0.3 and d.rule == "unknown_code"
    sightings = f.engine.recent_unknown_codes()
    assert [(s.vendor, s.model, s.firmware, s.code) for s in sightings] == [
        ("Alfen", "NG910-60023", "6.1.0", "9999")]
    assert f.engine.recent_unknown_codes() == []


def test_known_vendor_code_uses_the_manual_entry() -> None:
    f = Feed(engine())
    f.boot("CP-6", "Alfen BV", "NG910-60023", 0)
    d = f.fault("CP-6", 1, 4000, error="OtherError", code="102")
    assert d.rule in ("kb_match", "recurrence")
    assert d.category == "power_switch" and d.confidence >= 0.9
    assert any("Alfen manual entry 102" in e for e in d.evidence)
    assert f.engine.recent_unknown_codes() == []


def test_standard_code_only() -> None:
    f = Feed(engine())
    d = f.fault("CP-7", 1, 0, error="HighTemperature")
    assert (d.rule, d.category) == ("standard_code", "high_temperature")
    assert 0.4 <= d.confidence <= 0.7


def test_error_code_with_a_working_status_is_not_an_outage() -> None:
    f = Feed(engine())
    f.status("CP-7", 1, "Charging", 0, error="HighTemperature")
    d = f.diagnoses[-1]
    assert d.category == "high_temperature" and d.severity in ("degraded", "advisory")
    assert any("stayed Charging" in e for e in d.evidence)


def test_invalid_error_code_is_read_as_other_error_with_evidence() -> None:
    f = Feed(engine())
    d = f.fault("CP-8", 1, 0, error="Error", vendor_id="Legrand")
    assert d.category == "unknown"
    assert any('errorCode "Error" is not a standard' in e for e in d.evidence)


def test_hostile_vendor_text_is_kept_capped_and_never_crashes() -> None:
    f = Feed(engine())
    nasty = "<!channel> <https://evil.example|click> @here \u202e\u0000" + "x" * 400
    d = f.fault("CP-9", 1, 0, error="OtherError", code="<!channel>", info=nasty[:49],
                vendor_id="@here" * 40)
    assert d.category == "unknown"
    assert all(len(e) < 1000 for e in d.evidence)
    assert any("<!channel>" in e for e in d.evidence)  # verbatim: escaping is display's job
    assert not any("\x00" in e for e in d.evidence)


def test_duplicate_fault_frame_is_diagnosed_once() -> None:
    f = Feed(engine())
    f.fault("CP-1", 1, 0, error="GroundFailure")
    n = len(f.diagnoses)
    # the same line again (a redelivery): same fingerprint, no new diagnosis
    msgs, _ = f.parser.parse_many(read_lines([f.lines[-2].encode()], source="again"))
    assert f.engine.observe(msgs[0]) == []
    assert len(f.diagnoses) == n


def test_silent_charger_after_three_missed_heartbeats_once() -> None:
    f = Feed(engine())
    f.boot("CP-S", "Alfen BV", "NG910-60023", 0, interval=300)
    f.heartbeat("CP-S", 300)
    assert f.engine.tick(T0 + timedelta(seconds=300 + 3 * 300)) == []  # within 3x + grace
    out = f.engine.tick(T0 + timedelta(seconds=300 + 3 * 300 + 121))
    assert len(out) == 1
    d = out[0]
    assert (d.rule, d.category, d.owner, d.connector) == (
        "silent_charger", Category.CONNECTIVITY, Owner.REMOTE_OPERATOR, None)
    assert d.severity is Severity.OUTAGE
    assert any("heartbeat interval 5 min" in e for e in d.evidence)
    assert f.engine.tick(T0 + timedelta(seconds=5000)) == []  # once per silence
    assert [s.charger for s in f.engine.silent_chargers()] == ["CP-S"]
    f.heartbeat("CP-S", 5000)  # it talks again
    assert f.engine.silent_chargers() == []


def test_silent_charger_default_interval_is_an_hour() -> None:
    f = Feed(engine())
    f.heartbeat("CP-Q", 0)
    assert f.engine.tick(T0 + timedelta(hours=3)) == []
    assert len(f.engine.tick(T0 + timedelta(hours=3, minutes=3))) == 1


def test_estop_in_the_seed_phrasings() -> None:
    f = Feed(engine())
    for i, (code, info) in enumerate([
        ("F400", "EMERGENCY_STOP_BUTTON_1"),
        ("[42300]Emergency stop button pressed", None),
        ("Release emergency button and reset charger", None),
    ]):
        d = f.fault(f"CP-E{i}", 1, i * 100, error="OtherError", code=code, info=info)
        assert (d.rule, d.category, d.owner) == ("estop_phrase", "emergency_stop", "site_staff")
        assert d.severity == "outage" and d.confidence >= 0.7


def test_stop_button_false_friend_is_not_an_estop() -> None:
    f = Feed(engine())
    f.boot("BTC-1", "BTC Power", "EVDSP-150", 0)
    d = f.fault("BTC-1", 1, 4000, error="OtherError", code="STOPBUTTON_PRESSED")
    assert d.category != "emergency_stop" and d.rule != "estop_phrase"
    assert d.suppressed  # the driver's normal stop button: not worth anyone's attention
    g = f.fault("CP-X", 1, 100, error="OtherError", code="STOPBUTTON_PRESSED")  # no boot seen
    assert g.category != "emergency_stop"
