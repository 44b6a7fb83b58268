"""The message log keeps each frame verbatim: Record.raw / Message.raw are the exact
characters of the frame in the input line, for every input shape, while the decoded
values and the fingerprint are exactly what json.loads and the canonical encoding give."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.ocpp.events import NO_VIOLATIONS, LineError, Message, Record
from bot.ocpp.parse import Parser, fingerprint
from bot.ocpp.readers import read_json_objects, read_lines
from bot.ocpp.spans import element_spans, member_span, split_common, split_contract1

TS = "2026-11-20T08:00:00Z"
T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def records(lines: list[str] | list[bytes], charger: str | None = None) -> list[Record]:
    out = list(read_lines(lines, source="t", charger=charger))
    assert all(isinstance(r, Record) for r in out), out
    return out  # type: ignore[return-value]


def parsed(record: Record) -> Message:
    m = Parser().parse(record)
    assert isinstance(m, Message), m
    return m


# Each line's frame text is marked by the literal FRAME; the test puts the frame text
# there and expects exactly that text back as raw.
ODD_FRAMES = [
    '[2,"a","Heartbeat",{}]',
    '[ 2 , "a" , "Heartbeat" , { } ]',
    '[2,\t"a",\r\n"Heartbeat",{}]',
    '[2,"b","StatusNotification",{"status":"Faulted","connectorId":1,"errorCode":"OtherError",'
    '"info":"caf\\u00e9 \\"frame\\": [1] \\\\ \\ud83d\\ude00","vendorErrorCode":"E\\/1"}]',
    '[2,"c","DataTransfer",{"vendorId":"V","data":"{\\"frame\\":[3,\\"x\\",{}]}",'
    '"messageId":"frame"}]',
    '[2,"d","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available",'
    '"info":"Stra\u00dfe \u2603"}]',
    '[3,"e",{"currentTime":"2026-11-20T08:00:00.000Z","nested":{"frame":[1,2]}}]',
    '[4,"f","InternalError","d\\u00e9j\\u00e0",{}]',
]

ENVELOPES = [
    '{"ts":"TS","charger":"CP-1","dir":"in","frame":FRAME,"ocpp":"1.6"}',
    '{"ts": "TS", "charger": "CP-1", "dir": "in", "frame": FRAME, "ocpp": "1.6"}',
    '{ "ts" :"TS" ,\t"charger":"CP-1","dir":"in" , "frame" :  FRAME  }',
    '{"frame":FRAME,"dir":"in","charger":"CP-1","ts":"TS"}',
    '{"ocpp":"1.6","frame":FRAME,"ts":"TS","dir":"in","charger":"CP-1"}',
    '{"charger":"CP-\\u0031","ts":"TS","dir":"in","frame":FRAME}',  # escape before frame
    '{"ts":"TS","note":"the \\"frame\\" key","charger":"CP-1","dir":"in","frame":FRAME}',
    '{"ts":"TS","meta":{"frame":[9]},"charger":"CP-1","dir":"in","frame":FRAME}',
    '{"ts":"TS","charger":"CP-1","dir":"in","frame":FRAME,"tag":"frame"}',
    '{"ts":"TS","charger":"CP-1","dir":"in","frame":[1],"fr\\u0061me":FRAME}',  # dup: last
    '{"ts":"TS","charger":"CP-1","dir":"in","frame":[1],"frame":FRAME}',
    '{"ts":1763625600,"charger":"CP-1","dir":"received","frame":FRAME}',
]


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("frame_text", ODD_FRAMES)
def test_contract1_raw_is_the_exact_frame_text(envelope: str, frame_text: str) -> None:
    line = envelope.replace("TS", TS).replace("FRAME", frame_text)
    for given in (line, line.encode(), line + "\r\n", (line + "\n").encode()):
        [r] = records([given])  # type: ignore[list-item]
        assert r.raw == frame_text
        assert r.frame == json.loads(line)["frame"]
        assert (r.charger, r.direction) == ("CP-1", "in")
        m = parsed(r)
        assert m.raw == frame_text
        assert m.fingerprint == fingerprint("CP-1", "in", json.loads(frame_text))


def test_the_same_frame_spelled_differently_has_one_fingerprint() -> None:
    lines = [
        ENVELOPES[0].replace("TS", TS).replace("FRAME", ODD_FRAMES[0]),
        ENVELOPES[3].replace("TS", TS).replace("FRAME", ODD_FRAMES[1]),
    ]
    a, b = (parsed(r) for r in records(lines))
    assert a.raw != b.raw and a.fingerprint == b.fingerprint


def test_bare_and_log_line_shapes_keep_their_text() -> None:
    frame = '[2, "h",  "Heartbeat", {}]'
    reply = '[3,"h",{ "currentTime" : "2026-11-20T08:00:00Z" }]'
    cases: list[tuple[str, list[str]]] = [
        (frame, [frame]),
        (f"[{frame} ,\t{reply}]", [frame, reply]),  # several frames on one line
        (f'["{TS}", "out", {reply}]', [reply]),  # a triple
        (f'{{"timestamp": "{TS}", "message": {frame}}}', [frame]),  # wrapped object
        (f'{TS} {{"message": {frame} }}', [frame]),  # timestamp, then an object
        (f"{TS}   {frame}", [frame]),
        (f"[INFO ] {TS} x - [chargeBoxId=C, sessionId=1] Received: {frame}", [frame]),
        (f"2023-11-21 14:20:47.493 INFO [ocpp] C: send {reply}", [reply]),
        (
            f'{{"stationId":"C","origin":"cs","timestamp":"{TS}","message": {frame} }}',
            [frame],
        ),
        (
            json.dumps({"stationId": "C", "origin": "cs", "timestamp": TS, "message": frame}),
            [frame],
        ),
    ]
    for line, raws in cases:
        out = records([line], charger="C")
        assert [r.raw for r in out] == raws, line
        assert [parsed(r).raw for r in out] == raws


def test_decoded_bodies_get_a_compact_dump_in_their_own_key_order() -> None:
    body = {
        "ts": TS,
        "charger": "C",
        "dir": "in",
        "frame": [2, "s", "StatusNotification", {"status": "Faulted", "connectorId": 1}],
    }
    [r] = list(read_json_objects([body], source="webhook"))
    assert isinstance(r, Record) and r.raw == ""  # no text was delivered
    m = parsed(r)
    assert m.raw == '[2,"s","StatusNotification",{"status":"Faulted","connectorId":1}]'
    assert m.fingerprint == fingerprint("C", "in", body["frame"])


# --- the splitting itself, against json.loads ------------------------------------------


def _random_value(rnd: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "float", "bool", "null"] + (["list", "dict"] if depth < 3 else [])
    kind = rnd.choice(kinds)
    if kind == "str":
        return "".join(rnd.choice('ab "\\/\n\t\u00e9\u2603frame:{}[],') for _ in range(6))
    if kind == "int":
        return rnd.randint(-(10**20), 10**20)
    if kind == "float":
        return rnd.uniform(-1e6, 1e6)
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    keys = ["frame", "ts", "a", "b\u00e9", 'q"']
    return {rnd.choice(keys): _random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def _random_dumps(rnd: random.Random, value: Any) -> str:
    sep = rnd.choice([(",", ":"), (", ", ": "), (" ,\t", " :\n ")])
    return json.dumps(value, separators=sep, ensure_ascii=rnd.random() < 0.5)


def test_splits_agree_with_json_loads_on_random_lines() -> None:
    rnd = random.Random(20261120)
    splits = 0
    for _ in range(3000):
        envelope: dict[str, Any] = {}
        keys = ["ts", "charger", "dir", "frame", "ocpp", rnd.choice(["x", "frame", "y"])]
        if rnd.random() < 0.5:
            rnd.shuffle(keys)
        for key in keys:
            if key == "frame":
                envelope[key] = [2, "id", "Act", _random_value(rnd)]
            else:
                envelope[key] = rnd.choice([TS, "CP-1", "in", "1.6", _random_value(rnd)])
        text = _random_dumps(rnd, envelope)
        expected = json.loads(text)
        common = split_common(text)
        if common is not None:
            ts, charger, direction, frame, ocpp, start, end = common
            assert (ts, charger, direction, frame, ocpp) == (
                expected["ts"],
                expected["charger"],
                expected["dir"],
                expected["frame"],
                expected.get("ocpp"),
            )
            assert json.loads(text[start:end]) == expected["frame"]
        try:
            obj, start, end = split_contract1(text)
        except Exception:  # NotSplit: the general path handles it
            pass
        else:
            splits += 1
            assert obj == expected
            assert json.loads(text[start:end]) == expected["frame"]
        span = member_span(text, "frame")
        assert span is not None
        assert json.loads(text[span[0] : span[1]]) == expected["frame"]
    assert splits > 500  # the fast split is the common case, not a rarity


def test_element_spans_and_member_span_edges() -> None:
    text = ' [ 1 , "a]" ,{"k":[2]} , [ ] ] '
    spans = element_spans(text)
    assert [text[a:b] for a, b in spans or []] == ["1", '"a]"', '{"k":[2]}', "[ ]"]
    assert element_spans("[]") == []
    assert element_spans('{"a":1}') is None
    assert member_span("[1]", "a") is None
    assert member_span("{}", "a") is None
    assert member_span('{"b":1}', "a") is None


# --- error messages, fast paths that must not change answers ---------------------------


def test_json_errors_read_cleanly() -> None:
    out = list(read_lines(['{"ts": "x', "[1,", '{"a" 1}'], source="t", charger="C"))
    reasons = [e.reason for e in out if isinstance(e, LineError)]
    assert reasons == [
        "not JSON: unterminated string starting at column 8",
        "not JSON: expecting value at column 4",
        "not JSON: expecting ':' delimiter at column 6",
    ]
    assert not any(" at at " in r for r in reasons)


@pytest.mark.parametrize(
    "uid", ["plain", 'q"uote', "back\\slash", "tab\there", "caf\u00e9", "\u2028", "\ud800",
            "nul\x00", "del\x7f", "nel\x85", "\U0001f600", "</"]
)
def test_short_canonical_form_matches_the_encoder(uid: str) -> None:
    payloads: list[dict[str, Any]] = [
        {},
        {"currentTime": uid},
        {uid: "x"},
        {"a": 1},
        {"a": None},
        {"b": "x", "a": "y"},
    ]
    for payload in payloads:
        for frame in ([2, uid, "DataTransfer", payload], [3, uid, payload]):
            m = parsed(Record(ts=T0, charger="C", direction="in", frame=frame))
            assert m.fingerprint == fingerprint("C", "in", frame), frame


def test_messages_without_violations_share_a_read_only_list() -> None:
    p = Parser()
    a = p.parse(Record(ts=T0, charger="C", direction="in", frame=[2, "1", "Heartbeat", {}]))
    b = p.parse(Record(ts=T0, charger="C", direction="in", frame=[2, "2", "Heartbeat", {}]))
    assert isinstance(a, Message) and isinstance(b, Message)
    assert a.violations == [] and a.violations is b.violations is NO_VIOLATIONS
    with pytest.raises(TypeError):
        a.violations.append("x")
    assert NO_VIOLATIONS == []
    c = p.parse(Record(ts=T0, charger="C", direction="in", frame=[2, "2", "Heartbeat", [1]]))
    assert isinstance(c, LineError)


def test_str_lines_and_byte_lines_read_the_same() -> None:
    lines = [
        f'{{"ts":"{TS}","charger":"C","dir":"in","frame":[2,"1","Heartbeat",{{}}]}}',
        f'  {{"ts":"{TS}","charger":"C\u00e9","dir":"in","frame":[2,"2","Heartbeat",{{}}]}} \x0c',
        '{"ts":"x\x00","charger":"C","dir":"in","frame":[]}',
        "\u00e9\x00",
        "# comment",
        "\x0b",
        '{"ts":"\ud800"}',
        f'{{"ts":"{TS}","charger":"C","dir":"in","frame":[2,"3","Heartbeat",{{}}]}}\t\x0b',
    ]
    as_str = list(read_lines(lines, source="t"))
    as_bytes = list(read_lines([x.encode("utf-8", "surrogatepass") for x in lines], source="t"))
    assert as_str == as_bytes
    assert [type(x).__name__ for x in as_str] == [
        "Record",
        "Record",
        "LineError",
        "LineError",
        "LineError",
        "Record",
    ]
