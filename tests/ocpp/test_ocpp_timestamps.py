"""When a message happened: the payload's own time (for MeterValues, the first sample's)
when it is sane, else the CSMS time, and each fallback says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.ocpp.events import Message, Record
from bot.ocpp.parse import Parser

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
FIRST = "2026-11-20T07:55:00Z"
SECOND = "2026-11-20T07:57:00Z"


def parse(action: str, payload: dict[str, Any], version: str = "1.6") -> Message:
    m = Parser().parse(
        Record(ts=T0, charger="CP-1", direction="in", frame=[2, "u1", action, payload],
               ocpp=version)
    )
    assert isinstance(m, Message), m
    return m


def sample(ts: str | None, value: str = "100") -> dict[str, Any]:
    out: dict[str, Any] = {"sampledValue": [{"value": value}]}
    if ts is not None:
        out["timestamp"] = ts
    return out


def test_meter_values_time_is_the_first_samples() -> None:
    m = parse("MeterValues", {"connectorId": 1, "meterValue": [sample(FIRST), sample(SECOND)]})
    assert m.occurred_at == datetime(2026, 11, 20, 7, 55, tzinfo=UTC)
    assert m.violations == []


def test_meter_values_2_0_1_time_is_the_first_samples() -> None:
    m = parse("MeterValues", {"evseId": 1, "meterValue": [sample(SECOND), sample(FIRST)]},
              "2.0.1")
    assert m.occurred_at == datetime(2026, 11, 20, 7, 57, tzinfo=UTC)


@pytest.mark.parametrize(
    "meter_value",
    [[sample(None)], [sample(None), sample(FIRST)]],
    ids=["no stamp", "only the second has one"],
)
def test_meter_values_without_a_first_stamp_use_the_csms_time(meter_value: Any) -> None:
    m = parse("MeterValues", {"connectorId": 1, "meterValue": meter_value})
    assert m.occurred_at == T0


def test_a_payload_timestamp_wins_over_the_csms_time() -> None:
    m = parse("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                     "status": "Available", "timestamp": FIRST})
    assert m.occurred_at == datetime(2026, 11, 20, 7, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "words"),
    [
        ((T0 + timedelta(hours=25)).isoformat(), "in the future"),
        ((T0 - timedelta(days=31)).isoformat(), "before the CSMS time"),
        ("yesterday", "using the CSMS time"),
    ],
)
def test_insane_stamps_fall_back_to_the_csms_time_and_say_so(stamp: str, words: str) -> None:
    m = parse("MeterValues", {"connectorId": 1, "meterValue": [sample(stamp)]})
    assert m.occurred_at == T0
    assert any(words in v for v in m.violations), m.violations


@pytest.mark.parametrize(
    ("offset", "kept"),
    [(timedelta(hours=23), True), (timedelta(days=-29), True)],
)
def test_stamps_inside_the_limits_are_kept(offset: timedelta, kept: bool) -> None:
    stamp = (T0 + offset).isoformat().replace("+00:00", "Z")
    m = parse("MeterValues", {"connectorId": 1, "meterValue": [sample(stamp)]})
    assert (m.occurred_at == T0 + offset) is kept


def test_a_stamp_without_a_zone_is_utc_and_flagged() -> None:
    m = parse("MeterValues", {"connectorId": 1, "meterValue": [sample("2026-11-20T07:55:00")]})
    assert m.occurred_at == datetime(2026, 11, 20, 7, 55, tzinfo=UTC)
    assert any("no time zone" in v for v in m.violations)
