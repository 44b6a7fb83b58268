"""Every reader format, and every unreadable-line class, with good neighbours kept."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ocpp.events import LineError, Record
from bot.ocpp.readers import MAX_LINE_BYTES, read_file, read_json_objects, read_lines

HB = [2, "hb-1", "Heartbeat", {}]
STATUS = [
    2,
    "st-1",
    "StatusNotification",
    {"connectorId": 1, "errorCode": "OtherError", "status": "Faulted", "vendorErrorCode": "F400"},
]


def one(lines: list[bytes | str], charger: str | None = None) -> Record:
    out = list(read_lines(lines, source="t", charger=charger))
    assert len(out) == 1, out
    assert isinstance(out[0], Record), out[0]
    return out[0]


def test_contract1_line() -> None:
    line = json.dumps(
        {
            "ts": "2026-11-20T08:00:00Z",
            "charger": "CP-001",
            "dir": "in",
            "frame": STATUS,
            "ocpp": "1.6",
        }
    )
    r = one([line.encode()])
    assert r.ts == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert (r.charger, r.direction, r.frame, r.ocpp, r.line) == ("CP-001", "in", STATUS, "1.6", 1)
    assert r.notes == ()


def test_contract1_offset_and_zoneless_ts() -> None:
    r = one([b'{"ts":"2026-11-20T09:00:00+01:00","charger":"A","dir":"out","frame":[3,"x",{}]}'])
    assert r.ts == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    r = one([b'{"ts":"2026-11-20T08:00:00","charger":"A","dir":"in","frame":[3,"x",{}]}'])
    assert r.ts.tzinfo is UTC
    assert any("no time zone" in n for n in r.notes)


def test_bare_frame_direction_from_action_and_reply() -> None:
    out = list(
        read_lines(
            [
                b'[2,"a","BootNotification",{"chargePointVendor":"ABB","chargePointModel":"X"}]',
                b'[3,"a",{"status":"Accepted","currentTime":"2026-11-20T08:00:00Z","interval":60}]',
                b'[2,"b","Reset",{"type":"Soft"}]',
                b'[3,"b",{"status":"Accepted"}]',
            ],
            source="t",
            charger="CP-9",
        )
    )
    assert [r.direction for r in out] == ["in", "out", "out", "in"]
    assert all(r.charger == "CP-9" for r in out)
    assert out[0].raw.startswith('[2,"a"')


def test_bare_frame_without_charger_is_an_error_not_a_crash() -> None:
    out = list(read_lines([b'[2,"a","Heartbeat",{}]'], source="t"))
    assert isinstance(out[0], LineError)
    assert "charger" in out[0].reason


def test_json_array_of_frames_on_one_line() -> None:
    out = list(
        read_lines([json.dumps([HB, [3, "hb-1", {"currentTime": "x"}]])], source="t", charger="C")
    )
    assert [r.frame[0] for r in out] == [2, 3]
    assert [r.direction for r in out] == ["in", "out"]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("2024-01-01T10:00:00.000Z", datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
        ("1704067200.123", datetime(2024, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)),
        ("1704067200123", datetime(2024, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)),
    ],
)
def test_timestamp_prefixed(prefix: str, expected: datetime) -> None:
    r = one([f"{prefix} {json.dumps(HB)}"], charger="C")
    assert r.ts == expected
    assert r.frame == HB


def test_wrapped_object() -> None:
    r = one([json.dumps({"timestamp": "2024-01-01T10:00:00Z", "message": STATUS})], charger="C")
    assert r.ts == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert r.frame == STATUS and r.direction == "in"


def test_triples() -> None:
    r = one([json.dumps(["2024-01-01T10:00:00Z", "out", [3, "q", {}]])], charger="C")
    assert (r.direction, r.frame) == ("out", [3, "q", {}])
    r = one([json.dumps([1704067200, "received", HB])], charger="C")
    assert r.direction == "in" and r.ts.year == 2024


def test_steve_logback_lines() -> None:
    lines = [
        "[INFO ] 2024-03-01 10:00:00,123 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger "
        '(qtp1-22) - [chargeBoxId=STEVE-1, sessionId=ab12] Received: [2,"1","Heartbeat",{}]',
        "[INFO ]\t2024-03-01 10:00:00,456\tde.rwth.idsg.steve.ocpp.ws.WebSocketLogger\t(qtp1-22)"
        ' - [chargeBoxId=STEVE-1, sessionId=ab12] Sending: [3,"1",{"currentTime":"x"}]',
    ]
    out = list(read_lines(lines, source="steve.log"))
    assert [(r.charger, r.direction) for r in out] == [("STEVE-1", "in"), ("STEVE-1", "out")]
    assert out[0].ts == datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert out[1].raw == '[3,"1",{"currentTime":"x"}]'


def test_mobilityhouse_and_home_assistant_lines() -> None:
    lines = [
        "2023-11-21 14:20:47.493 INFO (MainThread) [ocpp] wallbox1: receive message "
        '[2,"7","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]',
        '2023-11-21 14:20:47.501 INFO (MainThread) [ocpp] wallbox1: send [3,"7",{}]',
        'INFO:ocpp:CP_1: receive message [2,"8","Heartbeat",{}]',
    ]
    out = list(read_lines(lines, source="ha.log"))
    assert [(r.charger, r.direction) for r in out] == [
        ("wallbox1", "in"),
        ("wallbox1", "out"),
        ("CP_1", "in"),
    ]


def test_microocpp_lines_are_charger_side() -> None:
    lines = [
        '[AO] Send: [2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
        '[AO] Recv: [3,"1",{"status":"Accepted","currentTime":"x","interval":60}]',
        '[MO] Recv: [2,"9","Reset",{"type":"Hard"}]',
    ]
    out = list(read_lines(lines, source="serial.log", charger="ESP-1"))
    assert [r.direction for r in out] == ["in", "out", "out"]


def test_citrineos_row_webhook_and_broker_bodies() -> None:
    row = {
        "stationId": "cs-1",
        "correlationId": "c1",
        "origin": "cs",
        "state": 1,
        "protocol": "ocpp2.0.1",
        "action": "Heartbeat",
        "message": [2, "c1", "Heartbeat", {}],
        "timestamp": "2026-11-20T08:00:00.000Z",
    }
    hook = {
        "stationId": "cs-1",
        "event": "message",
        "origin": "csms",
        "message": '[3,"c1",{"currentTime":"2026-11-20T08:00:00Z"}]',
        "info": {
            "correlationId": "c1",
            "origin": "csms",
            "timestamp": "2026-11-20T08:00:01Z",
            "protocol": "ocpp2.0.1",
        },
    }
    connected = {"stationId": "cs-1", "event": "connected", "origin": "cs", "message": ""}
    broker = {
        "_origin": "csms",
        "_action": "BootNotification",
        "_state": 2,
        "_protocol": "ocpp1.6",
        "_context": {
            "_stationId": "cs-2",
            "_correlationId": "b1",
            "_timestamp": "2026-11-20T08:00:02Z",
        },
        "_payload": {"status": "Accepted", "currentTime": "x", "interval": 60},
    }
    out = list(read_json_objects([row, hook, connected, broker], source="citrine"))
    assert [type(r) for r in out] == [Record, Record, Record]
    assert [(r.charger, r.direction, r.ocpp) for r in out] == [
        ("cs-1", "in", "2.0.1"),
        ("cs-1", "out", "2.0.1"),
        ("cs-2", "out", "1.6"),
    ]
    assert out[1].raw.startswith("[3,")
    assert out[2].frame == [3, "b1", broker["_payload"]]
    assert out[2].action_hint == "BootNotification"
    # The same bodies as lines of a file work too.
    lines = [json.dumps(o) for o in (row, hook)]
    assert [r.charger for r in read_lines(lines, source="t")] == ["cs-1", "cs-1"]


def test_empty_comment_and_bom_lines_are_skipped() -> None:
    good = json.dumps({"ts": "2026-11-20T08:00:00Z", "charger": "A", "dir": "in", "frame": HB})
    out = list(
        read_lines([b"", b"   ", b"# a comment", "\ufeff".encode() + good.encode()], source="t")
    )
    assert len(out) == 1 and isinstance(out[0], Record)


def _mixed_bad(tmp_path: Path) -> Path:
    good = json.dumps({"ts": "2026-11-20T08:00:00Z", "charger": "A", "dir": "in", "frame": HB})
    path = tmp_path / "bad.jsonl"
    with open(path, "wb") as f:
        f.write(good.encode() + b"\n")  # 1
        f.write(b"this is not json\n")  # 2
        f.write(b'{"ts":"2026-11-20T08:00:00Z","charger":"A"\n')  # 3 truncated
        f.write(b'{"ts":"2026-11-20T08:00:00Z","charger":"A","dir":"in","frame":[2,"x",\xff]}\n')
        f.write(b'{"ts":"2026-11-20T08:00:00Z","charger":"A\x00","dir":"in","frame":[]}\n')  # 5
        f.write(good.encode() + b"\n")  # 6
        f.write(b"[" + b"1," * (5 * 1024 * 1024) + b"1]\n")  # 7: 10 MB line
        f.write(b'{"ts":"yesterday","charger":"A","dir":"in","frame":[2,"y","Heartbeat",{}]}\n')
        f.write(b'{"ts":"2026-11-20T08:00:00Z","charger":"A","dir":"sideways","frame":[]}\n')
        f.write(b'{"hello":"world"}\n')  # 10
        f.write(good.encode())  # 11, no final newline
    return path


def test_bad_lines_each_get_a_clear_error_and_neighbours_survive(tmp_path: Path) -> None:
    out = list(read_file(_mixed_bad(tmp_path)))
    records = [r for r in out if isinstance(r, Record)]
    errors = {e.line: e.reason for e in out if isinstance(e, LineError)}
    assert [r.line for r in records] == [1, 6, 11]
    assert errors[2] == "not JSON and not a known OCPP log line format"
    assert errors[3].startswith("not JSON:")
    assert errors[4] == "invalid UTF-8 at byte 70"
    assert errors[5] == "NUL byte at column 42"
    assert errors[7] == "too long (10.5 MB, limit 1 MiB)"
    assert "is not a date-time" in errors[8]
    assert "sideways" in errors[9]
    assert "not a known record shape" in errors[10]
    for e in out:
        if isinstance(e, LineError):
            assert e.excerpt.isprintable()
            assert len(e.excerpt) < 100


def test_oversized_line_is_measured_not_decoded(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * (MAX_LINE_BYTES + 1) + b"\n" + b"y" * MAX_LINE_BYTES + b"\n")
    out = list(read_file(path, charger="C"))
    assert out[0].line == 1 and "too long" in out[0].reason  # type: ignore[union-attr]
    assert out[1].line == 2 and "too long" not in out[1].reason  # type: ignore[union-attr]


def test_read_lines_caps_given_lines_too() -> None:
    out = list(read_lines([b"[" + b" " * MAX_LINE_BYTES + b"]"], source="t", charger="C"))
    assert isinstance(out[0], LineError) and out[0].reason.startswith("too long")


def test_missing_file_is_one_error() -> None:
    out = list(read_file("/no/such/file.jsonl"))
    assert len(out) == 1 and isinstance(out[0], LineError)
    assert "No such file" in out[0].reason


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'[2,"1","Heartbeat",{}]\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = list(read_file("-", charger="C"))
    assert isinstance(out[0], Record) and out[0].source == "<stdin>"


def test_missing_ts_falls_back_and_says_so() -> None:
    with_payload_time = [
        2,
        "s",
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": "2026-11-20T07:00:00Z",
        },
    ]
    out = list(read_lines([json.dumps(with_payload_time), json.dumps(HB)], source="t", charger="C"))
    assert out[0].ts == datetime(2026, 11, 20, 7, tzinfo=UTC)
    assert "payload timestamp" in out[0].notes[0]
    assert out[1].ts == out[0].ts and "previous line" in out[1].notes[0]
