"""Sharing answers: "Post to channel" under ephemeral answers, and `/faultbot digest
here`, through signed requests on the real HTTP route against the Slack stand-in.

The default `share` role is `channel`: members of the channel it is posted in (asked
of Slack), and operators and admins. U0USER is a member of COPS; U0STRANGER is not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_helpers import signed_post, with_
from slack_sdk import WebClient
from sqlalchemy import Engine
from test_slack_app import World, make_world

from bot.config import Settings
from bot.slack.inbound import FORM, command_body
from bot.slack.stub import SlackStub

MEMBER, STRANGER = "U0USER", "U0STRANGER"


@pytest.fixture
def world(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> Iterator[World]:
    stub.set_members("COPS", MEMBER)
    with make_world(db_engine, settings, stub, client, clock) as w:
        yield w


def share_button(answer: Any) -> dict[str, Any]:
    for block in answer.params["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == "answer_share":
                return {"action_id": "answer_share", "block_id": block.get("block_id", "b"),
                        "type": "button", "value": el["value"]}
    raise AssertionError("no Post to channel button")


def posts_in(stub: SlackStub, channel: str) -> list[Any]:
    return [c for c in stub.ok_calls("chat.postMessage") if c.params["channel"] == channel]


def test_post_to_channel_posts_the_same_answer_for_a_member(world: World, clock: Any) -> None:
    (answer,) = world.command("why CP-12", user=MEMBER)
    assert answer.params["response_type"] == "ephemeral"
    button = share_button(answer)
    clock.advance(3600)  # later: the shared answer is still the one that was shown
    assert world.click(button, user=MEMBER, channel="COPS") == 200
    (posted,) = world.stub.wait_for("chat.postMessage", 2)[1:]
    assert posted.params["channel"] == "COPS" and not posted.params.get("thread_ts")
    assert posted.params["text"] == answer.params["text"]
    shown = [b for b in answer.params["blocks"] if b["type"] != "actions"]
    assert posted.params["blocks"][: len(shown)] == shown
    assert "Posted to the channel by <@U0USER>" in str(posted.params["blocks"][-1])
    assert not any(b["type"] == "actions" for b in posted.params["blocks"])


def test_post_to_channel_is_refused_to_someone_not_allowed_there(world: World) -> None:
    (answer,) = world.command("why CP-12", user=STRANGER)
    before = len(world.stub.calls_to("response_url"))
    assert world.click(share_button(answer), user=STRANGER, channel="COPS") == 200
    (refusal,) = world.stub.wait_for("response_url", before + 1)[before:]
    assert "not allowed to post" in refusal.params["text"]
    time.sleep(0.3)
    assert posts_in(world.stub, "COPS") == []


def test_a_forged_share_value_posts_nothing(world: World) -> None:
    forged = [
        json.dumps({"cmd": {"kind": "help"}, "at": "2026-11-20T09:00:00+00:00"}),
        json.dumps({"cmd": {"kind": "why", "charger": "CP-12"}, "at": "yesterday"}),
        json.dumps({"text": "<!channel> free chargers"}),
        "not json",
    ]
    for n, value in enumerate(forged):
        action = {"action_id": "answer_share", "block_id": "b", "type": "button", "value": value}
        assert world.click(action, user="UADMIN", channel="COPS") == 200
        (gone,) = world.stub.wait_for("response_url", n + 1)[n:]
        assert "can no longer be posted" in gone.params["text"]
    time.sleep(0.3)
    assert posts_in(world.stub, "COPS") == []


def test_only_answers_offer_the_button(world: World) -> None:
    (help_answer,) = world.command("help", user=MEMBER)
    with pytest.raises(AssertionError):
        share_button(help_answer)
    (code_answer,) = world.command("code F400 Acme", user=MEMBER)
    assert share_button(code_answer)


def test_digest_here_posts_in_the_channel_for_a_member(world: World) -> None:
    ephemeral, _ = _digest_here(world, MEMBER)
    assert ephemeral == []  # nothing ephemeral: the answer is in the channel
    posted = posts_in(world.stub, "COPS")
    assert posted and "igest" in posted[0].params["text"]
    assert "Posted to the channel by <@U0USER>" in str(posted[-1].params["blocks"][-1])


def test_digest_here_is_refused_to_a_stranger_and_digest_alone_stays_ephemeral(
    world: World,
) -> None:
    (refusal,) = world.command("digest here", user=STRANGER)
    assert "not allowed to post" in refusal.params["text"]
    answers = world.command("digest", user=STRANGER)
    assert all(a.params["response_type"] == "ephemeral" for a in answers)
    assert share_button(answers[-1])
    time.sleep(0.3)
    assert posts_in(world.stub, "COPS") == []


def test_share_can_be_switched_off(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    locked = with_(settings, permissions={**settings.permissions, "share": "nobody"})
    stub.set_members("COPS", MEMBER)
    with make_world(db_engine, locked, stub, client, clock) as w:
        (answer,) = w.command("why CP-12", user="UADMIN")
        assert w.click(share_button(answer), user="UADMIN", channel="COPS") == 200
        assert "not allowed to post" in w.stub.wait_for("response_url", 2)[1].params["text"]


def _digest_here(world: World, user: str) -> tuple[list[Any], list[Any]]:
    before = len(world.stub.calls_to("chat.postMessage"))
    body = command_body("digest here", world.stub.response_url(), user=user,
                        trigger_id=world.stub.trigger_id())
    assert signed_post(world.url, body, FORM)[0] == 200
    posted = world.stub.wait_for("chat.postMessage", before + 1)[before:]
    return world.stub.calls_to("response_url"), posted
