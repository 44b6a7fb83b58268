"""Failures reach a person: each permanent error Slack (the strict stand-in) gives ends
in an admin DM (once per cause), the /health Slack section and the admins' App Home;
refused blocks and over-long text go out again as text only; token and scope errors
stop posting and say which token or scope."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import pytest
from slack_helpers import mrkdwn_texts
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.feeds.health import HealthState
from bot.slack.home import home_view
from bot.slack.models import SlackOutbox
from bot.slack.outbox import OutboxWorker, enqueue
from bot.slack.render.budget import SlackMessage
from bot.slack.status import slack_section
from bot.slack.stub import SlackStub

TOO_LONG_SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]


def _worker(engine: Engine, client: WebClient, clock) -> OutboxWorker:
    return OutboxWorker(
        engine, client, clock=clock, sleep=clock.sleep, pace=0, admins=frozenset({"UADMIN"})
    )


def _queue(engine: Engine, clock, channel: str, **kw: Any) -> None:
    with Session(engine) as s, s.begin():
        enqueue(s, channel=channel, now=clock(), **kw)


def _rows(engine: Engine, channel: str) -> list[SlackOutbox]:
    with Session(engine) as s:
        return list(
            s.scalars(select(SlackOutbox).where(SlackOutbox.channel == channel).order_by("id"))
        )


def _dms(stub: SlackStub) -> list[str]:
    return [m.text for m in stub.messages.values() if m.channel == "UADMIN"]


def _home_text(engine: Engine, settings: Settings, clock, worker: OutboxWorker, admin: bool) -> str:
    with Session(engine) as s:
        view = home_view(s, settings.timezone, clock(), admin=admin, worker=worker)
    return "\n".join(mrkdwn_texts(view["blocks"]))


# (the error, how the stand-in is made to give it honestly, what is queued, text-only copy)
CASES = {
    "not_in_channel": (
        lambda stub: (
            stub.add_channel("CX", member=False),
            stub.grant("xoxb-test", "chat:write", "channels:history"),
        ),
        {"message": SlackMessage("alert", [])},
        False,
    ),
    "channel_not_found": (
        lambda stub: stub.missing_channels.add("CX"),
        {"message": SlackMessage("alert", [])},
        False,
    ),
    "is_archived": (
        lambda stub: stub.add_channel("CX", archived=True),
        {"message": SlackMessage("alert", [])},
        False,
    ),
    "msg_too_long": (
        lambda stub: None,
        {"extra": {"text": "long line\n" * 4001}},
        True,
    ),
    "invalid_blocks": (
        lambda stub: None,
        {"extra": {"text": "fallback", "blocks": TOO_LONG_SECTION}},
        True,
    ),
}


@pytest.mark.parametrize("error", sorted(CASES))
def test_permanent_error_reaches_admin_health_and_home(
    db_engine: Engine,
    settings: Settings,
    stub: SlackStub,
    client: WebClient,
    clock,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    arrange, queued, text_only = CASES[error]
    arrange(stub)
    worker = _worker(db_engine, client, clock)
    _queue(db_engine, clock, "CX", **queued)
    _queue(db_engine, clock, "COK", message=SlackMessage("other channel", []))
    with caplog.at_level(logging.WARNING):
        worker.run_once()
        worker.run_once()  # the admin DM queued by the first pass

    (row,) = _rows(db_engine, "CX")
    assert row.last_error == error
    assert row.error_class == ("configuration" if not text_only else "permanent")
    assert _rows(db_engine, "COK")[0].status == "sent"  # others go on
    if text_only:
        assert row.status == "sent" and "sent as text only" in (row.error_detail or "")
        (copy,) = [m for m in stub.messages.values() if m.channel == "CX"]
        assert copy.blocks == [] and len(copy.text) <= 40_000
        assert ("x" * 3001 in copy.text) if error == "invalid_blocks" else copy.text
    else:
        assert row.status == "failed"
    if error == "invalid_blocks":  # Slack's detail is logged, not lost
        assert "cannot exceed 3000 characters" in caplog.text
        assert "cannot exceed 3000 characters" in (row.error_detail or "")

    # One DM per admin per cause, however often it happens.
    (dm,) = _dms(stub)
    assert error in dm
    _queue(db_engine, clock, "CX", **queued)
    worker.run_once()
    worker.run_once()
    assert len(_dms(stub)) == 1

    # /health's Slack section.
    health = HealthState(slack=partial(slack_section, db_engine, worker))
    health.feed("webhook").live = True
    ok, body = health.report(clock())
    assert ok  # a refused message does not fail /health: a restart would not fix it
    section = body["slack"]
    assert section["last_error"]["error"] == error
    assert section["last_error"]["channel"] == "CX"
    assert section["outbox_failed"] == (0 if text_only else 2)
    assert section["outbox_pending"] == 0
    assert section["connection"] == "ok"

    # App Home: admins see it, with what to do; others do not.
    assert error in _home_text(db_engine, settings, clock, worker, admin=True)
    assert error not in _home_text(db_engine, settings, clock, worker, admin=False)


@pytest.mark.parametrize("error", ["invalid_auth", "missing_scope"])
def test_token_and_scope_errors_stop_posting_and_say_which(
    db_engine: Engine,
    settings: Settings,
    stub: SlackStub,
    client: WebClient,
    clock,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    if error == "invalid_auth":
        stub.bad_tokens.add("xoxb-test")
    else:
        stub.grant("xoxb-test", "commands", "channels:history")  # no chat:write
    worker = _worker(db_engine, client, clock)
    _queue(db_engine, clock, "C1", message=SlackMessage("first", []))
    _queue(db_engine, clock, "C2", message=SlackMessage("second", []))
    with caplog.at_level(logging.ERROR):
        assert worker.run_once() == 0
    # Posting stopped: one call, nothing dropped.
    assert len(stub.calls_to("chat.postMessage")) == 1
    assert [r.status for r in _rows(db_engine, "C1") + _rows(db_engine, "C2")] == ["pending"] * 2
    stop_lines = [r for r in caplog.records if "posting stopped" in r.getMessage()]
    assert stop_lines and stop_lines[0].levelno == logging.ERROR
    said = stop_lines[0].getMessage()
    assert "bot token xoxb-" in said and "xoxb-test" not in said  # which token, not the token
    if error == "missing_scope":
        assert "needed: chat:write" in said
    health = HealthState(slack=partial(slack_section, db_engine, worker))
    health.feed("webhook").live = True
    ok, body = health.report(clock())
    assert not ok and body["slack"]["connection"] == "stopped"
    assert any("posting stopped" in p for p in body["problems"])
    assert worker.run_once() == 0 and len(stub.calls_to("chat.postMessage")) == 1

    # Fixed (a new install): everything queued goes out, admins were told once.
    stub.bad_tokens.clear()
    stub.grants.clear()
    clock.advance(301)
    for _ in range(3):
        worker.run_once()
    assert {m.channel for m in stub.messages.values()} == {"C1", "C2", "UADMIN"}
    assert len(_dms(stub)) == 1
    assert worker.state.stopped is None
