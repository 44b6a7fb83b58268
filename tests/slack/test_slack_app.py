"""The bolt app through its real HTTP route (aiohttp), with requests signed like
Slack signs them, against the local Web API stand-in and a real database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_helpers import mrkdwn_texts, serve, signed_post
from slack_sdk import WebClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.inbound import FORM, action_body, command_body, event_body, ocpp_line
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import SlackStub
from bot.store.db import make_engine

HOSTILE_INFO = "<!channel> EMERGENCY_STOP_BUTTON_1 & <https://evil.example|click> @here"


def boot(ts: str, charger: str) -> str:
    return ocpp_line(
        ts, charger, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}
    )


def faulted(ts: str, charger: str, code: str, info: str, connector: int = 1) -> str:
    return ocpp_line(
        ts,
        charger,
        "StatusNotification",
        {
            "connectorId": connector,
            "errorCode": "OtherError",
            "status": "Faulted",
            "vendorId": "Acme",
            "vendorErrorCode": code,
            "info": info,
            "timestamp": ts,
        },
    )


@dataclass
class World:
    engine: Engine
    stub: SlackStub
    url: str
    app: Any
    pipeline: Pipeline

    def feed(self, *lines: str) -> Any:
        result = self.pipeline.process(read_lines(list(lines), source="test"))
        services_of(self.app).deliver()
        return result

    def command(self, text: str, user: str = "U0USER", n: int = 1) -> list[Any]:
        before = len(self.stub.calls_to("response_url"))
        status, _ = signed_post(
            self.url,
            command_body(
                text, self.stub.response_url(), user=user, trigger_id=self.stub.trigger_id()
            ),
            FORM,
        )
        assert status == 200
        return self.stub.wait_for("response_url", before + n)[before:]

    def click(
        self,
        action: dict[str, Any],
        user: str = "U0ONCALL",
        message: dict[str, Any] | None = None,
        channel: str = "CALERTS",
    ) -> int:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": "oncall"},
            "team": {"id": "T0STUB"},
            "api_app_id": "A0FAULTBOT",
            "trigger_id": self.stub.trigger_id(),
            "response_url": self.stub.response_url("a"),
            "channel": {"id": channel},
            "container": {
                "type": "message",
                "channel_id": channel,
                "message_ts": (message or {}).get("ts", "1.1"),
            },
            "message": message or {"ts": "1.1"},
            "actions": [action],
        }
        return signed_post(self.url, action_body(payload), FORM)[0]


@contextmanager
def make_world(
    engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> Iterator[World]:
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    worker = OutboxWorker(engine, client, clock=clock, sleep=clock.sleep, pace=0)
    app = build_app(
        settings,
        engine,
        client=client,
        authorize=static_authorize("xoxb-test"),
        worker=worker,
        clock=clock,
    )
    pipeline = Pipeline(engine, listeners=[services_of(app).publisher.on_changes])
    with serve(app) as url:
        w = World(engine, stub, url, app, pipeline)
        w.feed(
            boot("2026-11-20T07:50:00Z", "CP-12"),
            faulted("2026-11-20T08:00:00Z", "CP-12", "F400", HOSTILE_INFO),
            boot("2026-11-20T07:50:00Z", "CP-7"),
        )
        yield w


@pytest.fixture
def world(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> Iterator[World]:
    with make_world(db_engine, settings, stub, client, clock) as w:
        yield w


def test_signatures_are_verified(world: World) -> None:
    body = command_body("help", world.stub.response_url_base + "r")
    assert signed_post(world.url, body, FORM, signature="v0=" + "0" * 64)[0] == 401
    assert signed_post(world.url, body, FORM, secret="wrong-secret")[0] == 401
    stale = int(datetime.now(UTC).timestamp()) - 301
    assert signed_post(world.url, body, FORM, timestamp=stale)[0] == 401
    assert signed_post(world.url, body, FORM)[0] == 200
    assert len(world.stub.wait_for("response_url", 1)) == 1  # only the good one answered


def test_ack_comes_back_before_the_database_work(
    db_url: str, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    """The database is locked; the command must still be acked, and answered once the
    lock goes. Deterministic: the listener cannot read until the test releases it."""
    if db_url.startswith("sqlite"):
        # WAL lets readers past a writer; a rollback journal makes an EXCLUSIVE lock
        # block them (for up to the 30 s busy timeout), which is what this test needs.
        path = db_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
        engine = create_engine(db_url, connect_args={"timeout": 30})
    else:
        engine = make_engine(db_url)
    with make_world(engine, settings, stub, client, clock) as world:
        if db_url.startswith("sqlite"):
            locker: Any = sqlite3.connect(path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
        else:
            locker = engine.connect()
            locker.execute(text("LOCK TABLE chargers, incidents IN ACCESS EXCLUSIVE MODE"))
        try:
            status, body = signed_post(
                world.url,
                command_body("why CP-12", stub.response_url_base + "r"),
                FORM,
                timeout=5,
            )
            assert (status, body) == (200, "")  # acked while the answer cannot be computed
            assert stub.calls_to("response_url") == []
        finally:
            if isinstance(locker, sqlite3.Connection):
                locker.execute("ROLLBACK")
                locker.close()
            else:
                locker.rollback()
                locker.close()
        (answer,) = stub.wait_for("response_url", 1, timeout=20)
        assert "CP-12" in answer.params["text"]
        assert answer.params["response_type"] == "ephemeral"
    engine.dispose()


def test_every_subcommand_answers(world: World) -> None:
    (why,) = world.command("why CP-12")
    assert why.params["text"].startswith("CP-12")
    blocks = str(why.params["blocks"])
    assert "Emergency stop" in blocks and "Port 1" in blocks

    (site,) = world.command("site CP-12")  # a charger with no site file is its own site
    assert "CP-12" in site.params["text"]

    (code,) = world.command("code F400 Acme")
    assert "F400" in code.params["text"]

    digest = world.command("digest today")
    assert "2026-11-20" in digest[0].params["text"]

    (unknown,) = world.command("unknown")
    assert unknown.params["text"]

    (helped,) = world.command("help")
    assert "/faultbot why CP-12" in str(helped.params["blocks"])

    (typo,) = world.command("wyh please")  # "wyh CP-12" is read as a question about CP-12
    assert "Did you mean `/faultbot why`" in typo.params["text"]

    (missing,) = world.command("why CP-999")
    assert "CP-999" in missing.params["text"]

    (nodate,) = world.command("digest someday")
    assert "not a date" in nodate.params["text"]


def test_teach_is_for_admins_only(world: World) -> None:
    (refused,) = world.command("teach Acme E777", user="U0USER")
    assert "only faultbot admins" in refused.params["text"]
    assert world.stub.calls_to("views.open") == []
    status, _ = signed_post(
        world.url,
        command_body(
            "teach Acme E777",
            world.stub.response_url(),
            user="UADMIN",
            trigger_id=world.stub.trigger_id(),
        ),
        FORM,
    )
    assert status == 200
    (opened,) = world.stub.wait_for("views.open", 1)
    view = opened.params["view"]
    assert view["callback_id"] == "teach_submit"
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert initial["vendor"] == "Acme" and initial["code"] == "E777"


def test_teach_modal_then_the_next_fault_is_explained_attributed(world: World) -> None:
    first = world.feed(faulted("2026-11-20T08:10:00Z", "CP-7", "E777", "weird"))
    assert first.diagnoses and first.diagnoses[0].category.value == "unknown"
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": "teach_submit",
        "private_metadata": json.dumps({"channel": "COPS"}),
        "state": {
            "values": {
                "vendor": {"vendor": {"type": "plain_text_input", "value": "Acme"}},
                "code": {"code": {"type": "plain_text_input", "value": "E777"}},
                "model": {"model": {"type": "plain_text_input", "value": None}},
                "meaning": {
                    "meaning": {
                        "type": "plain_text_input",
                        "value": "Cable lock motor stalled <!channel>",
                    }
                },
                "category": {
                    "category": {
                        "type": "static_select",
                        "selected_option": {"value": "connector_lock"},
                    }
                },
                "owner": {
                    "owner": {"type": "static_select", "selected_option": {"value": "site_staff"}}
                },
                "severity": {
                    "severity": {"type": "static_select", "selected_option": {"value": "outage"}}
                },
                "action": {
                    "action": {
                        "type": "plain_text_input",
                        "value": "Unplug the cable and power-cycle the unit",
                    }
                },
            }
        },
    }
    payload = {
        "type": "view_submission",
        "user": {"id": "U0USER"},
        "team": {"id": "T0STUB"},
        "api_app_id": "A0FAULTBOT",
        "trigger_id": world.stub.trigger_id(),
        "view": view,
    }
    # A non-admin's forged submission is refused and stores nothing.
    assert signed_post(world.url, action_body(payload), FORM)[0] == 200
    (refusal,) = world.stub.wait_for("chat.postEphemeral", 1)
    assert "only faultbot admins" in refusal.params["text"]
    payload["user"] = {"id": "UADMIN"}
    assert signed_post(world.url, action_body(payload), FORM)[0] == 200
    _, confirm = world.stub.wait_for("chat.postEphemeral", 2)
    assert "taught faultbot `E777`" in confirm.params["text"]
    # The taught meaning is not in the confirmation; what is there is escaped text.
    assert "<!channel>" not in confirm.params["text"]
    assert "<@UADMIN>" in confirm.params["text"]

    second = Pipeline(world.engine).process(
        read_lines(
            [faulted("2026-11-20T08:30:00Z", "CP-7", "E777", "weird", connector=2)], source="t"
        )
    )
    (d,) = second.diagnoses
    assert d.category.value == "connector_lock"
    assert any("UADMIN" in e for e in d.evidence), d.evidence
    # What the admin typed is shown to everyone from now on: as text, never as markup.
    (why,) = world.command("why CP-7")
    shown = "\n".join([why.params["text"], *mrkdwn_texts(why.params.get("blocks", []))])
    assert "Cable lock motor stalled" in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_required_fields_are_checked_in_the_ack(world: World) -> None:
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": "teach_submit",
        "private_metadata": "",
        "state": {"values": {}},
    }
    payload = {
        "type": "view_submission",
        "user": {"id": "UADMIN"},
        "team": {"id": "T0STUB"},
        "api_app_id": "A0FAULTBOT",
        "trigger_id": world.stub.trigger_id(),
        "view": view,
    }
    status, body = signed_post(world.url, action_body(payload), FORM)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "vendor" in answer["errors"]


def test_mentions_and_dms_answer_in_thread_once(world: World) -> None:
    event = {
        "type": "app_mention",
        "user": "U0USER",
        "channel": "COPS",
        "ts": "1700.0001",
        "text": "<@UBOT> why is charger CP-12 faulted?",
    }
    for _ in range(2):  # Slack redelivers the same event_id after a timeout
        assert signed_post(world.url, event_body(event, "Ev001"), "application/json")[0] == 200
    (reply,) = world.stub.wait_for("chat.postMessage", 2)[1:]  # [0] is the alert root
    assert reply.params["channel"] == "COPS" and reply.params["thread_ts"] == "1700.0001"
    assert "CP-12" in reply.params["text"]

    dm = {
        "type": "message",
        "channel_type": "im",
        "user": "U0USER",
        "channel": "D0USER",
        "ts": "1700.0002",
        "text": "what does F400 mean on Acme?",
    }
    assert signed_post(world.url, event_body(dm, "Ev002"), "application/json")[0] == 200
    got = world.stub.wait_for("chat.postMessage", 3)
    assert got[2].params["channel"] == "D0USER" and "F400" in got[2].params["text"]
    assert len(world.stub.calls_to("chat.postMessage")) == 3


def _root(world: World) -> tuple[dict[str, Any], int]:
    (root,) = [
        c
        for c in world.stub.ok_calls("chat.postMessage")
        if c.params["channel"] == "CALERTS" and not c.params.get("thread_ts")
    ]
    with Session(world.engine) as s:
        (inc,) = s.scalars(select(Incident)).all()
    return {"ts": root.response["ts"], "blocks": root.params["blocks"]}, inc.id


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == action_id:
                return {
                    "action_id": action_id,
                    "block_id": block.get("block_id", "b"),
                    "type": el["type"],
                    "value": el.get("value"),
                    "options": el.get("options"),
                }
    raise AssertionError(f"no {action_id} button")


def test_alert_buttons_ack_snooze_why_resolve(world: World) -> None:
    message, incident_id = _root(world)
    assert world.click(_button(message, "incident_ack"), message=message) == 200
    world.stub.wait_for("chat.update", 1)
    replies = world.stub.wait_for("chat.postMessage", 2)
    assert "Acknowledged by <@U0ONCALL>" in replies[1].params["text"]
    assert replies[1].params["thread_ts"] == message["ts"]

    snooze = _button(message, "incident_snooze")
    option = next(o for o in snooze["options"] if "tomorrow" in o["value"])
    select_action = {
        "action_id": "incident_snooze",
        "block_id": snooze["block_id"],
        "type": "static_select",
        "selected_option": option,
    }
    assert world.click(select_action, message=message) == 200
    world.stub.wait_for("chat.update", 2)
    with Session(world.engine) as s:
        inc = s.get(Incident, incident_id)
        assert inc is not None and inc.snoozed_until is not None
        local = inc.snoozed_until.astimezone(world.app._faultbot_services.tz)
        assert (local.day, local.hour, local.minute) == (21, 8, 0)

    assert world.click(_button(message, "incident_why"), message=message) == 200
    why = world.stub.wait_for("chat.postMessage", 3)[2]
    assert why.params["thread_ts"] == message["ts"] and "CP-12" in why.params["text"]

    assert world.click(_button(message, "incident_resolve"), message=message) == 200
    resolved = world.stub.wait_for("chat.postMessage", 4)[3]
    assert "Resolved" in resolved.params["text"] and "<@U0ONCALL>" in resolved.params["text"]
    with Session(world.engine) as s:
        inc = s.get(Incident, incident_id)
        assert inc is not None and inc.resolved_by == "U0ONCALL" and inc.acked_by == "U0ONCALL"


def test_app_home(world: World) -> None:
    event = {"type": "app_home_opened", "user": "U0USER", "channel": "D0USER", "tab": "home"}
    assert signed_post(world.url, event_body(event, "Ev010"), "application/json")[0] == 200
    (published,) = world.stub.wait_for("views.publish", 1)
    assert published.params["user_id"] == "U0USER"
    home = str(published.params["view"]["blocks"])
    assert "Site staff: *1*" in home and "CP-12 port 1" in home and "Uptime yesterday" in home


def test_hostile_vendor_text_is_escaped_everywhere(world: World) -> None:
    world.command("why CP-12")
    world.command("digest today")
    event = {
        "type": "app_mention",
        "user": "U0USER",
        "channel": "COPS",
        "ts": "1700.0009",
        "text": "<@UBOT> why CP-12",
    }
    signed_post(world.url, event_body(event, "Ev009"), "application/json")
    world.stub.wait_for("chat.postMessage", 2)
    texts: list[str] = []
    for call in world.stub.calls:
        texts.append(str(call.params.get("text", "")))
        texts.extend(mrkdwn_texts(call.params.get("blocks", [])))
    joined = "\n".join(texts)
    assert "EMERGENCY_STOP_BUTTON_1" in joined  # the vendor text is shown ...
    for bad in ("<!channel>", "<!here>", "<https://evil"):  # ... but never as markup
        assert bad not in joined
    assert "&lt;!channel&gt;" in joined
    for call in world.stub.calls_to("chat.postMessage"):
        assert not call.params.get("link_names") and call.params.get("parse") in (None, "none")


def test_teach_buttons_from_the_unknown_codes_list(world: World) -> None:
    world.feed(faulted("2026-11-20T08:20:00Z", "CP-7", "E4242", "mystery"))
    (listing,) = world.command("unknown", user="UADMIN")
    buttons = [
        el for b in listing.params["blocks"] if b["type"] == "actions" for el in b["elements"]
    ]
    teach = next(b for b in buttons if "E4242" in b["value"])
    action = {
        "action_id": teach["action_id"],
        "block_id": "b",
        "type": "button",
        "value": teach["value"],
    }
    assert world.click(action, user="U0USER", channel="COPS") == 200
    (refused,) = world.stub.wait_for("response_url", 2)[1:]
    assert "only faultbot admins" in refused.params["text"]
    assert world.click(action, user="UADMIN", channel="COPS") == 200
    (opened,) = world.stub.wait_for("views.open", 1)
    fields = {
        b["block_id"]: b["element"].get("initial_value")
        for b in opened.params["view"]["blocks"]
        if b["type"] == "input"
    }
    assert fields["code"] == "E4242" and fields["vendor"] == "Acme"
    (plain_list,) = world.command("unknown", user="U0USER")  # no buttons for non-admins
    assert all(b["type"] != "actions" for b in plain_list.params["blocks"])


def test_teach_keeps_an_escaped_code_as_written(world: World) -> None:
    # @here typed after the vendor arrives as <!here>: it is the code, not a mention.
    status, _ = signed_post(
        world.url,
        command_body(
            "teach Alfen <!here>",
            world.stub.response_url(),
            user="UADMIN",
            trigger_id=world.stub.trigger_id(),
        ),
        FORM,
    )
    assert status == 200
    (opened,) = world.stub.wait_for("views.open", 1)
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in opened.params["view"]["blocks"]
        if b["type"] == "input"
    }
    assert initial["vendor"] == "Alfen" and initial["code"] == "<!here>"
