"""Fixtures for the Slack stage: the local Web API stand-in, a client on it, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.config import Settings
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
        operators=frozenset({"U0ONCALL"}),
    )
