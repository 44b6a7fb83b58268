"""Requests as Slack sends them, for driving the app from outside over real HTTP.

`faultbot demo-slack` and the Slack tests both talk to the bolt HTTP route the way
Slack does: form or JSON bodies, signed with the signing secret. They share these
builders (and the contract-1 line maker for the frames they feed) instead of copying
them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
TEAM = "T0STUB"
APP_ID = "A0FAULTBOT"
BOT_USER = "UBOT"


def signed_post(
    url: str,
    body: str,
    content_type: str,
    *,
    secret: str,
    timestamp: int | None = None,
    signature: str | None = None,
    timeout: float = 10,
) -> tuple[int, str]:
    """POST `body` signed like Slack signs it; (HTTP status, response body).

    `timestamp`/`signature` override the real ones, to test what the app refuses.
    """
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = signature or SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    req = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def command_body(
    text: str,
    response_url: str,
    *,
    user: str = "U0USER",
    command: str = "/faultbot",
    channel: str = "COPS",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> str:
    """A slash command's form body (pass the stand-in's `trigger_id()` when the command
    may open a modal: the stand-in, like Slack, refuses ids it did not hand out)."""
    return urlencode(
        {
            "command": command,
            "text": text,
            "user_id": user,
            "user_name": "someone",
            "channel_id": channel,
            "team_id": TEAM,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def action_body(payload: dict[str, Any]) -> str:
    """An interactivity (button, modal) form body: the payload as JSON in `payload`."""
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API callback around `event`, addressed to the bot user."""
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def ocpp_line(
    ts: str, charger: str, action: str, payload: dict[str, Any], *, message_id: str | None = None
) -> str:
    """One contract-1 line: an OCPP 1.6 CALL from `charger` (id from charger and time)."""
    return json.dumps(
        {
            "ts": ts,
            "charger": charger,
            "dir": "in",
            "ocpp": "1.6",
            "frame": [2, message_id or f"{charger}-{ts}", action, payload],
        }
    )
