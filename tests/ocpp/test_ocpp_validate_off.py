"""Parser(validate=False), as `faultbot explain` uses it: the same messages without the
schema violations, and nothing else different."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from bot.ocpp.events import LineError, Message, Record
from bot.ocpp.parse import RELABELLED, Parser
from bot.ocpp.readers import read_lines

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _rec(frame: Any, ocpp: str | None = "1.6", direction: str = "in") -> Record:
    # a copy: the schema check may write defaults into the payload it is given
    return Record(ts=T0, charger="CP-1", direction=direction, frame=copy.deepcopy(frame),  # type: ignore[arg-type]
                  ocpp=ocpp, source="t", line=1)


def _ok(result: Message | LineError) -> Message:
    assert isinstance(result, Message), result
    return result


def test_schema_violations_are_left_out_and_nothing_else_changes() -> None:
    # an unknown errorCode and an info too long: schema violations when checked (1.6: no
    # defaults, so not checked at all with validate=False)
    frame = [2, "s1", "StatusNotification",
             {"connectorId": 1, "errorCode": "Bogus", "status": "Faulted", "info": "x" * 60}]
    checked = _ok(Parser().parse(_rec(frame)))
    unchecked = _ok(Parser(validate=False).parse(_rec(frame)))
    assert checked.violations, "the payload must break the schema for this test to mean anything"
    assert unchecked.violations == []
    assert unchecked.fingerprint == checked.fingerprint
    assert unchecked.fact == checked.fact
    assert unchecked.no_fact == checked.no_fact
    assert unchecked.is_fault_bearing and checked.is_fault_bearing


def test_a_reply_is_not_checked_either() -> None:
    frames = [_rec([2, "b", "BootNotification", {"chargePointVendor": "V",
                                                 "chargePointModel": "M"}]),
              _rec([3, "b", {"status": "Nope", "interval": "x"}], direction="out")]
    for parser, expect_violations in ((Parser(), True), (Parser(validate=False), False)):
        _call, reply = (_ok(parser.parse(r)) for r in frames)
        assert bool(reply.violations) is expect_violations
        assert reply.action == "BootNotification"


def test_relabelling_and_unknown_actions_still_say_so() -> None:
    # A 2.0.1-shaped StatusNotification labelled 1.6: read by its shape, with the violation
    # `faultbot explain` shows; a vendor action: kept without a fact, saying why.
    shaped = [2, "r", "StatusNotification", {"timestamp": "2026-11-20T08:00:00Z",
                                             "connectorStatus": "Faulted", "evseId": 1,
                                             "connectorId": 1}]
    vendor = [2, "v", "VendorThing", {"x": 1}]
    for frame in (shaped, vendor):
        checked = _ok(Parser().parse(_rec(frame)))
        unchecked = _ok(Parser(validate=False).parse(_rec(frame)))
        kept = [v for v in checked.violations if v.startswith((RELABELLED, "unknown action"))]
        assert kept, checked.violations
        assert unchecked.violations == kept
        assert (unchecked.fingerprint, unchecked.ocpp_version, unchecked.fact) == (
            checked.fingerprint, checked.ocpp_version, checked.fact)


def test_a_fleet_log_parses_the_same_but_for_schema_violations() -> None:
    from bot.sample.fleet import generate_fleet_lines

    lines = list(generate_fleet_lines(20, hours=6, seed=3))[:3000]
    checked, errors_a = Parser().parse_many(read_lines(lines, source="f"))
    unchecked, errors_b = Parser(validate=False).parse_many(read_lines(lines, source="f"))
    assert [e.reason for e in errors_a] == [e.reason for e in errors_b]
    assert [(m.fingerprint, m.payload, m.fact, m.no_fact, m.ocpp_version) for m in checked] == [
        (m.fingerprint, m.payload, m.fact, m.no_fact, m.ocpp_version) for m in unchecked]
    for a, b in zip(checked, unchecked, strict=True):
        assert set(b.violations) <= set(a.violations)


def test_a_schema_with_defaults_is_still_checked() -> None:
    # fastjsonschema writes `offline`'s default (false) into a TransactionEvent without
    # one; the fingerprint (a stored contract) and the fact are taken after that.
    frame = [2, "t", "TransactionEvent", {
        "eventType": "Started", "timestamp": "2026-11-20T08:00:00Z",
        "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "x"},
        "evse": {"id": 1, "connectorId": 1}}]
    checked = _ok(Parser().parse(_rec(frame, ocpp="2.0.1")))
    unchecked = _ok(Parser(validate=False).parse(_rec(frame, ocpp="2.0.1")))
    assert checked.payload["offline"] is False
    assert "offline" not in frame[3]
    assert unchecked.payload == checked.payload
    assert unchecked.fingerprint == checked.fingerprint
    assert unchecked.fact == checked.fact
