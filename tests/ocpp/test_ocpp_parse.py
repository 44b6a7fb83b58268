"""The parser: frame checks, versions, correlation, violations, timestamps, fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.ocpp.events import (
    BootInfo,
    BootReply,
    CallError,
    LineError,
    Message,
    Record,
    StatusReport,
    TransactionUpdate,
)
from bot.ocpp.parse import Parser, fingerprint
from bot.ocpp.readers import read_json_objects, read_lines

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def rec(
    frame: Any,
    *,
    charger: str = "CP-1",
    direction: str = "in",
    ocpp: str | None = None,
    ts: datetime = T0,
    line: int = 1,
) -> Record:
    return Record(
        ts=ts,
        charger=charger,
        direction=direction,
        frame=frame,  # type: ignore[arg-type]
        ocpp=ocpp,
        source="t",
        line=line,
    )


def status16(**over: Any) -> dict[str, Any]:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    payload.update(over)
    return {k: v for k, v in payload.items() if v is not None}


def ok(result: Message | LineError) -> Message:
    assert isinstance(result, Message), result
    return result


def err(result: Message | LineError) -> str:
    assert isinstance(result, LineError), result
    return result.reason


# --- frames that are not frames -------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"connectorId": 1}, "not an OCPP-J frame: expected a JSON array, got an object"),
        ("hello", "not an OCPP-J frame: expected a JSON array, got a string"),
        ([2, "x"], "not an OCPP-J frame: 2 elements, need 3 to 5"),
        ([5, "x", "Heartbeat", {}], "message type id 5 is not 2 (CALL), 3 (CALLRESULT) or 4"),
        ([True, "x", {}], "message type id True is not 2"),
        ([2, "", "Heartbeat", {}], "missing unique id"),
        ([2, 17, "Heartbeat", {}], "missing unique id"),
        ([2, "x", "Heart beat!", {}], "CALL action 'Heart beat!' is not an action name"),
        ([2, "x", 42, {}], "CALL action 42 is not an action name"),
        ([2, "x", "StatusNotification", "Faulted"], "StatusNotification payload is a string"),
        ([2, "x", "Heartbeat", {}, {}], "CALL frame has 5 elements, expected 4"),
        ([3, "x", []], "CALLRESULT payload is an array"),
        ([4, "x", "InternalError"], "CALLERROR frame has 3 elements, expected 5"),
    ],
)
def test_not_a_frame(frame: Any, reason: str) -> None:
    assert err(Parser().parse(rec(frame))).startswith(reason)


@pytest.mark.parametrize(
    ("charger", "reason"),
    [
        ("CP\x00", "charger id 'CP\\x00' has control characters"),
        ("CP 1", "charger id 'CP 1' has whitespace"),
        ("site/CP1", "charger id 'site/CP1' has '/'"),
        ("", "charger id is empty"),
        ("C" * 201, "is 201 chars, max 200"),
    ],
)
def test_odd_charger_ids(charger: str, reason: str) -> None:
    assert reason in err(Parser().parse(rec([2, "x", "Heartbeat", {}], charger=charger)))


def test_good_lines_around_bad_ones_survive() -> None:
    lines = [
        b'{"ts":"2026-11-20T08:00:00Z","charger":"A","dir":"in","frame":[2,"1","Heartbeat",{}]}',
        b'{"ts":"2026-11-20T08:00:01Z","charger":"A","dir":"in","frame":[9,"2","Heartbeat",{}]}',
        b'{"ts":"2026-11-20T08:00:02Z","charger":"A","dir":"in","frame":[2,"3","Heartbeat",{}],'
        b'"ocpp":"3.0"}',
        b'{"ts":"2026-11-20T08:00:03Z","charger":"A","dir":"in","frame":[2,"4","Heartbeat",{}]}',
    ]
    messages, errors = Parser().parse_many(read_lines(lines, source="f"))
    assert [m.line for m in messages] == [1, 4]
    assert [(e.line, e.reason) for e in errors] == [
        (2, "message type id 9 is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)"),
        (3, "unknown OCPP version '3.0'"),
    ]


# --- versions ---------------------------------------------------------------------------


def test_declared_version_is_used_and_aliases_accepted() -> None:
    p = Parser()
    m = ok(p.parse(rec([2, "a", "Heartbeat", {}], ocpp="ocpp2.0.1")))
    assert (m.ocpp_version, m.version_inferred) == ("2.0.1", False)
    m = ok(p.parse(rec([2, "b", "Heartbeat", {}], ocpp="1.6J")))
    assert m.ocpp_version == "1.6"


@pytest.mark.parametrize(
    ("action", "payload", "version"),
    [
        (
            "StatusNotification",
            {
                "timestamp": "2026-11-20T08:00:00Z",
                "connectorStatus": "Faulted",
                "evseId": 1,
                "connectorId": 1,
            },
            "2.0.1",
        ),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            "1.6",
        ),
        ("BootNotification", {"chargePointVendor": "ABB", "chargePointModel": "X"}, "1.6"),
        (
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}},
            "2.0.1",
        ),
        ("TransactionEvent", {"eventType": "Started"}, "2.0.1"),
        (
            "NotifyEvent",
            {"generatedAt": "2026-11-20T08:00:00Z", "seqNo": 0, "eventData": []},
            "2.0.1",
        ),
        (
            "NotifyEvent",
            {"generatedAt": "2026-11-20T08:00:00Z", "seqNo": 0, "eventData": [{"severity": 1}]},
            "2.1",
        ),
        ("StartTransaction", {"connectorId": 1}, "1.6"),
        ("NotifyPriorityCharging", {"transactionId": "t", "activated": True}, "2.1"),
        ("Heartbeat", {}, "1.6"),
    ],
)
def test_version_inferred_from_action_and_shape(
    action: str, payload: dict[str, Any], version: str
) -> None:
    m = ok(Parser().parse(rec([2, "x", action, payload])))
    assert (m.ocpp_version, m.version_inferred) == (version, True)


def test_charger_version_remembered_from_its_boot() -> None:
    p = Parser()
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    p.parse(rec([2, "b", "BootNotification", boot], ocpp="2.1"))
    m = ok(p.parse(rec([2, "h", "Heartbeat", {}])))
    assert (m.ocpp_version, m.version_inferred) == ("2.1", True)
    other = ok(p.parse(rec([2, "h", "Heartbeat", {}], charger="CP-2")))
    assert other.ocpp_version == "1.6"


# --- correlation ----------------------------------------------------------------------------


def test_boot_reply_correlates_to_its_call() -> None:
    p = Parser()
    p.parse(rec([2, "42", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]))
    reply = ok(
        p.parse(
            rec(
                [
                    3,
                    "42",
                    {"status": "Rejected", "currentTime": "2026-11-20T08:00:00Z", "interval": 300},
                ],
                direction="out",
            )
        )
    )
    assert reply.action == "BootNotification"
    assert reply.fact == BootReply(status="Rejected", interval=300)
    assert reply.violations == []


def test_start_transaction_result_gives_the_transaction_id() -> None:
    p = Parser()
    start = ok(
        p.parse(
            rec(
                [
                    2,
                    "s",
                    "StartTransaction",
                    {
                        "connectorId": 2,
                        "idTag": "TAG1",
                        "meterStart": 1500,
                        "timestamp": "2026-11-20T08:00:00Z",
                    },
                ]
            )
        )
    )
    assert start.fact == TransactionUpdate(
        kind="start", connector=2, id_tag="TAG1", energy_wh=1500.0
    )
    result = ok(
        p.parse(
            rec(
                [3, "s", {"idTagInfo": {"status": "Accepted"}, "transactionId": 77}],
                direction="out",
            )
        )
    )
    assert result.fact == TransactionUpdate(
        kind="start", connector=2, transaction_id="77", id_tag="TAG1", energy_wh=1500.0
    )


def test_call_error_names_the_failed_action() -> None:
    p = Parser()
    p.parse(rec([2, "c", "ChangeConfiguration", {"key": "K", "value": "1"}], direction="out"))
    m = ok(p.parse(rec([4, "c", "NotSupported", "read-only key", {}])))
    assert m.fact == CallError(
        code="NotSupported", description="read-only key", for_action="ChangeConfiguration"
    )
    assert not m.is_fault_bearing
    orphan = ok(p.parse(rec([4, "zz", "GenericError", "boom"])))
    assert isinstance(orphan.fact, CallError) and orphan.fact.for_action is None
    assert "CALLERROR without errorDetails" in orphan.violations


def test_uncorrelated_result_uses_the_feeds_action_hint() -> None:
    broker = {
        "origin": "csms",
        "action": "BootNotification",
        "state": 2,
        "protocol": "ocpp1.6",
        "context": {
            "stationId": "cs-9",
            "correlationId": "never-seen",
            "timestamp": "2026-11-20T08:00:00Z",
        },
        "payload": {"status": "Accepted", "currentTime": "2026-11-20T08:00:00Z", "interval": 60},
    }
    messages, errors = Parser().parse_many(read_json_objects([broker], source="amqp"))
    assert errors == [] and messages[0].fact == BootReply(status="Accepted", interval=60)


def test_pending_calls_are_bounded() -> None:
    p = Parser(pending_limit=10)
    for i in range(50):
        p.parse(
            rec(
                [2, str(i), "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
            )
        )
    old = ok(p.parse(rec([3, "0", {"status": "Accepted"}], direction="out")))
    new = ok(
        p.parse(
            rec(
                [3, "49", {"status": "Accepted", "currentTime": "x", "interval": 1}],
                direction="out",
            )
        )
    )
    assert old.action is None and new.action == "BootNotification"


# --- violations -----------------------------------------------------------------------------


def test_schema_violations_are_recorded_and_the_message_kept() -> None:
    payload = status16(status="Faulted", errorCode="Error", info="x" * 73, extra="yes")
    m = ok(Parser().parse(rec([2, "v", "StatusNotification", payload], ocpp="1.6")))
    assert "info: 73 chars, max 50" in m.violations
    assert "errorCode: 'Error' is not a standard value" in m.violations
    assert "unexpected field extra" in m.violations
    assert isinstance(m.fact, StatusReport)
    assert m.fact.error_code == "Error" and m.fact.fault_bearing


def test_unusable_connector_id_is_kept_at_the_station_level() -> None:
    # A Faulted report with no usable port still says the charger is faulted (issue 10):
    # it is kept at connector 0 with the problem named, never dropped.
    m = ok(
        Parser().parse(
            rec(
                [2, "v", "StatusNotification", {"errorCode": "OtherError", "status": "Faulted"}],
                ocpp="1.6",
            )
        )
    )
    assert isinstance(m.fact, StatusReport) and m.fact.connector == 0
    assert m.fact.port_problem == "connectorId is missing" and m.is_fault_bearing
    assert "missing required field connectorId" in m.violations
    wrong = ok(
        Parser().parse(rec([2, "w", "StatusNotification", status16(connectorId="1")], ocpp="1.6"))
    )
    assert isinstance(wrong.fact, StatusReport) and wrong.fact.connector == 0
    assert wrong.fact.port_problem == "connectorId '1' is not an integer"
    assert "connectorId: expected integer, got string" in wrong.violations


def test_unknown_action_is_kept_without_fact() -> None:
    m = ok(Parser().parse(rec([2, "u", "VendorDiagnostics", {"blob": 1}], ocpp="1.6")))
    assert m.fact is None and m.violations == ["unknown action VendorDiagnostics in OCPP 1.6"]
    # A 2.x-only action labelled 1.6 is read as what it is (issue 10), with a warning.
    m = ok(Parser().parse(rec([2, "u", "TransactionEvent", {}], ocpp="1.6")))
    assert m.ocpp_version == "2.0.1" and m.version_inferred
    assert "labelled OCPP 1.6 but shaped like 2.0.1: read as 2.0.1" in m.violations


def test_long_vendor_text_is_cut_in_the_fact_only() -> None:
    info = "é" * 812
    m = ok(
        Parser().parse(
            rec(
                [
                    2,
                    "l",
                    "StatusNotification",
                    status16(status="Faulted", errorCode="OtherError", info=info),
                ]
            )
        )
    )
    assert isinstance(m.fact, StatusReport) and m.fact.info == info[:500]
    assert "info: 812 chars, cut to 500 in the fact" in m.violations
    assert info in m.raw


def test_hostile_text_is_kept_verbatim() -> None:
    text = "<!channel> <https://evil.example|click> @here \u202e"
    m = ok(
        Parser().parse(
            rec(
                [
                    2,
                    "h",
                    "StatusNotification",
                    status16(status="Faulted", errorCode="OtherError", vendorErrorCode=text),
                ]
            )
        )
    )
    assert isinstance(m.fact, StatusReport) and m.fact.vendor_error_code == text


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "occurred", "violation"),
    [
        ("2026-11-20T07:59:58Z", T0 - timedelta(seconds=2), None),
        ("2026-11-20T08:59:58+01:00", T0 - timedelta(seconds=2), None),
        ("2026-11-20T07:59:58", T0 - timedelta(seconds=2), "timestamp has no time zone"),
        (
            "2031-01-01T00:00:00Z",
            T0,
            "timestamp 2031-01-01T00:00:00Z is 4 years in the future; using the CSMS time",
        ),
        ("2026-11-21T09:00:00Z", T0, "is 1 day in the future"),
        ("2026-09-01T00:00:00Z", T0, "is 80 days before the CSMS time"),
        ("not a time", T0, "timestamp 'not a time' is not a date-time; using the CSMS time"),
        ("1800-01-01T00:00:00Z", T0, "out of range"),
    ],
)
def test_payload_timestamp_plausibility(
    stamp: str, occurred: datetime, violation: str | None
) -> None:
    m = ok(Parser().parse(rec([2, "t", "StatusNotification", status16(timestamp=stamp)])))
    assert m.occurred_at == occurred
    assert m.ts == T0
    if violation is None:
        assert m.violations == []
    else:
        assert any(violation in v for v in m.violations), m.violations


def test_naive_record_time_is_taken_as_utc() -> None:
    m = ok(Parser().parse(rec([2, "n", "Heartbeat", {}], ts=datetime(2026, 11, 20, 8))))
    assert m.ts == T0 and m.ts.tzinfo is not None


# --- fingerprints -----------------------------------------------------------------------------


def test_same_frame_same_fingerprint_across_feeds() -> None:
    frame = [2, "f", "StatusNotification", status16(status="Faulted", errorCode="OtherError")]
    from_file = list(
        read_lines(
            [
                json.dumps(
                    {"ts": "2026-11-20T08:00:00Z", "charger": "A", "dir": "in", "frame": frame}
                )
            ],
            source="file",
        )
    )
    spaced = json.dumps(frame, indent=2).replace("\n", " ")
    from_log = list(read_lines([f"2026-11-20T08:00:05Z {spaced}"], source="log", charger="A"))
    p = Parser()
    a, b = ok(p.parse(from_file[0])), ok(p.parse(from_log[0]))  # type: ignore[arg-type]
    assert a.fingerprint == b.fingerprint == fingerprint("A", "in", frame)
    assert len(a.fingerprint) == 32
    other = ok(p.parse(rec(frame, charger="B")))
    assert other.fingerprint != a.fingerprint
    assert ok(p.parse(rec(frame, direction="out"))).fingerprint != a.fingerprint


def test_raw_is_kept() -> None:
    m = ok(Parser().parse(rec([2, "r", "Heartbeat", {}])))
    assert json.loads(m.raw) == [2, "r", "Heartbeat", {}]
    lines = list(read_lines([b'[2, "r",  "Heartbeat", {}]'], source="t", charger="C"))
    assert ok(Parser().parse(lines[0])).raw == '[2, "r",  "Heartbeat", {}]'  # type: ignore[arg-type]


def test_boot_info_of_1_6() -> None:
    m = ok(
        Parser().parse(
            rec(
                [
                    2,
                    "b",
                    "BootNotification",
                    {
                        "chargePointVendor": "Alfen BV",
                        "chargePointModel": "NG910-60023",
                        "chargeBoxSerialNumber": "ace0123",
                        "firmwareVersion": "6.5.0",
                    },
                ]
            )
        )
    )
    assert m.fact == BootInfo(
        vendor="Alfen BV", model="NG910-60023", serial="ace0123", firmware="6.5.0"
    )
