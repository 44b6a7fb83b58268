"""`faultbot serve` as a user runs it: a real process with feeds, triage and Slack.

The process gets a signed webhook POST carrying an emergency-stop fault, opens an
incident, posts the on-call alert to the local Slack stand-in, answers a signed
slash command, reports /health, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

from runtime_helpers import WEBHOOK_SECRET, estop_line, free_port, post, start, stop, wait_http
from slack_sdk.signature import SignatureVerifier

from bot.feeds.webhook import signed_headers
from bot.slack.stub import SlackStub

SIGNING_SECRET = "slack-secret"


def test_serve_end_to_end(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    with SlackStub() as stub:
        proc, log = start(
            "serve",
            tmp_path,
            {
                "DATABASE_URL": db_url,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_APP_TOKEN": None,
                "SLACK_API_URL": stub.base_url,
                "FAULTBOT_ALERT_CHANNEL": "C0ALERTS",
                "FAULTBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "FAULTBOT_HTTP_HOST": "127.0.0.1",
                "FAULTBOT_HTTP_PORT": str(port),
            },
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/health")

            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = json.dumps(estop_line(now)).encode()
            headers = {"content-type": "application/json", **signed_headers(WEBHOOK_SECRET, body)}
            status, answer = post(base + "/feed/ocpp", body, headers)
            assert status == 200, answer
            assert json.loads(answer)["stored"] == 1

            # A bad signature is refused and stores nothing.
            forged = {**headers, "X-Faultbot-Signature": "v1=00"}
            status, _ = post(base + "/feed/ocpp", body, forged)
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
            status, _ = post(
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

            bad = {"x-slack-signature": "v0=bad", "x-slack-request-timestamp": ts}
            status, _ = post(base + "/slack/events", form, bad)
            assert status == 401
        except AssertionError as failure:
            out = stop(proc, log)
            raise AssertionError(f"{failure}\n--- faultbot serve output ---\n{out}") from None
        text = stop(proc, log)
        assert proc.returncode == 0, text
        assert "Traceback" not in text, text
