"""Reopen on a resolved alert, and who snoozed it, through signed clicks on the real
HTTP route against the Slack stand-in. Reopen is checked on the server (permission
`reopen`, operators by default, and the alert's own message)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from test_slack_app import World, _button, _root, make_world
from test_slack_permissions import answers_since, snooze_action

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.stub import SlackStub

MEMBER, STRANGER = "U0MEMBER", "U0STRANGER"


@pytest.fixture
def world(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> Iterator[World]:
    stub.set_members("CALERTS", MEMBER)
    with make_world(db_engine, settings, stub, client, clock) as w:
        yield w


def incident(world: World, incident_id: int) -> Incident:
    with Session(world.engine) as s:
        found = s.get(Incident, incident_id)
        assert found is not None
        return found


def resolved_root(world: World) -> tuple[dict[str, Any], int]:
    message, incident_id = _root(world)
    assert world.click(_button(message, "incident_resolve"), user="U0ONCALL",
                       message=message) == 200
    update = world.stub.wait_for("chat.update", 1)[-1]
    return {"ts": message["ts"], "blocks": update.params["blocks"]}, incident_id


def test_an_operator_reopens_a_resolved_incident(world: World, clock: Any) -> None:
    message, incident_id = resolved_root(world)
    with pytest.raises(AssertionError):
        _button(_root(world)[0], "incident_reopen")  # an open alert offers no Reopen
    reopen = _button(message, "incident_reopen")
    assert world.click(reopen, user="U0ONCALL", message=message) == 200
    update = world.stub.wait_for("chat.update", 2)[-1]
    inc = incident(world, incident_id)
    assert inc.resolved_at is None and inc.open_key is not None
    assert inc.acked_by == "U0ONCALL"  # on it: not re-paged
    assert "Resolved" not in update.params["text"]
    assert "Acknowledged by <@U0ONCALL>" in str(update.params["blocks"])
    reply = world.stub.wait_for("chat.postMessage", 3)[2]
    assert reply.params["thread_ts"] == message["ts"]
    assert "Reopened by <@U0ONCALL>" in reply.params["text"]
    # Resolving it again later says so again (a new resolution, not a duplicate).
    clock.advance(600)
    assert world.click(_button({"blocks": update.params["blocks"]}, "incident_resolve"),
                       user="U0ONCALL", message=message) == 200
    again = world.stub.wait_for("chat.postMessage", 4)[3]
    assert "Resolved" in again.params["text"]
    assert incident(world, incident_id).resolved_by == "U0ONCALL"


@pytest.mark.parametrize("user", [MEMBER, STRANGER])
def test_reopen_is_refused_to_people_who_are_not_operators(world: World, user: str) -> None:
    message, incident_id = resolved_root(world)
    before = len(world.stub.calls_to("response_url"))
    assert world.click(_button(message, "incident_reopen"), user=user, message=message) == 200
    (text,) = answers_since(world, before)
    assert "not allowed to reopen" in text and f"<@{user}>" in text
    assert incident(world, incident_id).resolved_at is not None


def test_a_forged_reopen_from_another_message_is_refused(world: World) -> None:
    message, incident_id = resolved_root(world)
    before = len(world.stub.calls_to("response_url"))
    forged = _button(message, "incident_reopen")
    assert world.click(forged, user="UADMIN", message={"ts": "1.1"}) == 200
    (text,) = answers_since(world, before)
    assert "does not belong to this message" in text
    assert incident(world, incident_id).resolved_at is not None


def test_reopen_is_refused_when_a_newer_incident_holds_the_port(world: World) -> None:
    message, incident_id = resolved_root(world)
    with Session(world.engine) as s, s.begin():
        old = s.get(Incident, incident_id)
        assert old is not None
        newer = Incident(**{c.name: getattr(old, c.name) for c in Incident.__table__.columns
                            if c.name not in ("id", "resolved_at", "resolved_by")})
        newer.open_key = f"port:{old.charger}:{old.connector}:power_module"
        newer.category = "power_module"
        s.add(newer)
    before = len(world.stub.calls_to("response_url"))
    assert world.click(_button(message, "incident_reopen"), user="U0ONCALL",
                       message=message) == 200
    (text,) = answers_since(world, before)
    assert "A newer alert is already open" in text
    assert incident(world, incident_id).resolved_at is not None


def test_the_root_says_who_snoozed(world: World) -> None:
    message, _ = _root(world)
    assert world.click(snooze_action(message), user="U0ONCALL", message=message) == 200
    update = world.stub.wait_for("chat.update", 1)[-1]
    assert "Snoozed until" in str(update.params["blocks"])
    assert "by <@U0ONCALL>" in str(update.params["blocks"])
