"""The stand-in's Socket Mode side against slack_sdk's real SocketModeClient and bolt.

The peer is the library faultbot runs in production (built-in SocketModeClient over a
real WebSocket on 127.0.0.1), so these tests pin that the stand-in speaks the protocol
the SDK expects: URL from apps.connections.open, hello, envelopes, acks, refresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.slack.app import static_authorize
from bot.slack.stub import SlackStub

APP_TOKEN = "xapp-1-A0FAULTBOT-1-test"


def _acking_client(stub: SlackStub, seen: list[dict[str, Any]]) -> SocketModeClient:
    web = WebClient(base_url=stub.base_url, retry_handlers=[], timeout=5)
    # A short ping interval makes the SDK's reconnect monitor run often (drop test).
    client = SocketModeClient(app_token=APP_TOKEN, web_client=web, ping_interval=0.5)

    def on_message(c: Any, message: dict[str, Any], raw: str | None) -> None:
        seen.append(message)

    def on_request(c: SocketModeClient, req: SocketModeRequest) -> None:
        c.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"text": req.type})
        )

    client.message_listeners.append(on_message)
    client.socket_mode_request_listeners.append(on_request)
    return client


@pytest.fixture
def sdk(stub: SlackStub) -> Iterator[tuple[SocketModeClient, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    client = _acking_client(stub, seen)
    try:
        yield client, seen
    finally:
        client.close()


def test_connections_open_wants_an_app_token(stub: SlackStub) -> None:
    good = WebClient(base_url=stub.base_url, retry_handlers=[]).apps_connections_open(
        app_token=APP_TOKEN
    )
    assert good["url"].startswith(f"ws://127.0.0.1:{stub.socket._port}/link/?ticket=")
    for token, error in (("xoxb-bot", "not_allowed_token_type"), ("", "not_authed")):
        with pytest.raises(SlackApiError) as err:
            WebClient(base_url=stub.base_url, retry_handlers=[]).apps_connections_open(
                app_token=token
            )
        assert err.value.response["error"] == error
    assert [c.token for c in stub.calls_to("apps.connections.open")] == [APP_TOKEN, "xoxb-bot", ""]


def test_only_issued_tickets_connect(stub: SlackStub) -> None:
    url = WebClient(base_url=stub.base_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    forged = url.split("?")[0] + "?ticket=forged"
    with pytest.raises(InvalidStatus) as err:
        connect(forged, open_timeout=5).close()
    assert err.value.response.status_code == 403
    with connect(url, open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
    assert hello["type"] == "hello"
    assert hello["connection_info"]["app_id"] == "A0FAULTBOT"
    assert stub.wait_socket_connections(1)[0].ticket in url


def test_envelopes_are_acked_over_the_socket(stub: SlackStub, sdk: Any) -> None:
    client, seen = sdk
    with pytest.raises(RuntimeError, match="not connected"):
        stub.socket_send("events_api", {"type": "event_callback"})
    client.connect()
    [conn] = stub.wait_socket_connections(1)
    assert conn.open

    eid = stub.socket_send("slash_commands", {"command": "/faultbot", "text": "help"})
    ack = stub.wait_socket_ack(eid, timeout=5)
    assert ack is not None
    assert ack.payload == {"text": "slash_commands"}
    assert ack.connection == conn.number
    assert 0 <= ack.latency < 5
    envelope = next(m for m in seen if m.get("envelope_id") == eid)
    assert envelope["accepts_response_payload"] is True
    assert seen[0]["type"] == "hello"

    retried = stub.socket_send(
        "events_api", {"type": "event_callback"}, retry_attempt=1, retry_reason="timeout"
    )
    assert stub.wait_socket_ack(retried, timeout=5) is not None
    envelope = next(m for m in seen if m.get("envelope_id") == retried)
    assert envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (1, "timeout")
    assert stub.wait_socket_ack("never-sent", timeout=0.05) is None


def test_refresh_requested_makes_the_app_reconnect(stub: SlackStub, sdk: Any) -> None:
    client, _ = sdk
    client.connect()
    stub.wait_socket_connections(1)
    first = stub.socket_disconnect("refresh_requested", grace=5)
    conns = stub.wait_socket_connections(2, timeout=10)
    assert len(conns) == 2
    assert stub.socket.wait_closed(first, timeout=10)
    assert [c.number for c in stub.socket.open_connections()] == [2]
    assert len(stub.calls_to("apps.connections.open")) == 2  # a fresh URL each time

    eid = stub.socket_send("events_api", {"type": "event_callback"})
    ack = stub.wait_socket_ack(eid, timeout=5)
    assert ack is not None and ack.connection == 2


def test_a_dropped_socket_is_reopened(stub: SlackStub, sdk: Any) -> None:
    client, _ = sdk
    client.connect()
    stub.wait_socket_connections(1)
    stub.socket_drop()
    # No disconnect message: the SDK notices on its own (its monitor runs every 0.5 s here).
    assert len(stub.wait_socket_connections(2, timeout=15)) == 2
    eid = stub.socket_send("interactive", {"type": "block_actions"})
    assert stub.wait_socket_ack(eid, timeout=5) is not None


def test_what_is_not_an_ack_is_recorded_not_raised(stub: SlackStub) -> None:
    # Generous timeouts: they only bound a failure, and a loaded CI box is slow.
    url = WebClient(base_url=stub.base_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    with connect(url, open_timeout=30) as ws:
        ws.recv(timeout=30)  # hello
        eid = stub.socket_send("events_api", {"type": "event_callback"})
        json.loads(ws.recv(timeout=30))
        ws.send("not json {")
        ws.send(json.dumps({"envelope_id": "unknown-id"}))
        ws.send(json.dumps(["a list"]))
        ws.send(json.dumps({"envelope_id": eid}))
        ws.send(json.dumps({"envelope_id": eid, "payload": {"twice": True}}))
        ack = stub.wait_socket_ack(eid, timeout=30)
    assert ack is not None and ack.payload is None
    assert stub.socket.wait_closed(1, timeout=30)
    assert len(stub.socket.unexpected) == 4  # junk, unknown id, list, second ack


def test_bolt_ack_text_comes_back_in_the_ack(stub: SlackStub) -> None:
    web = WebClient(token="xoxb-test", base_url=stub.base_url, retry_handlers=[], timeout=5)
    app = App(client=web, authorize=static_authorize("xoxb-test"), signing_secret="unused")

    @app.command("/faultbot")
    def on_command(ack: Ack, body: dict[str, Any]) -> None:
        ack(text=f"got {body['text']}")

    handler = SocketModeHandler(app, APP_TOKEN)
    try:
        handler.connect()
        stub.wait_socket_connections(1)
        payload = {
            "command": "/faultbot",
            "text": "why CP-1",
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T0STUB",
            "response_url": stub.response_url_base + "x",
            "trigger_id": "1.2.3",
        }
        ack = stub.wait_socket_ack(stub.socket_send("slash_commands", payload), timeout=5)
        assert ack is not None and ack.payload == {"text": "got why CP-1"}
    finally:
        handler.close()


def test_stop_closes_connections(stub: SlackStub, sdk: Any) -> None:
    client, _ = sdk
    client.connect()
    [conn] = stub.wait_socket_connections(1)
    stub.stop()  # an outage: the Web API and the socket both go away
    assert not conn.open
    assert not stub.socket.started
