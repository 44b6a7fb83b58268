"""Fixtures for the Slack stage: the local Web API stand-in, a client on it, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.stub import SlackStub


class FakeClock:
    """A settable clock whose sleep() advances time instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    with SlackStub() as s:
        yield s


@pytest.fixture
def client(stub: SlackStub) -> WebClient:
    # No retry handlers: the outbox does the retrying, and tests must not sleep.
    return WebClient(token="xoxb-test", base_url=stub.base_url, retry_handlers=[], timeout=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, stub: SlackStub) -> Settings:
    return Settings(
        database_url=db_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret="test-secret",
        slack_api_url=stub.base_url,
        digest_channel="CDIGEST",
        alert_channel="CALERTS",
        timezone=ZoneInfo("Europe/Berlin"),
        admins=frozenset({"UADMIN"}),
    )


def with_(settings: Settings, **kw: Any) -> Settings:
    return replace(settings, **kw)


def make_incident(session: Session, **kw: Any) -> Incident:
    at = kw.pop("at", datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    values: dict[str, Any] = {
        "open_key": f"port|Depot North|{kw.get('charger', 'CP-12')}|1|emergency_stop",
        "scope": "port",
        "site": "Depot North",
        "charger": "CP-12",
        "connector": 1,
        "category": "emergency_stop",
        "severity": "outage",
        "owner": "site_staff",
        "suppressed": False,
        "summary": "Emergency stop button 1 is pressed.",
        "action": "Release the emergency stop button, then reset the charger.",
        "confidence": 0.97,
        "rule": "estop_phrase",
        "diagnosis": {"evidence": ["vendorErrorCode F400 matched Acme manual entry F400"]},
        "opened_at": at,
        "updated_at": at,
        "occurrences": 1,
        "flaps": 0,
        "ports": [],
    }
    values.update(kw)
    inc = Incident(**values)
    session.add(inc)
    session.flush()
    return inc
