"""The class of every Slack error faultbot meets, pinned (bot.slack.errors), and stored
with the outbox row when the local Slack stand-in answers with it (SQLite, PostgreSQL).

The table is written out by hand, not derived from the sets in bot/slack/errors.py: a
code moved from one set to another fails here, and a code added there without a line
here fails `test_every_code_the_code_names_is_pinned`.
"""

from __future__ import annotations

import socket
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.slack import errors
from bot.slack.errors import ErrorClass, classify_api_error, classify_network_error
from bot.slack.models import SlackOutbox
from bot.slack.outbox import OutboxWorker, enqueue
from bot.slack.render.budget import SlackMessage
from bot.slack.stub import Scripted, SlackStub

R, P, C = ErrorClass.RETRYABLE, ErrorClass.PERMANENT, ErrorClass.CONFIGURATION
STOPS, CHANNEL, TEXT = "stops posting", "this channel only", "text-only copy"

# ok:false code (HTTP 200) -> (class, what else it means)
PINNED: dict[str, tuple[ErrorClass, frozenset[str]]] = {
    # Slack or the network is having a moment
    "ratelimited": (R, frozenset()),
    "rate_limited": (R, frozenset()),
    "message_limit_exceeded": (R, frozenset()),
    "internal_error": (R, frozenset()),
    "fatal_error": (R, frozenset()),
    "service_unavailable": (R, frozenset()),
    "request_timeout": (R, frozenset()),
    "team_added_to_org": (R, frozenset()),
    # the token: every call fails the same way until an operator acts
    "invalid_auth": (C, frozenset({STOPS})),
    "not_authed": (C, frozenset({STOPS})),
    "token_revoked": (C, frozenset({STOPS})),
    "token_expired": (C, frozenset({STOPS})),
    "account_inactive": (C, frozenset({STOPS})),
    "missing_scope": (C, frozenset({STOPS})),
    "not_allowed_token_type": (C, frozenset({STOPS})),
    "no_permission": (C, frozenset({STOPS})),
    "ekm_access_denied": (C, frozenset({STOPS})),
    # the channel setting: other channels keep going
    "not_in_channel": (C, frozenset({CHANNEL})),
    "channel_not_found": (C, frozenset({CHANNEL})),
    "is_archived": (C, frozenset({CHANNEL})),
    "restricted_action": (C, frozenset({CHANNEL})),
    # this one message, as it is
    "msg_too_long": (P, frozenset({TEXT})),
    "invalid_blocks": (P, frozenset({TEXT})),
    "invalid_blocks_format": (P, frozenset({TEXT})),
    "message_not_found": (P, frozenset()),  # the message to edit is gone
    "cant_update_message": (P, frozenset()),
    "no_text": (P, frozenset()),
    "invalid_arguments": (P, frozenset()),
    "some_error_slack_adds_next_year": (P, frozenset()),  # unknown: never retried forever
}


def _meaning(code: str, status: int = 200) -> tuple[ErrorClass, frozenset[str]]:
    f = classify_api_error(status, {"ok": False, "error": code}, {})
    flags = {STOPS: f.stops_posting, CHANNEL: f.channel_scoped, TEXT: f.wants_text_fallback}
    assert isinstance(f.error_class, ErrorClass)
    return f.error_class, frozenset(k for k, on in flags.items() if on)


@pytest.mark.parametrize("code", sorted(PINNED))
def test_each_error_code_has_its_class(code: str) -> None:
    assert _meaning(code) == PINNED[code]


def test_every_code_the_code_names_is_pinned() -> None:
    named = (errors.RETRYABLE_ERRORS | errors.STOPPING_ERRORS | errors.CHANNEL_ERRORS
             | errors.TEXT_FALLBACK_ERRORS)
    assert named <= set(PINNED), sorted(named - set(PINNED))


@pytest.mark.parametrize(
    ("status", "code", "cls", "ambiguous"),
    [
        (429, None, R, False),  # rate limited by status alone
        (500, None, R, True),  # reached Slack: may have landed
        (502, None, R, True),
        (503, "service_unavailable", R, True),
        (400, None, P, False),  # "http_400": nothing says it will pass
        (404, None, P, False),
    ],
)
def test_http_statuses(status: int, code: str | None, cls: ErrorClass, ambiguous: bool) -> None:
    data = {"ok": False, "error": code} if code else {}
    f = classify_api_error(status, data, {"Retry-After": "3"})
    assert (f.error_class, f.ambiguous) == (cls, ambiguous)
    if status == 429:
        assert f.rate_limited and f.retry_after == 3.0
    else:
        assert f.error == (code or f"http_{status}")


@pytest.mark.parametrize(
    ("exc", "ambiguous"),
    [
        (URLError(ConnectionRefusedError(111, "refused")), False),  # never reached Slack
        (URLError(socket.gaierror(-2, "Name or service not known")), False),
        (ConnectionResetError(104, "reset"), True),  # may have reached Slack
        (TimeoutError("timed out"), True),
        (URLError(TimeoutError("timed out")), True),
    ],
)
def test_network_errors_are_retryable(exc: BaseException, ambiguous: bool) -> None:
    f = classify_network_error(exc)
    assert (f.error, f.error_class, f.ambiguous) == ("network", R, ambiguous)


def test_the_classes_are_a_closed_set_stored_by_value() -> None:
    assert [c.value for c in ErrorClass] == ["retryable", "permanent", "configuration"]
    assert (errors.RETRYABLE, errors.PERMANENT, errors.CONFIGURATION) == (R, P, C)


# --- stored with the outbox row ------------------------------------------------------------

# code -> (row status after one run, stored error_class)
STORED = {
    "message_limit_exceeded": ("pending", "retryable"),
    "ratelimited": ("pending", "retryable"),
    "invalid_auth": ("pending", "configuration"),  # posting stops; the row waits for a fix
    "missing_scope": ("pending", "configuration"),
    "channel_not_found": ("failed", "configuration"),
    "is_archived": ("failed", "configuration"),
    "msg_too_long": ("sent", "permanent"),  # went out as text only; the error is kept
    "invalid_blocks": ("sent", "permanent"),
    "cant_update_message": ("failed", "permanent"),
    "some_error_slack_adds_next_year": ("failed", "permanent"),
}


@pytest.mark.parametrize("code", sorted(STORED))
def test_the_class_is_stored_with_the_outbox_row(
    code: str, db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    stub.script("chat.postMessage", Scripted(error=code))
    with Session(db_engine) as s, s.begin():
        enqueue(s, channel="C1", message=SlackMessage("hello", []), dedupe_key=None,
                now=clock())
    OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep).run_once()
    with Session(db_engine) as s:
        (row,) = s.scalars(select(SlackOutbox).where(SlackOutbox.channel == "C1")).all()
        assert (row.status, row.error_class, row.last_error) == (*STORED[code], code)
    assert ErrorClass(row.error_class) is PINNED[code][0]


def test_a_network_failure_is_stored_as_retryable(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    with Session(db_engine) as s, s.begin():
        enqueue(s, channel="C1", message=SlackMessage("hello", []), dedupe_key=None,
                now=clock())
    stub.stop()  # connection refused: Slack is unreachable
    OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep).run_once()
    with Session(db_engine) as s:
        (row,) = s.scalars(select(SlackOutbox)).all()
        assert (row.status, row.error_class) == ("pending", "retryable")
        assert (row.last_error or "").startswith("network")
