"""Remote actions end to end: a charge point from the `ocpp` package, connected through
faultbot's OCPP-J tap to a CSMS from the same package; its fault opens an alert thread
in the Slack stand-in; an allowed user presses Soft reset (signed requests, confirmed in
a modal) -> the charger gets a Reset CALL from faultbot, its answer never reaches the
CSMS, the thread shows it, and when the charger reports Available the incident resolves
and the action counts as having fixed it. People not allowed see no buttons and cannot
act with forged requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v16.enums import RegistrationStatus, ResetStatus
from slack_helpers import serve, signed_post
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve

from bot.actions.channels import Channels, TapChannel
from bot.actions.models import RemoteAction
from bot.actions.stats import rates
from bot.config import Settings
from bot.feeds.sink import PipelineSink
from bot.feeds.tap import OcppTap
from bot.incidents.models import Incident
from bot.slack.actions_thread import ActionOffers
from bot.slack.alerts import AlertPublisher
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.dbutil import utcnow
from bot.slack.inbound import FORM, action_body
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import SlackStub
from bot.store.models import MessageRow

TIMEOUT = 15.0
ONCALL, ADMIN, STRANGER = "U0ONCALL", "UADMIN", "U0STRANGER"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Csms(CP16):
    """The real CSMS behind the tap: answers the charger, remembers every frame it got."""

    got: list[str]

    @on(Action16.boot_notification)
    def on_boot(self, **_: Any) -> result16.BootNotification:
        return result16.BootNotification(current_time=_now(), interval=60,
                                         status=RegistrationStatus.accepted)

    @on(Action16.status_notification)
    def on_status(self, **_: Any) -> result16.StatusNotification:
        return result16.StatusNotification()


class Charger(CP16):
    """A charge point whose fault a soft reset clears: after a reset it reports Available."""

    resets: list[str]

    @on(Action16.reset)
    def on_reset(self, type: str, **_: Any) -> result16.Reset:
        self.resets.append(type)
        return result16.Reset(status=ResetStatus.accepted)

    @after(Action16.reset)
    async def back_up(self, **_: Any) -> None:
        await asyncio.sleep(0.05)
        await self.call(call16.StatusNotification(
            connector_id=1, error_code="NoError", status="Available", timestamp=_now()))


class Recording:
    """A websockets connection that keeps the text frames it received."""

    def __init__(self, ws: Any, got: list[str]) -> None:
        self.ws, self.got = ws, got

    async def recv(self) -> str:
        msg = await self.ws.recv()
        self.got.append(msg)
        return str(msg)

    async def send(self, msg: str) -> None:
        await self.ws.send(msg)


@dataclass
class World:
    engine: Engine
    stub: SlackStub
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop
    tap: OcppTap
    sink: PipelineSink
    charger: Charger
    csms_got: list[str] = field(default_factory=list)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def deliver(self) -> None:
        services_of(self.app).deliver()

    def wait(self, cond: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def post(self, payload: dict[str, Any]) -> int:
        base = {"team": {"id": "T0STUB"}, "api_app_id": "A0FAULTBOT",
                "trigger_id": self.stub.trigger_id()}
        return signed_post(self.url, action_body({**base, **payload}), FORM)[0]

    def click(self, user: str, element: dict[str, Any], ephemeral_ts: str) -> int:
        return self.post({
            "type": "block_actions", "user": {"id": user},
            "response_url": self.stub.response_url("a"), "channel": {"id": "CALERTS"},
            "container": {"type": "message", "channel_id": "CALERTS",
                          "message_ts": ephemeral_ts, "is_ephemeral": True},
            "actions": [{"action_id": element["action_id"], "block_id": "b",
                         "type": "button", "value": element["value"]}],
        })

    def submit(self, user: str, view: dict[str, Any], view_id: str = "V0CONFIRM") -> int:
        return self.post({
            "type": "view_submission", "user": {"id": user},
            "view": {**view, "id": view_id, "state": {"values": {}}},
        })


@contextlib.contextmanager
def remote_world(
    engine: Engine, settings: Settings, stub: SlackStub, client: WebClient
) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def on_loop(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(TIMEOUT)

    csms_got: list[str] = []

    async def csms_handler(ws: ServerConnection) -> None:
        cp = Csms(ws.request.path.rsplit("/", 1)[-1], Recording(ws, csms_got))
        with contextlib.suppress(Exception):
            await cp.start()

    async def start_csms() -> Server:
        return await ws_serve(csms_handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"])  # type: ignore[list-item]

    csms = on_loop(start_csms())
    worker = OutboxWorker(engine, client, clock=utcnow, pace=0)
    publisher = AlertPublisher(engine, settings, clock=utcnow, update_debounce=timedelta(0))
    holder: dict[str, Any] = {}
    offers = ActionOffers(settings, lambda: holder["remote"])
    sink = PipelineSink(engine, listeners=[publisher.on_changes, offers.on_changes],
                        hold_down=timedelta(0))
    tap = OcppTap(f"ws://127.0.0.1:{csms.sockets[0].getsockname()[1]}/ocpp", sink, linger=0.01)
    on_loop(tap.start())
    holder["remote"] = Channels(TapChannel(tap, loop, timeout=TIMEOUT))
    app = build_app(settings, engine, client=client, authorize=static_authorize("xoxb-test"),
                    worker=worker, publisher=publisher, remote=holder["remote"])

    async def connect_charger() -> tuple[Charger, Any, asyncio.Task[None]]:
        ws = await connect(f"ws://127.0.0.1:{tap.port}/ocpp/CP-9", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        cp = Charger("CP-9", ws)
        cp.resets = []
        task = asyncio.create_task(cp.start())
        await cp.call(call16.BootNotification(charge_point_model="MaxiChargerAC",
                                              charge_point_vendor="Acme"))
        await cp.call(call16.StatusNotification(
            connector_id=1, error_code="InternalError", status="Faulted", timestamp=_now()))
        return cp, ws, task

    charger, ws, task = on_loop(connect_charger())
    try:
        with serve(app) as url:
            world = World(engine, stub, url, app, loop, tap, sink, charger, csms_got)
            world.wait(lambda: tap.health.stored >= 4, "the fault to be stored")
            world.deliver()
            yield world
    finally:
        async def stop() -> None:
            task.cancel()
            await ws.close()
            await tap.stop()
            csms.close()

        on_loop(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.fixture
def world(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient
) -> Iterator[World]:
    stub.set_members("CALERTS", ONCALL, STRANGER)
    with remote_world(db_engine, settings, stub, client) as w:
        yield w


def _root(world: World) -> Any:
    (root,) = [c for c in world.stub.ok_calls("chat.postMessage")
               if c.params["channel"] == "CALERTS" and not c.params.get("thread_ts")]
    return root


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {el["action_id"]: el for b in blocks for el in b.get("elements", [])
            if el.get("type") == "button"}


def _offer_to(world: World, user: str) -> Any:
    (offer,) = [c for c in world.stub.ok_calls("chat.postEphemeral") if c.params["user"] == user]
    return offer


def test_soft_reset_from_the_alert_thread_end_to_end(world: World) -> None:
    root = _root(world)
    root_ts = root.response["ts"]
    # Only the people allowed to act got the buttons, in the alert's thread.
    offers = world.stub.ok_calls("chat.postEphemeral")
    assert sorted(c.params["user"] for c in offers) == [ONCALL, ADMIN]
    assert all(c.params["thread_ts"] == root_ts and c.params["channel"] == "CALERTS"
               for c in offers)
    assert not [k for k in _buttons(root.params["blocks"]) if k.startswith("remote_action")]
    offer = _offer_to(world, ONCALL)
    buttons = _buttons(offer.params["blocks"])
    # InternalError's advice is "send a soft reset ...": resets and status are offered.
    assert {"remote_action:soft_reset", "remote_action:hard_reset",
            "remote_action:trigger_status"} <= set(buttons)
    assert "remote_action:unlock" not in buttons

    soft = buttons["remote_action:soft_reset"]
    assert world.click(ONCALL, soft, offer.response["message_ts"]) == 200
    (opened,) = world.stub.wait_for("views.open", 1)
    view = opened.params["view"]
    assert view["callback_id"] == "remote_confirm" and "CP-9" in json.dumps(view)
    assert world.charger.resets == []  # nothing happens before the modal is confirmed

    assert world.submit(ONCALL, view) == 200
    world.wait(lambda: world.charger.resets == ["Soft"], "the charger to get the Reset")
    world.wait(lambda: any("Accepted" in str(c.params.get("text"))
                           for c in world.stub.calls_to("chat.postMessage")), "the thread reply")
    (reply,) = [c for c in world.stub.ok_calls("chat.postMessage")
                if "soft reset" in str(c.params.get("text"))]
    assert reply.params["thread_ts"] == root_ts
    assert f"<@{ONCALL}>" in reply.params["text"] and "*Accepted*" in reply.params["text"]

    # The charger reports Available: the incident resolves and the reset fixed it.
    def settled() -> bool:
        with Session(world.engine) as s:
            (inc,) = s.scalars(select(Incident)).all()
            (act,) = s.scalars(select(RemoteAction)).all()
            return inc.resolved_at is not None and act.outcome == "fixed"

    world.wait(settled, "the incident to resolve and the outcome to count as fixed")
    with Session(world.engine) as s:
        (act,) = s.scalars(select(RemoteAction)).all()
        assert (act.kind, act.requested_by, act.via, act.status, act.answer) == (
            "soft_reset", ONCALL, "tap", "accepted", "Accepted")
        assert act.request_key == "slack:V0CONFIRM" and act.model == "MaxiChargerAC"
        own = s.scalars(select(MessageRow).where(MessageRow.source == "tap:faultbot")
                        .order_by(MessageRow.id)).all()
        assert [(m.direction, m.message_type) for m in own] == [("out", 2), ("in", 3)]
        assert own[0].unique_id == own[1].unique_id == act.message_id
        assert [(r.kind, r.fixed, r.total) for r in rates(s)] == [("soft_reset", 1, 1)]
    # The CSMS never saw faultbot's call nor the charger's answer to it.
    assert world.csms_got and not any("faultbot-" in m for m in world.csms_got)
    assert all(json.loads(m)[0] == 2 for m in world.csms_got)

    world.deliver()
    world.wait(lambda: any("worked" in str(c.params.get("text"))
                           for c in world.stub.ok_calls("chat.postMessage")), "the outcome line")
    # A retried submission of the same modal does not reset again.
    assert world.submit(ONCALL, view) == 200
    time.sleep(0.5)
    assert world.charger.resets == ["Soft"]


def test_remote_action_refused_to_a_user_not_allowed(world: World) -> None:
    assert STRANGER not in [c.params["user"] for c in world.stub.calls_to("chat.postEphemeral")]
    offer = _offer_to(world, ONCALL)
    soft = _buttons(offer.params["blocks"])["remote_action:soft_reset"]
    # A forged click: refused, no modal.
    assert world.click(STRANGER, soft, offer.response["message_ts"]) == 200
    (answer,) = world.stub.wait_for("response_url", 1)
    assert "not allowed" in answer.params["text"]
    # A forged modal submission: nothing is sent to the charger, nothing audited.
    view = {"type": "modal", "callback_id": "remote_confirm",
            "private_metadata": json.dumps({"incident": 1, "kind": "soft_reset"})}
    assert world.submit(STRANGER, view, view_id="V0FORGED") == 200
    world.wait(lambda: len(world.stub.calls_to("chat.postEphemeral")) == 3, "the refusal")
    refusal = world.stub.calls_to("chat.postEphemeral")[-1]
    assert refusal.params["user"] == STRANGER and "not allowed" in refusal.params["text"]
    time.sleep(0.5)
    assert world.charger.resets == [] and not world.stub.calls_to("views.open")
    with Session(world.engine) as s:
        assert s.scalars(select(RemoteAction)).all() == []
    # An action the diagnosis does not call for is refused even to an operator.
    view = {**view, "private_metadata": json.dumps({"incident": 1, "kind": "unlock"})}
    assert world.submit(ONCALL, view, view_id="V0UNLOCK") == 200
    time.sleep(0.5)
    with Session(world.engine) as s:
        assert s.scalars(select(RemoteAction)).all() == []


def test_the_button_says_why_when_the_charger_cannot_be_reached(world: World) -> None:
    offer = _offer_to(world, ONCALL)
    soft = _buttons(offer.params["blocks"])["remote_action:soft_reset"]
    world.run(world.charger._connection.close())  # the charger drops off the tap
    world.wait(lambda: not world.tap.is_connected("CP-9"), "the charger to disconnect")
    assert world.click(ONCALL, soft, offer.response["message_ts"]) == 200
    (answer,) = world.stub.wait_for("response_url", 1)
    assert "not connected through faultbot's OCPP tap" in answer.params["text"]
    assert not world.stub.calls_to("views.open") and world.charger.resets == []
    with Session(world.engine) as s:
        assert s.scalars(select(RemoteAction)).all() == []
