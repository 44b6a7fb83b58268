"""Every typed reason, produced by a real line through the real reader and parser.

One case per DropReason (a frame kept without a fact) and per RejectReason the reader
and parser give (a LineError); the webhook's and the store's reasons are tested with
them (tests/feeds, tests/cli).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.ocpp.events import LineError, Message
from bot.ocpp.parse import Parser
from bot.ocpp.reasons import DropReason, NoFact, RejectReason

TS = "2026-11-20T08:00:00Z"


def _line(frame: Any, *, ocpp: str | None = None, **extra: Any) -> str:
    obj: dict[str, Any] = {"ts": TS, "charger": "CP-1", "dir": "in", "frame": frame}
    if ocpp is not None:
        obj["ocpp"] = ocpp
    obj.update(extra)
    return json.dumps(obj)


def _read(lines: list[str | bytes], charger: str | None = None) -> list[Message | LineError]:
    from bot.ocpp.readers import read_lines

    parser = Parser()
    out: list[Message | LineError] = []
    for item in read_lines(lines, source="t.jsonl", charger=charger):
        out.append(item if isinstance(item, LineError) else parser.parse(item))
    return out


def _last(lines: list[str | bytes], charger: str | None = None) -> Message | LineError:
    return _read(lines, charger)[-1]


DROPS: list[tuple[DropReason, list[str]]] = [
    (DropReason.NO_STATUS, [_line([2, "s1", "StatusNotification",
                                   {"connectorId": 1, "errorCode": "OtherError"}], ocpp="1.6")]),
    (DropReason.NO_STATUS, [_line([2, "s2", "StatusNotification",
                                   {"timestamp": TS, "evseId": 1, "connectorId": 1}],
                                  ocpp="2.0.1")]),
    (DropReason.NO_IDENTITY, [_line([2, "b1", "BootNotification",
                                     {"chargePointVendor": "Acme"}], ocpp="1.6")]),
    (DropReason.NO_IDENTITY, [_line([2, "b2", "BootNotification",
                                     {"reason": "PowerUp", "chargingStation": "Acme"}],
                                    ocpp="2.0.1")]),
    (DropReason.NO_EVENT_DATA, [_line([2, "e1", "NotifyEvent",
                                       {"generatedAt": TS, "seqNo": 0, "eventData": {}}],
                                      ocpp="2.0.1")]),
    (DropReason.NO_EVENT_TYPE, [_line([2, "x1", "SecurityEventNotification",
                                       {"timestamp": TS}], ocpp="1.6")]),
    (DropReason.UNKNOWN_TRANSACTION_EVENT, [_line([2, "t1", "TransactionEvent",
                                                   {"eventType": "Paused", "timestamp": TS}],
                                                  ocpp="2.0.1")]),
    (DropReason.UNKNOWN_ACTION, [_line([2, "n1", "NotifyMoonPhase", {"phase": "full"}],
                                       ocpp="1.6")]),
    (DropReason.NO_BOOT_STATUS, [
        _line([2, "r1", "BootNotification",
               {"chargePointVendor": "Acme", "chargePointModel": "X"}], ocpp="1.6"),
        _line([3, "r1", {"currentTime": TS, "interval": 300}], ocpp="1.6", dir="out"),
    ]),
    (DropReason.NO_TRANSACTION_ID, [
        _line([2, "r2", "StartTransaction",
               {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": TS}],
              ocpp="1.6"),
        _line([3, "r2", {"idTagInfo": {"status": "Accepted"}}], ocpp="1.6", dir="out"),
    ]),
]


@pytest.mark.parametrize(("reason", "lines"), DROPS, ids=[f"{r}-{i}" for i, (r, _) in
                                                         enumerate(DROPS)])
def test_each_drop_reason_from_a_real_frame(reason: DropReason, lines: list[str]) -> None:
    m = _last(list(lines))
    assert isinstance(m, Message), m
    assert m.fact is None  # callers that test `is None` see what they always saw
    assert m.no_fact is reason


def test_every_drop_reason_but_untracked_has_a_frame() -> None:
    assert {r for r, _ in DROPS} == set(DropReason) - {DropReason.UNTRACKED_ACTION}


def test_untracked_action_is_no_fact_but_not_a_drop() -> None:
    """An Authorize carries nothing triage reads: no fact, and nothing counted as dropped."""
    m = _last([_line([2, "a1", "Authorize", {"idTag": "T"}], ocpp="1.6")])
    assert isinstance(m, Message)
    assert m.fact is None and m.no_fact is None
    from bot.ocpp.facts import call_fact

    assert call_fact("1.6", "Authorize", {"idTag": "T"}, []) == NoFact(
        DropReason.UNTRACKED_ACTION
    )


def test_a_fact_leaves_no_reason() -> None:
    m = _last([_line([2, "ok", "StatusNotification",
                      {"connectorId": 1, "errorCode": "NoError", "status": "Available"}],
                     ocpp="1.6")])
    assert isinstance(m, Message)
    assert m.fact is not None and m.no_fact is None


def test_no_fact_is_falsy_and_frozen() -> None:
    nf = NoFact(DropReason.NO_STATUS)
    assert not nf
    with pytest.raises(AttributeError):
        nf.reason = DropReason.NO_IDENTITY  # type: ignore[misc]  # frozen: the point of the test


REJECTS: list[tuple[RejectReason, list[str | bytes], str | None]] = [
    (RejectReason.TOO_LONG, [b'{"x": "' + b"a" * (1 << 20) + b'"}'], None),
    (RejectReason.BAD_ENCODING, [b'{"ts": "\x00"}'], None),
    (RejectReason.BAD_ENCODING, [b'{"ts": "\xff"}'], None),
    (RejectReason.NOT_JSON, ['{"ts": "2026-11-20T08:00:00Z", "charger": '], None),
    (RejectReason.UNKNOWN_SHAPE, ['{"hello": 1}'], None),
    (RejectReason.UNKNOWN_SHAPE, ["just some words in a file"], None),
    (RejectReason.MISSING_CHARGER, [json.dumps({"ts": TS, "dir": "in",
                                                "frame": [2, "h", "Heartbeat", {}]})], None),
    (RejectReason.MISSING_CHARGER, [json.dumps([2, "h", "Heartbeat", {}])], None),
    (RejectReason.BAD_DIRECTION, [_line([2, "h", "Heartbeat", {}], dir="sideways")], None),
    (RejectReason.BAD_TIMESTAMP, [json.dumps({"ts": "yesterday-ish", "charger": "CP-1",
                                              "dir": "in", "frame": [2, "h", "Heartbeat", {}]})],
     None),
    (RejectReason.NOT_A_FRAME, [_line([7, "h", "Heartbeat", {}])], None),
    (RejectReason.NOT_A_FRAME, [_line({"not": "an array"})], None),
    (RejectReason.BAD_CHARGER_ID, [_line([2, "h", "Heartbeat", {}], charger="CP 1\n\u0000x")],
     None),
    (RejectReason.UNKNOWN_VERSION, [_line([2, "h", "Heartbeat", {}], ocpp="9.9")], None),
    (RejectReason.UNUSABLE_PORT, [_line([2, "s", "StatusNotification",
                                         {"connectorId": -1, "errorCode": "OtherError",
                                          "status": "Faulted"}], ocpp="1.6")], None),
]


@pytest.mark.parametrize(("reason", "lines", "charger"), REJECTS,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(REJECTS)])
def test_each_reject_reason_from_a_real_line(
    reason: RejectReason, lines: list[str | bytes], charger: str | None
) -> None:
    error = _last(lines, charger)
    assert isinstance(error, LineError), error
    assert error.kind is reason, (error.kind, error.reason)


def test_unreadable_source(tmp_path: Any) -> None:
    from bot.ocpp.readers import read_file

    items = list(read_file(str(tmp_path / "absent.jsonl")))
    assert len(items) == 1 and isinstance(items[0], LineError)
    assert items[0].kind is RejectReason.UNREADABLE_SOURCE


def test_unusable_port_keeps_the_fault_flag() -> None:
    error = REJECTS[-1][1]
    got = _last(error)
    assert isinstance(got, LineError) and got.fault and got.kind is RejectReason.UNUSABLE_PORT
