"""Hostile frames at the parser (issue 10): each is cleaned, read by its shape, kept at
the station level, or rejected with a reason; none raises, and none that reports a
fault disappears without a word."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from poison_frames import (
    CSI,
    MISSING,
    NUL,
    SURROGATE,
    Frame,
    hostile_frames,
    notify_event,
    status16,
    status201,
    wrap,
)

from bot.ocpp.events import EventReport, LineError, Message, StatusReport
from bot.ocpp.parse import Parser, fingerprint
from bot.ocpp.readers import read_json_objects, read_lines


def parse_line(obj: dict[str, Any], parser: Parser | None = None) -> Message | LineError:
    """Through the real path: the line's text, the reader, the parser."""
    (item,) = list(read_lines([json.dumps(obj).encode()], source="t.jsonl"))
    if isinstance(item, LineError):
        return item
    return (parser or Parser()).parse(item)


def fact_strings(fact: Any) -> list[str]:
    out: list[str] = []
    if fact is None:
        return out
    for f in fields(fact):
        value = getattr(fact, f.name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            for item in value:
                out.extend(fact_strings(item))
    return out


def storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


# --- the exact cases of the issue ----------------------------------------------------------


@pytest.mark.parametrize(
    ("connector", "problem"),
    [
        (None, "connectorId is null"),
        (MISSING, "connectorId is missing"),
        ("1", "connectorId '1' is not an integer"),
        (1.5, "connectorId 1.5 is not an integer"),
        (True, "connectorId True is not an integer"),
    ],
)
def test_faulted_with_an_unusable_connector_id_is_kept_at_the_station_level(
    connector: Any, problem: str
) -> None:
    m = parse_line(wrap("CP-1", "u1", "StatusNotification", status16(connector), "1.6"))
    assert isinstance(m, Message) and isinstance(m.fact, StatusReport)
    assert m.is_fault_bearing and m.fact.connector == 0 and m.fact.port_problem == problem
    assert f"{problem}: port unknown, reported at the station level" in m.violations


@pytest.mark.parametrize(
    ("connector", "reason"),
    [
        (-1, "connectorId -1 is negative; ports are numbered from 0"),
        (2**31, "connectorId 2147483648 is out of range (max 2147483647)"),
        (2**63, "connectorId 9223372036854775808 is out of range (max 2147483647)"),
        (2**66, "connectorId 73786976294838206464 is out of range (max 2147483647)"),
    ],
)
def test_negative_or_absurd_connector_ids_are_rejected_with_a_reason(
    connector: int, reason: str
) -> None:
    err = parse_line(wrap("CP-1", "u1", "StatusNotification", status16(connector), "1.6"))
    assert isinstance(err, LineError)
    assert err.reason == reason and err.line == 1 and err.fault


def test_the_largest_column_value_is_still_a_port() -> None:
    m = parse_line(wrap("CP-1", "u1", "StatusNotification", status16(2**31 - 1), "1.6"))
    assert isinstance(m, Message) and m.fact.connector == 2**31 - 1  # type: ignore[union-attr]


@pytest.mark.parametrize("evse", [-1, 2**31, 2**63])
def test_v2_absurd_evse_ids_are_rejected(evse: int) -> None:
    err = parse_line(wrap("CP-2", "u1", "StatusNotification", status201(evse), "2.0.1"))
    assert isinstance(err, LineError) and err.fault and "evseId" in err.reason


def test_v2_unusable_evse_id_is_the_station() -> None:
    m = parse_line(wrap("CP-2", "u1", "StatusNotification", status201("2"), "2.0.1"))
    assert isinstance(m, Message) and isinstance(m.fact, StatusReport)
    assert m.fact.evse is None and m.fact.connector == 0 and m.is_fault_bearing
    assert m.fact.port_problem == "evseId '2' is not an integer"


def test_lone_surrogate_is_replaced_in_the_fact_and_kept_escaped_in_the_log() -> None:
    obj = wrap("CP-1", "s1", "StatusNotification", status16(1, info=f"E-STOP {SURROGATE}"), "1.6")
    line = json.dumps(obj)
    assert "\\ud800" in line  # the way a charger sends it
    m = parse_line(obj)
    assert isinstance(m, Message) and isinstance(m.fact, StatusReport)
    assert m.fact.info == "E-STOP \ufffd"
    assert "info: invalid Unicode or NUL replaced with U+FFFD in the fact" in m.violations
    assert "\\ud800" in m.raw and storable(m.raw)
    assert m.fingerprint == fingerprint("CP-1", "in", obj["frame"])


def test_a_decoded_body_with_a_surrogate_gets_an_escaped_raw() -> None:
    # webhook/broker bodies arrive decoded: the parser writes the raw text itself
    obj = wrap("CP-1", "s2", "StatusNotification", status16(1, vendorId=SURROGATE), "1.6")
    (record,) = list(read_json_objects([obj], source="webhook"))
    m = Parser().parse(record)  # type: ignore[arg-type]
    assert isinstance(m, Message) and storable(m.raw) and "\\ud800" in m.raw
    assert json.loads(m.raw) == obj["frame"]


def test_nul_is_replaced_in_the_fact() -> None:
    m = parse_line(wrap("CP-1", "n1", "StatusNotification", status16(1, info=f"a{NUL}b"), "1.6"))
    assert isinstance(m, Message) and m.fact.info == "a\ufffdb"  # type: ignore[union-attr]


def test_c1_and_ansi_text_is_kept_as_sent_in_the_fact() -> None:
    # Facts keep vendor text as sent (display escapes it); what matters is it is storable.
    info = f"{CSI}31m\x1b[2J"
    m = parse_line(wrap("CP-1", "c1", "StatusNotification", status16(1, info=info), "1.6"))
    assert isinstance(m, Message) and m.fact.info == info  # type: ignore[union-attr]


def test_notify_event_labelled_16_is_read_by_its_shape() -> None:
    m = parse_line(wrap("CP-3", "e1", "NotifyEvent", notify_event(), "1.6"))
    assert isinstance(m, Message) and isinstance(m.fact, EventReport) and m.is_fault_bearing
    assert m.ocpp_version == "2.0.1" and m.version_inferred
    assert "labelled OCPP 1.6 but shaped like 2.0.1: read as 2.0.1" in m.violations


def test_16_status_labelled_201_is_read_by_its_shape() -> None:
    m = parse_line(wrap("CP-4", "e2", "StatusNotification", status16(2), "2.0.1"))
    assert isinstance(m, Message) and isinstance(m.fact, StatusReport)
    assert m.ocpp_version == "1.6" and m.fact.connector == 2 and m.is_fault_bearing
    assert "labelled OCPP 2.0.1 but shaped like 1.6: read as 1.6" in m.violations


def test_201_status_labelled_16_is_read_by_its_shape() -> None:
    m = parse_line(wrap("CP-4", "e3", "StatusNotification", status201(3), "1.6"))
    assert isinstance(m, Message) and isinstance(m.fact, StatusReport)
    assert m.ocpp_version == "2.0.1" and m.fact.evse == 3 and m.is_fault_bearing


def test_a_correct_label_is_not_second_guessed() -> None:
    m = parse_line(wrap("CP-5", "e4", "StatusNotification", status16(1), "1.6"))
    assert isinstance(m, Message) and not m.version_inferred
    assert not any("labelled" in v for v in m.violations)


def test_notify_event_without_a_component_name_still_reports_the_problem() -> None:
    m = parse_line(wrap("CP-3", "e5", "NotifyEvent", notify_event(None), "2.0.1"))
    assert isinstance(m, Message) and m.is_fault_bearing


# --- fuzz ------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_frames("CP-F", "x"), min_size=1, max_size=8))
def test_fuzz_no_exception_every_fault_accounted_for(frames: list[Frame]) -> None:
    parser = Parser()  # one parser for the stream, as a feed has
    for frame in frames:
        result = parse_line(frame.obj, parser)
        if isinstance(result, LineError):
            assert result.reason
            if frame.fault:
                assert result.fault, result.reason
            continue
        assert storable(result.raw), result.raw[:80]
        for text in fact_strings(result.fact):
            assert storable(text), repr(text)[:80]
        for v in result.violations:
            assert isinstance(v, str)
        if frame.fault:
            assert result.is_fault_bearing, (frame.obj, result.fact, result.violations)
