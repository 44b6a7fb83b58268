"""`faultbot run` in Socket Mode (the default deployment) as a user runs it.

A real process, configured with an app-level token, opens a WebSocket to the local Slack
stand-in; the stand-in pushes a slash command and an app_mention the way Slack does and
checks each is acked over the socket within Slack's 3 s, that the answers arrive (via
response_url and chat.postMessage in the thread), that a signed webhook frame becomes an
alert in the alert channel and its hostile vendor text (`<!channel>`) reaches Slack only
escaped, that a `refresh_requested`
disconnect leads to a new connection that still answers, and that SIGTERM stops it
cleanly.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl

from runtime_helpers import WEBHOOK_SECRET, estop_line, free_port, post, start, stop, wait_http

from bot.feeds.webhook import signed_headers
from bot.slack.inbound import command_body, event_body
from bot.slack.stub import SlackStub, StubCall
from bot.slack.stub_socket import SocketAck

ACK_DEADLINE = 3.0  # Slack shows the user an error after this


def _command(stub: SlackStub, text: str, tag: str) -> tuple[SocketAck, list[StubCall]]:
    """Push `/faultbot <text>` over the socket; its ack and the response_url posts."""
    url = stub.response_url_base + tag
    payload = dict(parse_qsl(command_body(text, url)))
    envelope_id = stub.socket_send("slash_commands", payload)
    ack = stub.wait_socket_ack(envelope_id, timeout=15)
    assert ack is not None, f"no ack for {text!r}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answers = [c for c in stub.calls_to("response_url") if c.path.endswith("/" + tag)]
        if answers:
            return ack, answers
        stub.wait_for("response_url", len(stub.calls_to("response_url")) + 1, timeout=1)
    raise AssertionError(f"no response_url answer for {text!r}")


def _mention(stub: SlackStub, ts: str, event_id: str) -> tuple[SocketAck, StubCall]:
    event = {
        "type": "app_mention",
        "user": "U0USER",
        "channel": "COPS",
        "ts": ts,
        "event_ts": ts,
        "text": "<@UBOT> why CP-777",
    }
    envelope_id = stub.socket_send("events_api", json.loads(event_body(event, event_id)))
    ack = stub.wait_socket_ack(envelope_id, timeout=15)
    assert ack is not None, "no ack for the app_mention"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for call in stub.calls_to("chat.postMessage"):
            if call.params.get("channel") == "COPS" and call.params.get("thread_ts") == ts:
                return ack, call
        stub.wait_for("chat.postMessage", len(stub.calls_to("chat.postMessage")) + 1, 1)
    raise AssertionError("the mention was not answered in its thread")


def test_run_socket_mode_end_to_end(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    latencies: dict[str, float] = {}
    with SlackStub() as stub:
        proc, log = start(
            "run",
            tmp_path,
            {
                "DATABASE_URL": db_url,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_APP_TOKEN": "xapp-1-A0FAULTBOT-1-test",
                "SLACK_API_URL": stub.base_url,
                "SLACK_SIGNING_SECRET": None,  # Socket Mode needs no signing secret
                "FAULTBOT_DIGEST_CHANNEL": None,
                "FAULTBOT_ALERT_CHANNEL": "C0ALERTS",
                "FAULTBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "FAULTBOT_HTTP_HOST": "127.0.0.1",
                "FAULTBOT_HTTP_PORT": str(port),
            },
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/health")
            [first] = stub.wait_socket_connections(1, timeout=30)
            assert first.open, "the app never opened a Socket Mode connection"
            opened = stub.calls_to("apps.connections.open")
            assert opened and opened[0].token.startswith("xapp-")
            # Readiness sees the Socket Mode connection (and the database, the webhook).
            with urllib.request.urlopen(base + "/health/ready", timeout=60) as resp:
                ready = json.loads(resp.read())
            assert ready["ready"] and ready["checks"]["slack"] == {"ok": True, "problem": None}

            # A signed feed frame: emergency stop -> incident -> alert in the alert channel.
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = json.dumps(estop_line(now)).encode()
            headers = {"content-type": "application/json", **signed_headers(WEBHOOK_SECRET, body)}
            status, answer = post(base + "/feed/ocpp", body, headers)
            assert status == 200, answer
            posts = stub.wait_for("chat.postMessage", 1, timeout=20)
            alert = posts[0].params
            assert alert["channel"] == "C0ALERTS"
            dumped = json.dumps(alert)
            assert "CP-777" in dumped
            assert "<!channel>" not in dumped

            # The slash command is acked over the socket, then answered via response_url.
            ack, answers = _command(stub, "why CP-777", "cmd1")
            latencies["slash command"] = ack.latency
            assert ack.connection == first.number
            answered = json.dumps(answers[-1].params)
            assert "CP-777" in answered
            # The alert root carries no vendor text; the answer quotes it, escaped.
            assert "&lt;!channel&gt;" in answered

            # Hostile, oversized command text: acked, answered honestly, never echoed raw.
            ack, answers = _command(stub, "why " + "<!channel>" * 2000, "hostile")
            latencies["hostile slash command"] = ack.latency
            assert "<!channel>" not in json.dumps(answers[-1].params)
            # An event type faultbot does not subscribe to must not upset the process.
            stub.socket_send("events_api", {"type": "event_callback", "event": {"type": "x"}})

            # An app_mention is acked (events carry no payload) and answered in its thread.
            ack, reply = _mention(stub, "1790000100.000100", "Ev0SOCKET1")
            latencies["app_mention"] = ack.latency
            assert ack.payload is None
            assert "CP-777" in json.dumps(reply.params)

            # Slack refreshes the connection: the app opens a new one and keeps answering.
            stub.socket_disconnect("refresh_requested", grace=10)
            conns = stub.wait_socket_connections(2, timeout=20)
            assert len(conns) == 2, "the app did not reconnect after refresh_requested"
            assert stub.socket.wait_closed(first.number, timeout=15)
            ack, answers = _command(stub, "why CP-777", "cmd2")
            latencies["slash command after refresh"] = ack.latency
            assert ack.connection == conns[1].number
            assert "CP-777" in json.dumps(answers[-1].params)
            ack, _ = _mention(stub, "1790000200.000200", "Ev0SOCKET2")
            latencies["app_mention after refresh"] = ack.latency

            slow = {k: v for k, v in latencies.items() if v >= ACK_DEADLINE}
            assert not slow, f"acks slower than Slack's {ACK_DEADLINE} s: {slow}"
            assert not stub.socket.unexpected, stub.socket.unexpected
            # The vendor's hostile info text reached Slack only escaped, never as a ping.
            everything = json.dumps([c.params for c in stub.calls])
            assert "<!channel>" not in everything
        except AssertionError as failure:
            out = stop(proc, log)
            raise AssertionError(f"{failure}\n--- faultbot run output ---\n{out}") from None
        text = stop(proc, log)
        print("socket ack latency (ms): "
              + ", ".join(f"{k} {v * 1000:.1f}" for k, v in latencies.items()))
        assert proc.returncode == 0, text
        assert "Traceback" not in text, text
        assert "Socket Mode" in text, text
