"""Which OCPP version a frame is read as when the line does not say, and how replies
(CALLRESULT, CALLERROR) inherit action and version from the call they answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.ocpp.events import LineError, Message, Record
from bot.ocpp.parse import Parser, _compact_encoder, normalize_version

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def record(frame: list[Any], ocpp: str | None = None, direction: str = "in",
           charger: str = "CP-1") -> Record:
    return Record(ts=T0, charger=charger, direction=direction, frame=frame, ocpp=ocpp)


def message(parser: Parser, frame: list[Any], ocpp: str | None = None,
            direction: str = "in") -> Message:
    m = parser.parse(record(frame, ocpp, direction))
    assert isinstance(m, Message), m
    return m


@pytest.mark.parametrize(
    ("action", "payload", "version"),
    [
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                "status": "Available"}, "1.6"),
        ("StatusNotification", {"timestamp": "2026-11-20T07:59:00Z", "connectorStatus":
                                "Available", "evseId": 1, "connectorId": 1}, "2.0.1"),
        ("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}, "1.6"),
        ("BootNotification", {"reason": "PowerUp", "chargingStation":
                              {"model": "X1", "vendorName": "Acme"}}, "2.0.1"),
        ("MeterValues", {"connectorId": 1, "meterValue": []}, "1.6"),
        ("MeterValues", {"evseId": 1, "meterValue": []}, "2.0.1"),
        ("Authorize", {"idTag": "T1"}, "1.6"),
        ("Authorize", {"idToken": {"idToken": "T1", "type": "ISO14443"}}, "2.0.1"),
        ("TransactionEvent", {"eventType": "Started"}, "2.0.1"),
        ("NotifyEvent", {"generatedAt": "2026-11-20T07:59:00Z", "seqNo": 0, "eventData": []},
         "2.0.1"),
        ("NotifyEvent", {"generatedAt": "2026-11-20T07:59:00Z", "seqNo": 0, "eventData": [
            {"eventId": 1, "severity": 2}]}, "2.1"),
        ("Heartbeat", {}, "1.6"),  # the shape says nothing: the default
    ],
)
def test_version_inferred_from_the_shape(action: str, payload: dict[str, Any],
                                         version: str) -> None:
    m = message(Parser(), [2, "u1", action, payload])
    assert (m.ocpp_version, m.version_inferred) == (version, True)


def test_a_declared_version_is_not_inferred() -> None:
    m = message(Parser(), [2, "u1", "Heartbeat", {}], ocpp="2.0.1")
    assert (m.ocpp_version, m.version_inferred) == ("2.0.1", False)


def test_a_chargers_known_version_carries_to_shapeless_frames() -> None:
    parser = Parser()
    message(parser, [2, "u1", "BootNotification", {"reason": "PowerUp", "chargingStation":
                                                     {"model": "X1", "vendorName": "Acme"}}])
    assert message(parser, [2, "u2", "Heartbeat", {}]).ocpp_version == "2.0.1"


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("1.6", "1.6"), ("ocpp1.6", "1.6"), (" OCPP2.0.1 ", "2.0.1"), ("2.1", "2.1"),
     ("ocpp2.1", "2.1"), ("3.0", None), ("", None), (None, None)],
)
def test_normalize_version(declared: Any, expected: str | None) -> None:
    assert normalize_version(declared) == expected


def test_a_result_takes_action_and_version_from_its_call() -> None:
    parser = Parser()
    call = message(parser, [2, "b1", "BootNotification", {"reason": "PowerUp",
                   "chargingStation": {"model": "X1", "vendorName": "Acme"}}])
    assert call.ocpp_version == "2.0.1"
    reply = message(parser, [3, "b1", {"currentTime": "2026-11-20T08:00:00Z",
                                       "interval": 300, "status": "Accepted"}], direction="out")
    assert (reply.action, reply.ocpp_version, reply.version_inferred) == (
        "BootNotification", "2.0.1", True)
    assert reply.violations == []
    # The call is used up: a second reply with that id knows nothing of it.
    again = message(parser, [3, "b1", {"status": "Accepted"}], direction="out")
    assert again.action is None and again.ocpp_version == "2.0.1"


def test_a_result_checks_its_payload_against_the_response_schema() -> None:
    parser = Parser()
    message(parser, [2, "b1", "BootNotification", {"chargePointVendor": "A",
                                                   "chargePointModel": "M"}], ocpp="1.6")
    reply = message(parser, [3, "b1", {"status": "Maybe"}], ocpp="1.6", direction="out")
    assert reply.action == "BootNotification" and reply.violations, reply


def test_an_orphan_result_defaults_to_1_6_inferred() -> None:
    reply = message(Parser(), [3, "zz", {}], direction="out")
    assert (reply.action, reply.ocpp_version, reply.version_inferred) == (None, "1.6", True)


@pytest.mark.parametrize("kind", [3, 4])
def test_a_reply_with_an_unknown_declared_version_is_rejected(kind: int) -> None:
    frame: list[Any] = [3, "u1", {}] if kind == 3 else [4, "u1", "InternalError", "x", {}]
    out = Parser().parse(record(frame, ocpp="9.9"))
    assert isinstance(out, LineError) and out.reason == "unknown OCPP version '9.9'"


def test_a_call_error_takes_action_and_version_from_its_call() -> None:
    parser = Parser()
    message(parser, [2, "r1", "Reset", {"type": "Hard"}], ocpp="1.6", direction="out")
    err = message(parser, [4, "r1", "NotSupported", "no reset here", {}])
    assert (err.action, err.ocpp_version, err.version_inferred) == ("Reset", "1.6", False)
    declared = message(parser, [4, "r2", "InternalError", "", {}], ocpp="2.0.1")
    assert (declared.action, declared.ocpp_version, declared.version_inferred) == (
        None, "2.0.1", False)
    orphan = message(Parser(), [4, "r3", "InternalError", "", {}])
    assert (orphan.action, orphan.ocpp_version, orphan.version_inferred) == (None, "1.6", True)


@pytest.mark.parametrize(
    "value",
    [{"b": 1, "a": [1, 2.5, None, True]}, {"ü": "Größe ✓", "q": "\"quoted\"\n"}, [], "x", 3],
)
def test_the_fast_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    for sort in (True, False):
        expected = json.dumps(value, separators=(",", ":"), sort_keys=sort, ensure_ascii=False)
        assert _compact_encoder(sort)(value) == expected


def test_the_fast_encoder_refuses_what_is_not_json() -> None:
    with pytest.raises(TypeError, match="set is not JSON"):
        _compact_encoder(True)({"a": {1, 2}})


def rejected(frame: Any, raw: str = "") -> LineError:
    out = Parser().parse(Record(ts=T0, charger="CP-1", direction="in", frame=frame, raw=raw,
                                source="feed.jsonl", line=7))
    assert isinstance(out, LineError), out
    return out


@pytest.mark.parametrize(
    ("payload", "said"),
    [(5, "a number"), (2.5, "a number"), (None, "null"), (True, "a boolean"),
     ("x", "a string"), ([1], "an array"), ({1, 2}, "set")],
)
def test_a_payload_that_is_not_an_object_is_named_for_what_it_is(payload: Any,
                                                                 said: str) -> None:
    err = rejected([2, "u1", "Heartbeat", payload])
    assert err.reason == f"Heartbeat payload is {said}, not a JSON object"
    assert (err.source, err.line) == ("feed.jsonl", 7)


def test_rejections_carry_a_short_printable_excerpt() -> None:
    # From the raw text when there is one, else a compact dump, else a repr.
    raw = '{"frame": "' + "x" * 100 + '"}'
    assert rejected({"frame": "x" * 100}, raw=raw).excerpt == raw[:60]
    assert rejected({"a": 1}).excerpt == '{"a":1}'
    long = rejected({"a": "y" * 100}).excerpt
    assert long == '{"a":"' + "y" * 54
    # Only in-process callers can hand over what JSON cannot hold (here a set).
    odd = rejected([2, "u1", "Heartbeat", {1, 2}]).excerpt
    assert odd == repr([2, "u1", "Heartbeat", {1, 2}])
    big_odd = rejected([2, "u1", "Heartbeat" + "z" * 80, {1, 2}]).excerpt
    assert len(big_odd) == 60 and big_odd.endswith("...")
    control = rejected({"a": 1}, raw='{"a":\x00\x1b\n1}').excerpt
    assert control == '{"a":\\x00\\x1b\\n1}'


def test_one_bad_record_does_not_stop_the_others() -> None:
    good = record([2, "u1", "Heartbeat", {}])
    bad = record([9])
    messages, errors = Parser().parse_many([bad, good, bad, good])
    assert len(messages) == 2 and len(errors) == 2
    assert all(isinstance(e, LineError) and "1 elements" in e.reason for e in errors)


def test_the_shaped_actions_are_the_ones_the_shape_rules_read() -> None:
    """parse._SHAPED lets a CALL skip the shape check; it must name every action whose
    shape says something, or a relabelling would be missed."""
    from bot.ocpp.parse import _SHAPED, _shape_family
    from bot.ocpp.schemas import known_actions

    every_key: dict[str, Any] = {k: 1 for k in (
        "connectorStatus", "evseId", "errorCode", "status", "chargingStation",
        "chargePointVendor", "chargePointModel", "connectorId", "idToken", "idTag")}
    every_key["eventData"] = [{"severity": 1}]
    actions = known_actions("1.6") | known_actions("2.0.1") | known_actions("2.1")
    says = {a for a in actions | {"VendorThing"} for p in ({}, every_key)
            if _shape_family(a, p) is not None}
    assert says == set(_SHAPED)
