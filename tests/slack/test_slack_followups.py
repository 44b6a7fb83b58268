"""Questions in threads, through the real bolt HTTP route with signed requests and the
Slack stand-in: a reply in a thread is read in that thread's context (the bot's own
answer there, read back with conversations.replies, or the alert the thread is under),
never in a per-person memory. Also: asking back with buttons, and slash free text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from slack_helpers import serve, signed_post
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.ask.followup import EVENT_TYPE as FOLLOW_UP_CONTEXT
from bot.config import Settings
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.inbound import FORM, action_body, command_body, event_body, ocpp_line
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import SlackStub
from bot.store.sites import SiteMap

SITES = """sites:
  Depot North: {timezone: Europe/Berlin, chargers: [CP-7]}
  Harbour Retail Park: {timezone: Europe/Berlin, chargers: [CP-12]}
"""


def boot(ts: str, charger: str) -> str:
    return ocpp_line(ts, charger, "BootNotification",
                     {"chargePointVendor": "Acme", "chargePointModel": "X1"})


def status(ts: str, charger: str, state: str, info: str = "", connector: int = 1) -> str:
    return ocpp_line(ts, charger, "StatusNotification", {
        "connectorId": connector, "errorCode": "OtherError" if state == "Faulted" else "NoError",
        "status": state, "vendorId": "Acme", "vendorErrorCode": "F400" if info else "",
        "info": info, "timestamp": ts,
    })


@dataclass
class Thread:
    stub: SlackStub
    url: str
    app: Any
    ids: Any

    def say(self, text: str, *, thread: str | None = None, user: str = "U0USER",
            channel: str = "COPS") -> tuple[str, Any]:
        """Post a mention (a reply when `thread` is given); returns (its ts, our answer)."""
        n = next(self.ids)
        ts = f"1800.{n:04d}"
        event = {"type": "app_mention", "user": user, "channel": channel, "ts": ts,
                 "text": f"<@UBOT> {text}"}
        if thread:
            event["thread_ts"] = thread
        before = len(self.stub.calls_to("chat.postMessage"))
        body = event_body(event, f"EvF{n:04d}")
        assert signed_post(self.url, body, "application/json")[0] == 200
        got = self.stub.wait_for("chat.postMessage", before + 1)[before]
        assert got.params["thread_ts"] == (thread or ts)
        return ts, got


@pytest.fixture
def world(db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient,
          clock: Any, tmp_path: Path) -> Iterator[Thread]:
    (tmp_path / "sites.yaml").write_text(SITES, encoding="utf-8")
    settings = replace(settings, sites_file=tmp_path / "sites.yaml")
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep, pace=0)
    app = build_app(settings, db_engine, client=client, authorize=static_authorize("xoxb-test"),
                    worker=worker, clock=clock)
    sites = SiteMap.from_settings(settings)
    pipeline = Pipeline(db_engine, sites=sites,
                        listeners=[services_of(app).publisher.on_changes])
    pipeline.process(read_lines([
        boot("2026-11-19T17:00:00Z", "CP-12"),
        boot("2026-11-19T17:00:00Z", "CP-7"),
        status("2026-11-19T22:00:00Z", "CP-12", "Faulted", "EMERGENCY_STOP_BUTTON_1"),
        status("2026-11-19T22:40:00Z", "CP-12", "Available"),
        status("2026-11-20T08:00:00Z", "CP-12", "Faulted", "EMERGENCY_STOP_BUTTON_1"),
    ], source="test"))
    services_of(app).deliver()
    with serve(app) as url:
        yield Thread(stub, url, app, count(1))


def test_a_follow_up_is_read_in_the_thread_s_charger(world: Thread) -> None:
    asked, first = world.say("whats wrong with cp12")
    assert first.params["text"].startswith("CP-12")
    assert first.params["metadata"]["event_payload"]["charger"] == "CP-12"

    _, night = world.say("what about last night?", thread=asked, user="U0OTHER")
    blocks = json.dumps(night.params["blocks"])
    assert "CP-12" in night.params["text"] and "last night" in night.params["text"]
    assert "Emergency stop" in blocks  # the 22:00 UTC stop, inside last night in Berlin

    _, port = world.say("and port 2?", thread=asked)
    assert port.params["text"].startswith("CP-12")
    assert "Port 1" not in json.dumps(port.params["blocks"])  # only port 2 (and the charger)
    replies = world.stub.calls_to("conversations.replies")
    assert replies and replies[-1].params["ts"] == asked
    assert str(replies[-1].params["include_all_metadata"]).lower() in ("1", "true")

    _, who = world.say("who should go?", thread=asked)  # still port 2: the thread's last answer
    assert who.params["text"].startswith("CP-12")
    assert "Who acts first" in json.dumps(who.params["blocks"])


def test_context_comes_from_the_thread_not_the_person(world: Thread) -> None:
    world.say("is cp12 ok")  # U0USER asked about CP-12 in a thread of their own
    other, _ = world.say("how is CP-7 doing", user="U0OTHER")
    _, reply = world.say("and port 2?", thread=other)  # U0USER, in the CP-7 thread
    assert reply.params["text"].startswith("CP-7")
    _, fresh = world.say("and port 2?")  # not in a thread: nothing to refer to
    assert "Which charger or site" in fresh.params["text"]
    # no context to refer back to (the outbox's own delivery key may be there)
    assert (fresh.params.get("metadata") or {}).get("event_type") != FOLLOW_UP_CONTEXT


def test_a_follow_up_that_names_its_own_charger_is_a_new_question(world: Thread) -> None:
    asked, _ = world.say("is cp12 ok")
    before = len(world.stub.calls_to("conversations.replies"))
    _, reply = world.say("and cp7?", thread=asked)
    assert reply.params["text"].startswith("CP-7")
    assert len(world.stub.calls_to("conversations.replies")) == before  # no need to read


def test_a_reply_in_an_alert_thread_is_about_the_alert(world: Thread) -> None:
    roots = [c for c in world.stub.ok_calls("chat.postMessage")
             if c.params["channel"] == "CALERTS" and not c.params.get("thread_ts")]
    assert roots, "the fault should have opened an alert"
    root_ts = roots[-1].response["ts"]
    _, reply = world.say("who should go?", thread=root_ts, channel="CALERTS")
    assert reply.params["text"].startswith("CP-12")


def test_two_close_readings_ask_back_and_the_button_answers(world: Thread) -> None:
    asked, question = world.say("is CP-12 at depot north ok?")
    blocks = question.params["blocks"]
    assert "Did you mean" in question.params["text"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["CP-12", "the site Depot North"]
    # nothing answered yet: no context to refer back to (the delivery key may be there)
    assert (question.params.get("metadata") or {}).get("event_type") != FOLLOW_UP_CONTEXT

    message = {"ts": question.response["ts"], "thread_ts": asked}
    payload = {
        "type": "block_actions", "user": {"id": "U0USER"}, "team": {"id": "T0STUB"},
        "api_app_id": "A0FAULTBOT", "trigger_id": "1.2.3",
        "response_url": world.stub.response_url_base + "a",
        "channel": {"id": "COPS"},
        "container": {"type": "message", "channel_id": "COPS", "message_ts": message["ts"]},
        "message": message, "actions": [buttons[1]],
    }
    before = len(world.stub.calls_to("chat.postMessage"))
    for _ in range(2):  # a double click answers once
        assert signed_post(world.url, action_body(payload), FORM)[0] == 200
    got = world.stub.wait_for("chat.postMessage", before + 1)[before]
    assert got.params["channel"] == "COPS" and got.params["thread_ts"] == asked
    assert got.params["text"].startswith("Depot North")
    assert got.params["metadata"]["event_payload"]["site"] == "Depot North"

    _, follow = world.say("what about yesterday?", thread=asked)
    assert follow.params["text"].startswith("Depot North")


def test_a_forged_button_value_is_refused_politely(world: Thread) -> None:
    payload = {
        "type": "block_actions", "user": {"id": "U0USER"}, "team": {"id": "T0STUB"},
        "api_app_id": "A0FAULTBOT", "trigger_id": "1.2.3",
        "response_url": world.stub.response_url_base + "a", "channel": {"id": "COPS"},
        "container": {"type": "message", "channel_id": "COPS", "message_ts": "1.1"},
        "message": {"ts": "1.1"},
        "actions": [{"action_id": "ask_pick:0", "value": '{"kind": "teach", "code": "x"}'}],
    }
    assert signed_post(world.url, action_body(payload), FORM)[0] == 200
    (told,) = world.stub.wait_for("response_url", 1)
    assert "something went wrong" in told.params["text"]


def test_slash_command_free_text_is_understood(world: Thread) -> None:
    status_code, _ = signed_post(
        world.url, command_body("is depot nroth ok?", world.stub.response_url_base + "r"), FORM
    )
    assert status_code == 200
    (site,) = world.stub.wait_for("response_url", 1)
    assert site.params["text"].startswith("Depot North")
    signed_post(world.url, command_body("why CP-12", world.stub.response_url_base + "r"), FORM)
    why = world.stub.wait_for("response_url", 2)[1]
    assert why.params["text"].startswith("CP-12")
