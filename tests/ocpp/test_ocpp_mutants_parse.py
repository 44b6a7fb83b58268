"""Parser edges (found by mutation testing): the exact reason for each refused frame, the
limits to the character and to the second, version aliases and shapes, and the helpers
that judge a refused frame (was it a fault?) and quote it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.ocpp.events import LineError, Message, Record
from bot.ocpp.parse import (
    Parser,
    charger_problem,
    fault_bearing_frame,
    fingerprint,
    normalize_version,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def rec(frame: Any, **kw: Any) -> Record:
    fields: dict[str, Any] = {"ts": T0, "charger": "CP-1", "direction": "in", "frame": frame,
                              "source": "edge.jsonl", "line": 7}
    fields.update(kw)
    return Record(**fields)


def refused(frame: Any, **kw: Any) -> LineError:
    got = Parser().parse(rec(frame, **kw))
    assert isinstance(got, LineError), got
    assert (got.source, got.line) == ("edge.jsonl", 7)
    return got


def parsed(frame: Any, parser: Parser | None = None, **kw: Any) -> Message:
    got = (parser or Parser()).parse(rec(frame, **kw))
    assert isinstance(got, Message), got
    return got


# --- refusals and their reasons --------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"a": 1}, "not an OCPP-J frame: expected a JSON array, got an object"),
        ("text", "not an OCPP-J frame: expected a JSON array, got a string"),
        (None, "not an OCPP-J frame: expected a JSON array, got null"),
        (True, "not an OCPP-J frame: expected a JSON array, got a boolean"),
        (3.5, "not an OCPP-J frame: expected a JSON array, got a number"),
        ([2, "x"], "not an OCPP-J frame: 2 elements, need 3 to 5"),
        ([], "not an OCPP-J frame: 0 elements, need 3 to 5"),
        ([5, "x", {}], "message type id 5 is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)"),
        (["2", "x", {}], "message type id '2' is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)"),
        ([True, "x", {}],
         "message type id True is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)"),
        ([2, "", "Heartbeat", {}], "missing unique id (2nd element must be a non-empty string)"),
        ([2, 17, "Heartbeat", {}], "missing unique id (2nd element must be a non-empty string)"),
        ([2, "u" * 201, "Heartbeat", {}], "unique id is 201 chars, max 200"),
        ([2, "x", "Heartbeat"], "CALL frame has 3 elements, expected 4"),
        ([2, "x", "Heartbeat", {}, {}], "CALL frame has 5 elements, expected 4"),
        ([2, "x", "Heart beat", {}], "CALL action 'Heart beat' is not an action name"),
        ([2, "x", "9Lives", {}], "CALL action '9Lives' is not an action name"),
        ([2, "x", "A" * 65, {}], "CALL action '" + "A" * 36 + "... is not an action name"),
        ([2, "x", 42, {}], "CALL action 42 is not an action name"),
        ([2, "x", "Heartbeat", []], "Heartbeat payload is an array, not a JSON object"),
        ([3, "x", {}, {}], "CALLRESULT frame has 4 elements, expected 3"),
        ([3, "x", "ok"], "CALLRESULT payload is a string, not a JSON object"),
        ([4, "x", "GenericError"], "CALLERROR frame has 3 elements, expected 5"),
    ],
)
def test_each_refusal_says_why(frame: Any, reason: str) -> None:
    assert refused(frame).reason == reason


def test_longest_names_and_ids_that_are_still_accepted() -> None:
    assert list(parsed([2, "u" * 200, "Heartbeat", {}]).violations) == [
        "unique id: 200 chars, max 36"
    ]
    assert list(parsed([2, "u" * 36, "Heartbeat", {}]).violations) == []
    assert list(parsed([2, "u" * 37, "Heartbeat", {}]).violations) == [
        "unique id: 37 chars, max 36"
    ]
    assert parsed([2, "x", "A" * 64, {}]).action == "A" * 64
    assert parsed([2, "x", "a_1", {}]).action == "a_1"


@pytest.mark.parametrize(
    ("direction", "reason"),
    [("sideways", "direction 'sideways' is not 'in' or 'out'"),
     ("", "direction '' is not 'in' or 'out'")],
)
def test_direction_must_be_in_or_out(direction: str, reason: str) -> None:
    assert refused([2, "x", "Heartbeat", {}], direction=direction).reason == reason
    assert parsed([3, "x", {}], direction="out").direction == "out"


def test_unknown_declared_version_is_refused_for_every_kind() -> None:
    for frame in ([2, "x", "Heartbeat", {}], [3, "x", {}], [4, "x", "GenericError", "", {}]):
        assert refused(frame, ocpp="9.9").reason == "unknown OCPP version '9.9'"


def test_excerpt_of_a_refused_frame() -> None:
    assert refused([9, "x", {}], raw='[9, "x", {}]').excerpt == '[9, "x", {}]'
    assert refused([9, "x", {}]).excerpt == '[9,"x",{}]'
    assert refused([9, "x" * 100, {}]).excerpt == '[9,"' + "x" * 56
    assert refused([9, "a\nb", {}]).excerpt == '[9,"a\\nb",{}]'
    assert refused([9, "x", {}], raw="[9,\t1]").excerpt == "[9,\\t1]"


def test_a_refused_fault_report_is_flagged() -> None:
    faulted = [2, "x", "StatusNotification", {"status": "Faulted", "connectorId": 1}]
    err = refused(faulted, charger="")
    assert err.reason == "charger id is empty" and err.fault
    assert not refused([2, "x", "Heartbeat", {}], charger="").fault


# --- charger ids -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charger", "problem"),
    [
        (None, "charger id None is not text"),
        (17, "charger id 17 is not text"),
        ("", "charger id is empty"),
        ("CP 1", "charger id 'CP 1' has whitespace"),
        ("CP\t1", "charger id 'CP\\t1' has whitespace"),
        ("CP\x001", "charger id 'CP\\x001' has control characters"),
        ("site/CP-1", "charger id 'site/CP-1' has '/'"),
        ("C" * 201, "charger id '" + "C" * 37 + "'... is 201 chars, max 200"),
        ("C" * 41 + " ", "charger id '" + "C" * 37 + "'... has whitespace"),
        ("C" * 39 + " ", "charger id '" + "C" * 39 + " ' has whitespace"),
    ],
)
def test_charger_problems(charger: Any, problem: str) -> None:
    assert charger_problem(charger) == problem


@pytest.mark.parametrize("charger", ["CP-1", "C" * 200, "ÉVSE-7", "a.b_c:d"])
def test_good_charger_ids(charger: str) -> None:
    assert charger_problem(charger) is None


def test_a_charger_id_is_checked_again_after_the_cache_is_full() -> None:
    parser = Parser(charger_limit=2)
    for c in ("A", "B", "C"):
        assert isinstance(parser.parse(rec([2, "x", "Heartbeat", {}], charger=c)), Message)
    assert isinstance(parser.parse(rec([2, "x", "Heartbeat", {}], charger="D E")), LineError)


# --- versions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "version"),
    [("1.6", "1.6"), ("1.6j", "1.6"), ("1.6-J", "1.6"), ("16", "1.6"), (" OCPP1.6J ", "1.6"),
     ("ocpp1.6", "1.6"), ("2.0", "2.0.1"), ("201", "2.0.1"), ("OCPP2.0.1", "2.0.1"),
     ("ocpp2.0", "2.0.1"), ("2.1", "2.1"), ("21", "2.1"), ("Ocpp2.1", "2.1"), (16, "1.6"),
     ("ocpp21", "2.1"), ("3.0", None), ("", None), ("ocpp", None)],
)
def test_normalize_version(declared: Any, version: str | None) -> None:
    assert normalize_version(declared) == version


def test_declared_alias_is_used_and_not_inferred() -> None:
    m = parsed([2, "x", "Heartbeat", {}], ocpp="ocpp2.0.1")
    assert (m.ocpp_version, m.version_inferred) == ("2.0.1", False)


def test_a_boot_notification_sets_the_version_for_later_frames() -> None:
    parser = Parser()
    boot = [2, "b", "BootNotification",
            {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}]
    assert parsed(boot, parser).ocpp_version == "2.0.1"
    assert parsed([2, "h", "Heartbeat", {}], parser).ocpp_version == "2.0.1"
    assert parsed([2, "h", "Heartbeat", {}], parser, charger="CP-2").ocpp_version == "1.6"


def test_a_declared_version_is_remembered_for_replies_without_their_call() -> None:
    parser = Parser()
    parsed([2, "h", "Heartbeat", {}], parser, ocpp="2.1")
    reply = parsed([3, "never-sent", {}], parser, direction="out")
    assert (reply.ocpp_version, reply.version_inferred) == ("2.1", True)


def test_a_16_shaped_status_labelled_2x_is_read_as_16() -> None:
    status = [2, "s", "StatusNotification",
              {"connectorId": 1, "errorCode": "NoError", "status": "Available"}]
    m = parsed(status, ocpp="2.0.1")
    assert (m.ocpp_version, m.version_inferred) == ("1.6", True)
    assert m.violations[0] == "labelled OCPP 2.0.1 but shaped like 1.6: read as 1.6"


def test_a_notify_event_labelled_16_is_read_as_2x() -> None:
    event = [2, "e", "NotifyEvent", {"generatedAt": "2026-11-20T08:00:00Z", "seqNo": 0,
                                     "eventData": []}]
    m = parsed(event, ocpp="1.6")
    assert m.ocpp_version == "2.0.1" and m.version_inferred
    assert m.violations[0] == "labelled OCPP 1.6 but shaped like 2.0.1: read as 2.0.1"


@pytest.mark.parametrize(
    ("action", "payload", "version"),
    [("Authorize", {"idTag": "ABC"}, "1.6"),
     ("Authorize", {"idToken": {"idToken": "ABC", "type": "ISO14443"}}, "2.0.1"),
     ("MeterValues", {"connectorId": 1, "meterValue": []}, "1.6"),
     ("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}, "1.6"),
     ("TransactionEvent", {}, "2.0.1"),
     ("NotifyEvent", {"eventData": [{"severity": 1}]}, "2.1"),
     ("Heartbeat", {}, "1.6")],
)
def test_version_from_the_shape(action: str, payload: dict[str, Any], version: str) -> None:
    m = parsed([2, "x", action, payload])
    assert (m.ocpp_version, m.version_inferred) == (version, True)


# --- times -----------------------------------------------------------------------------


def status_at(stamp: str) -> list[Any]:
    return [2, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                            "status": "Available", "timestamp": stamp}]


@pytest.mark.parametrize(
    ("stamp", "occurred", "violation"),
    [
        ("2026-11-21T08:00:00Z", T0 + timedelta(hours=24), None),  # exactly 24 h ahead
        ("2026-11-21T08:00:01Z", T0, "timestamp 2026-11-21T08:00:01Z is 1 day in the "
                                     "future; using the CSMS time"),
        ("2026-10-21T08:00:00Z", T0 - timedelta(days=30), None),  # exactly 30 days back
        ("2026-10-21T07:59:59Z", T0, "timestamp 2026-10-21T07:59:59Z is 30 days before "
                                     "the CSMS time; using the CSMS time"),
        ("2026-11-20T07:59:58", T0 - timedelta(seconds=2),
         "timestamp has no time zone; assumed UTC"),
    ],
)
def test_payload_time_limits_to_the_second(
    stamp: str, occurred: datetime, violation: str | None
) -> None:
    m = parsed(status_at(stamp))
    assert m.occurred_at == occurred
    assert list(m.violations) == ([violation] if violation else [])


def test_a_bad_payload_time_falls_back_with_the_reason() -> None:
    m = parsed(status_at("yesterday"))
    assert m.occurred_at == T0
    assert len(m.violations) == 1 and m.violations[0].endswith("; using the CSMS time")


def test_generated_at_and_meter_values_time() -> None:
    event = [2, "e", "NotifyEvent", {"generatedAt": "2026-11-20T07:58:00Z", "seqNo": 0,
                                     "eventData": []}]
    assert parsed(event).occurred_at == T0 - timedelta(minutes=2)
    meter = [2, "m", "MeterValues", {"connectorId": 1, "meterValue": [
        {"timestamp": "2026-11-20T07:55:00Z", "sampledValue": [{"value": "1"}]},
        {"timestamp": "2026-11-20T07:57:00Z", "sampledValue": [{"value": "2"}]}]}]
    assert parsed(meter).occurred_at == T0 - timedelta(minutes=5)
    empty = [2, "m", "MeterValues", {"connectorId": 1, "meterValue": []}]
    assert parsed(empty).occurred_at == T0


def test_a_naive_csms_time_is_read_as_utc_and_said() -> None:
    naive = T0.replace(tzinfo=None)
    for frame in ([2, "h", "Heartbeat", {}], [3, "r", {}], [4, "e", "GenericError", "", {}]):
        m = parsed(frame, ts=naive)
        assert m.ts == T0 and m.occurred_at == T0
        assert "CSMS time has no time zone; assumed UTC" in m.violations


# --- replies and errors ----------------------------------------------------------------


def test_callerror_details_shapes() -> None:
    four = parsed([4, "e", "GenericError", "boom"])
    assert list(four.violations) == ["CALLERROR without errorDetails"] and four.payload == {}
    odd = parsed([4, "e", "GenericError", "boom", [1]])
    assert list(odd.violations) == ["CALLERROR details are an array, not a JSON object"]
    fine = parsed([4, "e", "GenericError", "boom", {"why": "x"}])
    assert list(fine.violations) == [] and fine.payload == {"why": "x"}


def test_a_reply_takes_its_calls_action_once() -> None:
    parser = Parser()
    parsed([2, "a1", "Heartbeat", {}], parser)
    assert parsed([3, "a1", {"currentTime": "2026-11-20T08:00:00Z"}], parser,
                  direction="out").action == "Heartbeat"
    assert parsed([3, "a1", {}], parser, direction="out").action is None  # already answered


def test_a_reply_to_another_charger_is_not_correlated() -> None:
    parser = Parser()
    parsed([2, "a1", "Heartbeat", {}], parser)
    assert parsed([3, "a1", {}], parser, charger="CP-2", direction="out").action is None


def test_the_oldest_open_call_is_forgotten_first() -> None:
    parser = Parser(pending_limit=2)
    for uid in ("u1", "u2", "u3"):
        parsed([2, uid, "Heartbeat", {}], parser)
    assert parsed([3, "u1", {}], parser, direction="out").action is None
    assert parsed([3, "u2", {}], parser, direction="out").action == "Heartbeat"


def test_a_reply_uses_the_feeds_action_hint_without_its_call() -> None:
    m = parsed([3, "zz", {"currentTime": "2026-11-20T08:00:00Z"}], direction="out",
               action_hint="Heartbeat")
    assert m.action == "Heartbeat"


# --- fingerprints and faults -----------------------------------------------------------


def test_fingerprint_ignores_key_order_and_notes_charger_and_direction() -> None:
    a = fingerprint("CP-1", "in", [2, "x", "A", {"b": 1, "a": 2}])
    assert a == fingerprint("CP-1", "in", [2, "x", "A", {"a": 2, "b": 1}])
    assert a != fingerprint("CP-2", "in", [2, "x", "A", {"a": 2, "b": 1}])
    assert a != fingerprint("CP-1", "out", [2, "x", "A", {"a": 2, "b": 1}])
    assert len(a) == 32 and int(a, 16) >= 0


@pytest.mark.parametrize(
    "frame",
    [[2, "x", "Heartbeat", {}], [3, "x", {}], [3, "x", {"currentTime": "t"}],
     [2, "x", "A", {"k": "v"}], [2, "x", "A", {"k": 1}], [2, "x", "A", {"b": "1", "a": "2"}],
     [2, 'q"x', "A", {}], [3, "x", {"k": 'a"b'}], [3, "x", {"k": "é"}], [3, "x", {"k\n": "v"}],
     [4, "x", "GenericError", "", {}]],
)
def test_message_fingerprint_is_the_canonical_one(frame: list[Any]) -> None:
    m = parsed(frame)
    assert m.fingerprint == fingerprint("CP-1", "in", frame)


@pytest.mark.parametrize(
    ("frame", "fault"),
    [
        ([2, "x", "StatusNotification", {"status": "Faulted"}], True),
        ([2, "x", "StatusNotification", {"connectorStatus": "Faulted"}], True),
        ([2, "x", "StatusNotification", {"errorCode": "GroundFailure", "status": "Available"}],
         True),
        ([2, "x", "StatusNotification", {"errorCode": "NoError", "status": "Available"}], False),
        ([2, "x", "StatusNotification", {"errorCode": "GroundFailure"}], False),
        ([2, "x", "StatusNotification", {"errorCode": 5, "status": "Available"}], False),
        ([2, "x", "NotifyEvent", {"eventData": [{"variable": {"name": "Problem"}}]}], True),
        ([2, "x", "NotifyEvent", {"eventData": [{"variable": {"name": "Power"}}]}], False),
        ([2, "x", "NotifyEvent", {"eventData": [{"variable": "Problem"}]}], False),
        ([2, "x", "NotifyEvent", {"eventData": {"variable": {"name": "Problem"}}}], False),
        ([2, "x", "StatusNotification", ["Faulted"]], False),
        ([3, "x", "StatusNotification", {"status": "Faulted"}], False),
        ([2, "x", "StatusNotification", {"status": "Faulted"}, {}], False),
        ("Faulted", False),
        ([2, "x", "Heartbeat", {"status": "Faulted"}], False),
    ],
)
def test_fault_bearing_frame(frame: Any, fault: bool) -> None:
    assert fault_bearing_frame(frame) is fault
