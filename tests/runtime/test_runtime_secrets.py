"""No secret ever reaches the output of a running `faultbot serve` or its /health.

Every secret is set to a random value; the process gets signed webhook posts, a post
on the secret path (and one on a wrong path), a signed slash command, a button click
and a mention. Then its whole output (INFO, aiohttp's access log included) and the
/health answer are searched for each secret.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from pathlib import Path

from runtime_helpers import estop_line, free_port, post, start, stop, wait_http

from bot.feeds.webhook import signed_headers
from bot.slack.inbound import FORM, action_body, command_body, event_body, signed_post
from bot.slack.stub import SlackStub


def test_serve_prints_no_secret(tmp_path: Path, db_url: str) -> None:
    secret = {
        "SLACK_BOT_TOKEN": "xoxb-" + secrets.token_hex(12),
        "SLACK_APP_TOKEN": "xapp-" + secrets.token_hex(12),
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "FAULTBOT_WEBHOOK_SECRET": secrets.token_hex(16),
        "FAULTBOT_WEBHOOK_PATH_TOKEN": secrets.token_urlsafe(24),
    }
    database_url = db_url
    if db_url.startswith("postgresql"):  # the local server trusts us; the password is unused
        password = secrets.token_hex(10)
        database_url = db_url.replace("postgres@", f"postgres:{password}@", 1)
        secret["DATABASE_URL password"] = password
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with SlackStub() as stub:
        proc, log = start(
            "serve",
            tmp_path,
            {
                **{k: v for k, v in secret.items() if " " not in k},
                "DATABASE_URL": database_url,
                "SLACK_API_URL": stub.base_url,
                "FAULTBOT_ALERT_CHANNEL": "C0ALERTS",
                "FAULTBOT_ADMINS": "U0ADMIN",
                "FAULTBOT_HTTP_HOST": "127.0.0.1",
                "FAULTBOT_HTTP_PORT": str(port),
            },
        )
        try:
            wait_http(base + "/health")
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = json.dumps(estop_line(now)).encode()
            signed = signed_headers(secret["FAULTBOT_WEBHOOK_SECRET"], body)
            headers = {"content-type": "application/json", **signed}
            assert post(base + "/feed/ocpp", body, headers)[0] == 200
            token_path = f"{base}/feed/ocpp/{secret['FAULTBOT_WEBHOOK_PATH_TOKEN']}"
            status, _ = post(token_path, body, {"content-type": "application/json"})
            assert status == 200
            wrong = token_path[:-3] + "xyz"
            assert post(wrong, body, {"content-type": "application/json"})[0] == 404
            assert post(base + "/feed/ocpp", body, {**headers, "X-Faultbot-Signature": "v1=0"})[
                0
            ] == 401

            slack = base + "/slack/events"
            signing = secret["SLACK_SIGNING_SECRET"]
            cmd = command_body("why cp777", stub.response_url_base + "c", user="U0ADMIN")
            assert signed_post(slack, cmd, FORM, secret=signing)[0] == 200
            stub.wait_for("response_url", 1, timeout=30)
            click = {
                "type": "block_actions",
                "user": {"id": "U0SOMEONE"},
                "team": {"id": "T0STUB"},
                "response_url": stub.response_url_base + "a",
                "channel": {"id": "C0ALERTS"},
                "container": {"channel_id": "C0ALERTS", "message_ts": "1.1"},
                "message": {"ts": "1.1"},
                "actions": [{"action_id": "incident_resolve", "value": '{"incident": true}'}],
            }
            assert signed_post(slack, action_body(click), FORM, secret=signing)[0] == 200
            stub.wait_for("response_url", 2, timeout=30)
            mention = {
                "type": "app_mention",
                "user": "U0SOMEONE",
                "channel": "C0OPS",
                "ts": "1.2",
                "text": "<@UBOT> why cp777",
            }
            assert signed_post(slack, event_body(mention, "EvS1"), "application/json",
                               secret=signing)[0] == 200
            stub.wait_for("chat.postMessage", 2, timeout=30)  # the alert root and the answer
            assert signed_post(slack, cmd, FORM, secret="not-the-secret")[0] == 401
            with urllib.request.urlopen(base + "/health", timeout=30) as resp:
                health = resp.read().decode()
        except AssertionError as failure:
            out = stop(proc, log)
            raise AssertionError(f"{failure}\n--- faultbot serve output ---\n{out}") from None
        output = stop(proc, log)
    assert proc.returncode == 0, output
    assert "/feed/ocpp/***" in output, output  # the access log did log the secret path
    assert "webhook" in health
    for name, value in secret.items():
        assert value not in output, f"{name} is in the output of faultbot serve"
        assert value not in health, f"{name} is in /health"
    sent = json.dumps([c.params for c in stub.calls])
    for name, value in secret.items():
        if name != "SLACK_BOT_TOKEN":  # the Web API does get the bot token, as a header
            assert value not in sent, f"{name} was sent to Slack"
