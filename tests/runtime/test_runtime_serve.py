"""`faultbot serve` as a user runs it: a real process with feeds, triage and Slack.

The process gets a signed webhook POST carrying an emergency-stop fault, opens an
incident, posts the on-call alert to the local Slack stand-in, answers a signed
slash command, reports /health, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.feeds.webhook import signed_headers
from bot.slack.stub import SlackStub

WEBHOOK_SECRET = "feed-secret"
SIGNING_SECRET = "slack-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # generous: CI may be loaded
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # the server answers (503 while no feed is live is fine)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def _stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return log.read_text(errors="replace")


def _estop_line(ts: str) -> dict[str, object]:
    return {
        "ts": ts,
        "charger": "CP-777",
        "dir": "in",
        "ocpp": "1.6",
        "frame": [
            2,
            "e1",
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "OtherError",
                "status": "Faulted",
                "vendorId": "Acme",
                "vendorErrorCode": "F400",
                "info": "EMERGENCY_STOP_BUTTON_1 <!channel>",
                "timestamp": ts,
            },
        ],
    }


def test_serve_end_to_end(tmp_path: Path, db_url: str) -> None:
    port = _free_port()
    with SlackStub() as stub:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": stub.base_url,
            "FAULTBOT_ALERT_CHANNEL": "C0ALERTS",
            "FAULTBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "FAULTBOT_HTTP_HOST": "127.0.0.1",
            "FAULTBOT_HTTP_PORT": str(port),
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = tmp_path / "serve.log"  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_http(base + "/health", time.monotonic() + 60)

            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = json.dumps(_estop_line(now)).encode()
            headers = {"content-type": "application/json", **signed_headers(WEBHOOK_SECRET, body)}
            status, answer = _post(base + "/feed/ocpp", body, headers)
            assert status == 200, answer
            assert json.loads(answer)["stored"] == 1

            # A bad signature is refused and stores nothing.
            forged = {**headers, "X-Faultbot-Signature": "v1=00"}
            status, _ = _post(base + "/feed/ocpp", body, forged)
            assert status == 401

            # The alert reaches the Slack stand-in, with the vendor text escaped.
            posts = stub.wait_for("chat.postMessage", 1, timeout=20)
            alert = posts[0].params
            assert alert["channel"] == "C0ALERTS"
            dumped = json.dumps(alert)
            assert "<!channel>" not in dumped
            assert "CP-777" in dumped

            # A correctly signed slash command is acked by the running process.
            form = urlencode(
                {
                    "command": "/faultbot",
                    "text": "why cp777",
                    "user_id": "U1",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "response_url": stub.response_url_base + "cmd",
                    "trigger_id": "1.2.3",
                }
            ).encode()
            ts = str(int(time.time()))
            verifier = SignatureVerifier(SIGNING_SECRET)
            sig = verifier.generate_signature(timestamp=ts, body=form.decode())
            status, _ = _post(
                base + "/slack/events",
                form,
                {
                    "content-type": "application/x-www-form-urlencoded",
                    "x-slack-request-timestamp": ts,
                    "x-slack-signature": sig,
                },
            )
            assert status == 200
            answers = stub.wait_for("response_url", 1, timeout=20)
            assert "CP-777" in json.dumps(answers[-1].params)

            status, _ = _post(base + "/slack/events", form, {"x-slack-signature": "v0=bad",
                                                              "x-slack-request-timestamp": ts})
            assert status == 401
        except AssertionError as failure:
            out = _stop(proc, log)
            raise AssertionError(f"{failure}\n--- faultbot serve output ---\n{out}") from None
        out = _stop(proc, log)
        text = out
        assert proc.returncode == 0, text
        assert "Traceback" not in text, text
