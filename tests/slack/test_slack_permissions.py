"""Who may press what, through the real HTTP route with correctly signed requests.

The world has one open incident (#1, CP-12) whose alert root is in CALERTS. UADMIN is
an admin, U0ONCALL an operator; U0MEMBER is only a member of CALERTS; U0STRANGER is
none of these. Refusals are ephemeral answers on the click's response_url.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_helpers import signed_post, with_
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from test_slack_app import World, _button, _root, make_world

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.inbound import FORM, action_body, event_body
from bot.slack.stub import SlackStub

STRANGER, MEMBER, ONCALL = "U0STRANGER", "U0MEMBER", "U0ONCALL"
NOT_ALLOWED = "you are not allowed"
NOT_FOUND = "That incident was not found"
WRONG_PLACE = "does not belong to this message"


@pytest.fixture
def world(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> Iterator[World]:
    stub.set_members("CALERTS", MEMBER, "U0SOMEONE")
    with make_world(db_engine, settings, stub, client, clock) as w:
        yield w


def answers_since(world: World, before: int, n: int = 1) -> list[str]:
    """Texts of the ephemeral answers (response_url posts) after the first `before`."""
    got = world.stub.wait_for("response_url", before + n)[before:]
    return [str(c.params.get("text", "")) for c in got]


def incident(world: World, incident_id: int) -> Incident:
    with Session(world.engine) as s:
        found = s.get(Incident, incident_id)
        assert found is not None
        return found


def snooze_action(message: dict[str, Any]) -> dict[str, Any]:
    snooze = _button(message, "incident_snooze")
    return {
        "action_id": "incident_snooze",
        "block_id": snooze["block_id"],
        "type": "static_select",
        "selected_option": snooze["options"][0],
    }


def posts(world: World) -> list[Any]:
    return world.stub.calls_to("chat.postMessage")


def test_a_stranger_is_refused_every_action(world: World) -> None:
    message, incident_id = _root(world)
    assert incident_id == 1  # so the `true` == 1 case below is the real incident
    actions = [
        _button(message, "incident_ack"),
        _button(message, "incident_resolve"),
        snooze_action(message),
        _button(message, "incident_why"),
    ]
    posted = len(posts(world))
    for n, action in enumerate(actions):
        assert world.click(action, user=STRANGER, message=message) == 200
        (text,) = answers_since(world, n)
        assert NOT_ALLOWED in text and "<@U0STRANGER>" in text, text
    inc = incident(world, incident_id)
    assert inc.acked_by is None and inc.resolved_at is None and inc.snoozed_until is None
    time.sleep(0.3)  # nothing queued must reach Slack: no "why" answer, no thread reply
    assert len(posts(world)) == posted
    assert not world.stub.calls_to("chat.update")


def test_a_member_of_the_alert_channel_may_ack_and_ask_why_but_not_resolve(
    world: World,
) -> None:
    message, incident_id = _root(world)
    assert world.click(_button(message, "incident_resolve"), user=MEMBER, message=message) == 200
    assert NOT_ALLOWED in answers_since(world, 0)[0]
    assert world.click(snooze_action(message), user=MEMBER, message=message) == 200
    assert NOT_ALLOWED in answers_since(world, 1)[0]
    assert incident(world, incident_id).resolved_at is None

    assert world.click(_button(message, "incident_ack"), user=MEMBER, message=message) == 200
    world.stub.wait_for("chat.update", 1)
    assert incident(world, incident_id).acked_by == MEMBER
    assert world.click(_button(message, "incident_why"), user=MEMBER, message=message) == 200
    why = world.stub.wait_for("chat.postMessage", 3)[2]
    assert why.params["channel"] == "CALERTS" and why.params["thread_ts"] == message["ts"]


def test_operators_and_admins_may_resolve(world: World) -> None:
    message, incident_id = _root(world)
    assert world.click(_button(message, "incident_resolve"), user="UADMIN", message=message) == 200
    world.stub.wait_for("chat.update", 1)
    assert incident(world, incident_id).resolved_by == "UADMIN"


def test_a_forged_channel_or_message_is_refused_and_nothing_is_posted_there(
    world: World,
) -> None:
    message, incident_id = _root(world)
    posted = len(posts(world))
    # The operator may resolve, but not from a message that is not the alert's root.
    elsewhere = [
        {"channel": "COTHER", "message": message},  # right ts, another channel
        {"channel": "CALERTS", "message": {"ts": "1.1"}},  # right channel, another message
    ]
    for n, where in enumerate(elsewhere):
        for m, name in enumerate(("incident_resolve", "incident_why")):
            assert world.click(_button(message, name), user=ONCALL, **where) == 200
            (text,) = answers_since(world, 2 * n + m)
            assert WRONG_PLACE in text, text
    assert incident(world, incident_id).resolved_at is None
    time.sleep(0.3)
    assert len(posts(world)) == posted  # "why" never answered into COTHER


def test_the_why_answer_goes_to_the_alert_thread_whatever_the_request_names(
    world: World,
) -> None:
    message, _ = _root(world)
    why = _button(message, "incident_why")
    payload_channel = {"id": "CALERTS"}
    # Slack reports the channel twice; a forged request may make them disagree.
    payload = {
        "type": "block_actions",
        "user": {"id": ONCALL},
        "team": {"id": "T0STUB"},
        "api_app_id": "A0FAULTBOT",
        "trigger_id": world.stub.trigger_id(),
        "response_url": world.stub.response_url("a"),
        "channel": payload_channel,
        "container": {"type": "message", "channel_id": "COTHER", "message_ts": message["ts"]},
        "message": {"ts": message["ts"], "thread_ts": "999.999"},
        "actions": [why],
    }
    assert signed_post(world.url, action_body(payload), FORM)[0] == 200
    answer = world.stub.wait_for("chat.postMessage", 2)[1]
    assert answer.params["channel"] == "CALERTS" and answer.params["thread_ts"] == message["ts"]


@pytest.mark.parametrize(
    "raw",
    [True, -1, 0, 2**70, 2**63, "1", 1.0, None, [1], {"id": 1}, 999_999],
    ids=repr,
)
def test_bad_incident_ids_are_not_found_without_a_traceback(
    world: World, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    message, incident_id = _root(world)
    caplog.set_level(logging.INFO)
    for n, name in enumerate(("incident_resolve", "incident_ack", "incident_why")):
        action = {**_button(message, name), "value": json.dumps({"incident": raw})}
        assert world.click(action, user="UADMIN", message=message) == 200
        (text,) = answers_since(world, n)
        assert NOT_FOUND in text, text
    inc = incident(world, incident_id)
    assert inc.resolved_at is None and inc.acked_by is None  # `true` did not mean #1
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_button_values_that_are_not_json_objects_are_not_found(world: World) -> None:
    message, _ = _root(world)
    for n, value in enumerate(["not json", "[1]", "1", None]):
        action = {**_button(message, "incident_resolve"), "value": value}
        assert world.click(action, user="UADMIN", message=message) == 200
        assert NOT_FOUND in answers_since(world, n)[0]


def test_teach_is_refused_to_strangers_by_button_command_and_form(world: World) -> None:
    action = {
        "action_id": "teach_code:0",
        "block_id": "b",
        "type": "button",
        "value": json.dumps({"vendor": "Acme", "code": "E1"}),
    }
    assert world.click(action, user=STRANGER, channel="COPS") == 200
    assert "only faultbot admins" in answers_since(world, 0)[0]
    (answer,) = world.command("teach E1 Acme", user=STRANGER)
    assert "only faultbot admins" in answer.params["text"]
    assert not world.stub.calls_to("views.open")


def test_mentions_and_dms_from_bots_are_never_answered(world: World) -> None:
    base = {"type": "app_mention", "channel": "COPS", "text": "<@UBOT> why CP-12"}
    bots = [
        {**base, "user": "U0OTHERBOT", "bot_id": "B0OTHER", "ts": "1.01"},
        {**base, "subtype": "bot_message", "bot_id": "B0OTHER", "ts": "1.02"},
        {**base, "user": "U0APP", "app_id": "A0OTHER", "ts": "1.03"},
        {**base, "user": "U0APP", "bot_profile": {"id": "B0X"}, "ts": "1.04"},
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0BOT",
            "user": "U0OTHERBOT",
            "bot_id": "B0OTHER",
            "text": "why CP-12",
            "ts": "1.05",
        },
    ]
    for n, event in enumerate(bots):
        assert signed_post(world.url, event_body(event, f"EvBot{n}"), "application/json")[0] == 200
    person = {**base, "user": "U0USER", "ts": "1.06"}
    assert signed_post(world.url, event_body(person, "EvPerson"), "application/json")[0] == 200
    world.stub.wait_for("chat.postMessage", 2)  # the root, then the person's answer
    time.sleep(0.5)  # the bot events were delivered first; give them time to misbehave
    replies = [c.params for c in posts(world)][1:]
    assert [r["thread_ts"] for r in replies] == ["1.06"], replies


def test_roles_come_from_settings(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    """FAULTBOT_PERMISSIONS can open resolve to the alert channel, or close why to all."""
    stub.set_members("CALERTS", MEMBER)
    opened = with_(
        settings, permissions={**settings.permissions, "resolve": "channel", "why": "nobody"}
    )
    with make_world(db_engine, opened, stub, client, clock) as world:
        message, incident_id = _root(world)
        assert world.click(_button(message, "incident_why"), user="UADMIN", message=message) == 200
        assert NOT_ALLOWED in answers_since(world, 0)[0]
        resolve = _button(message, "incident_resolve")
        assert world.click(resolve, user=MEMBER, message=message) == 200
        world.stub.wait_for("chat.update", 1)
        assert incident(world, incident_id).resolved_by == MEMBER
