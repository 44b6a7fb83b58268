"""Hostile and malformed OCPP frames, shared by the parser, store and feed tests.

The exact values of issue 10 (a lone surrogate, 2**31, 2**63, 2**66, NUL, connectorId
null/missing/"1"/1.5/true, mislabelled versions, C1/ANSI controls) plus hypothesis
strategies that mix them into frames of every kind. Each generated frame says whether
it reports a fault (`fault`), so a test can check that it ends diagnosed, suppressed
or rejected, and what a good frame around it looks like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

SURROGATE = "\ud800"
NUL = "\x00"
CSI = "\x9b"  # C1 control: a terminal's Control Sequence Introducer
ANSI = "\x1b[2J\x1b[31m"
HOSTILE_TEXT = [
    SURROGATE,
    f"E-STOP {SURROGATE}{SURROGATE[::-1]}",
    "\udfff tail",
    f"a{NUL}b",
    NUL,
    f"{CSI}31mred",
    ANSI + "cleared screen",
    "\u202eevil bidi",
    "x" * 5000,
]
HOSTILE_INTS = [2**31, 2**31 - 1, 2**63, 2**63 - 1, 2**64, 2**66, -1, -(2**31), -(2**63)]
# connectorId values that name no usable port: the report is kept at the station level
UNUSABLE_PORTS: list[Any] = [None, "1", 1.5, True, False, "", [1], {"id": 1}, 1.0]
MISSING = object()
LABELS = ["1.6", "2.0.1", "2.1", None]

TS = "2026-11-20T08:00:00Z"
PAYLOAD_TS = "2026-11-20T07:59:58Z"


def status16(connector: Any = 1, **over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "errorCode": "OtherError",
        "status": "Faulted",
        "vendorId": "Acme",
        "vendorErrorCode": "F400",
        "info": "EMERGENCY_STOP_BUTTON_1",
        "timestamp": PAYLOAD_TS,
    }
    if connector is MISSING:
        del payload["connectorId"]
    payload.update(over)
    return payload


def status201(evse: Any = 1, **over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "timestamp": PAYLOAD_TS,
        "connectorStatus": "Faulted",
        "evseId": evse,
        "connectorId": 1,
    }
    if evse is MISSING:
        del payload["evseId"]
    payload.update(over)
    return payload


def notify_event(component: Any = "ConnectorPlugRetentionLock", **over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "eventId": 1,
        "timestamp": PAYLOAD_TS,
        "trigger": "Delta",
        "actualValue": "true",
        "component": {"name": component},
        "variable": {"name": "Problem"},
        "eventNotificationType": "HardWiredNotification",
        "techCode": "E12",
    }
    entry.update(over)
    return {"generatedAt": PAYLOAD_TS, "seqNo": 0, "eventData": [entry]}


@dataclass(slots=True)
class Frame:
    """One contract-1 line to feed: `obj` is the object, `fault` whether it reports one."""

    obj: dict[str, Any]
    fault: bool
    good: bool = False  # a clean frame that must be stored whatever surrounds it

    @property
    def uid(self) -> str:
        return str(self.obj["frame"][1])

    def line(self) -> str:
        # ensure_ascii: a lone surrogate travels as the JSON escape a charger would send
        return json.dumps(self.obj)


def wrap(charger: str, uid: str, action: str, payload: Any, ocpp: str | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"ts": TS, "charger": charger, "dir": "in",
                           "frame": [2, uid, action, payload]}
    if ocpp is not None:
        obj["ocpp"] = ocpp
    return obj


def good_frame(charger: str, uid: str) -> Frame:
    payload = {"connectorId": 2, "errorCode": "NoError", "status": "Available",
               "timestamp": PAYLOAD_TS}
    return Frame(wrap(charger, uid, "StatusNotification", payload, "1.6"), False, good=True)


def exact_cases(charger: str) -> list[Frame]:
    """The issue's cases, each between good frames."""
    bad = [
        status16(1, info=SURROGATE),
        status16(2**31),
        status16(2**63),
        status16(2**66),
        status16(-1),
        status16(1, info=f"a{NUL}b", vendorErrorCode=NUL),
        status16(None),
        status16(MISSING),
        status16("1"),
        status16(1.5),
        status16(True),
        status16(1, info=f"{CSI}31m{ANSI}"),
    ]
    frames: list[Frame] = []
    for i, payload in enumerate(bad):
        frames.append(good_frame(charger, f"good-{i}"))
        frames.append(Frame(wrap(charger, f"bad-{i}", "StatusNotification", payload, "1.6"), True))
    frames.append(Frame(wrap(charger, "ne16", "NotifyEvent", notify_event(), "1.6"), True))
    frames.append(Frame(wrap(charger, "sn201", "StatusNotification", status16(3), "2.0.1"), True))
    frames.append(Frame(wrap(charger, "sn16", "StatusNotification", status201(4), "1.6"), True))
    frames.append(good_frame(charger, "good-last"))
    return frames


# --- hypothesis strategies ----------------------------------------------------------------

# Text of every kind, lone surrogates and controls included (st.text leaves surrogates out).
any_char = st.characters(codec=None, categories=None)
hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(any_char, max_size=40))
hostile_port = st.one_of(
    st.sampled_from(HOSTILE_INTS),
    st.sampled_from(UNUSABLE_PORTS),
    st.just(MISSING),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=8),
)
label = st.sampled_from(LABELS)
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
any_json = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def hostile_frames(draw: Any, charger: str, uid: str) -> Frame:
    """One hostile line for `charger`: a fault report with poison in it, or junk."""
    kind = draw(st.sampled_from(["status16", "status201", "event", "junk", "junk_call"]))
    if kind == "status16":
        payload = status16(
            draw(hostile_port),
            info=draw(hostile_text),
            vendorErrorCode=draw(st.one_of(hostile_text, st.integers())),
            vendorId=draw(hostile_text),
        )
        return Frame(wrap(charger, uid, "StatusNotification", payload, draw(label)), True)
    if kind == "status201":
        payload = status201(draw(hostile_port))
        return Frame(wrap(charger, uid, "StatusNotification", payload, draw(label)), True)
    if kind == "event":
        payload = notify_event(
            draw(st.one_of(hostile_text, st.none(), st.integers())),
            techCode=draw(hostile_text),
            techInfo=draw(hostile_text),
            eventId=draw(st.one_of(st.integers(), st.sampled_from(HOSTILE_INTS))),
        )
        return Frame(wrap(charger, uid, "NotifyEvent", payload, draw(label)), True)
    if kind == "junk_call":
        action = draw(st.sampled_from(["Heartbeat", "BootNotification", "MeterValues",
                                       "StartTransaction", "TransactionEvent", "DataTransfer"]))
        payload = draw(st.dictionaries(hostile_text, any_json, max_size=5))
        return Frame(wrap(charger, uid, action, payload, draw(label)), False)
    frame = draw(any_json)
    obj = {"ts": TS, "charger": charger, "dir": "in", "frame": frame}
    return Frame(obj, False)


@st.composite
def hostile_streams(draw: Any, charger: str) -> list[Frame]:
    """Good frames with hostile ones between them, each with a unique id."""
    frames: list[Frame] = []
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        frames.append(good_frame(charger, f"good-{i}"))
        frames.append(draw(hostile_frames(charger, f"bad-{i}")))
    frames.append(good_frame(charger, "good-last"))
    return frames
