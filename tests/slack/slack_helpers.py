"""Helpers shared by the Slack tests (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.http import serve_in_thread


def with_(settings: Settings, **kw: Any) -> Settings:
    return replace(settings, **kw)


def make_incident(session: Session, **kw: Any) -> Incident:
    at = kw.pop("at", datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    values: dict[str, Any] = {
        "open_key": f"port|Depot North|{kw.get('charger', 'CP-12')}|1|emergency_stop",
        "scope": "port",
        "site": "Depot North",
        "charger": "CP-12",
        "connector": 1,
        "category": "emergency_stop",
        "severity": "outage",
        "owner": "site_staff",
        "suppressed": False,
        "summary": "Emergency stop button 1 is pressed.",
        "action": "Release the emergency stop button, then reset the charger.",
        "confidence": 0.97,
        "rule": "estop_phrase",
        "diagnosis": {"evidence": ["vendorErrorCode F400 matched Acme manual entry F400"]},
        "opened_at": at,
        "updated_at": at,
        "occurrences": 1,
        "flaps": 0,
        "ports": [],
    }
    values.update(kw)
    inc = Incident(**values)
    session.add(inc)
    session.flush()
    return inc


def mrkdwn_texts(obj: Any) -> list[str]:
    """Every mrkdwn text in a block tree: the places Slack parses markup."""
    out: list[str] = []
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            out.append(str(obj.get("text", "")))
        for value in obj.values():
            out.extend(mrkdwn_texts(value))
    elif isinstance(obj, list):
        for value in obj:
            out.extend(mrkdwn_texts(value))
    return out


HOSTILE = ("<!channel>", "<!here>", "<https://evil", "<@U", "<#C", "&<")


def assert_no_injection(texts: list[str]) -> None:
    """No vendor-made mention or link survives; our own <@U…>/<!date…> tokens are
    checked by the tests that expect them."""
    for text in texts:
        for bad in ("<!channel>", "<!here>", "<!everyone>", "<https://evil"):
            assert bad not in text, text


# --- talking to the app over real HTTP, signed like Slack does ---------------------------


SECRET = "test-secret"


def serve(app: App) -> Any:
    """The aiohttp Slack route on 127.0.0.1 in a thread; yields its URL."""
    return serve_in_thread(app)


def signed_post(
    url: str,
    body: str,
    content_type: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    timeout: float = 10,
) -> tuple[int, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = signature or SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
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
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def command_body(
    text: str,
    response_url: str,
    *,
    user: str = "U0USER",
    command: str = "/faultbot",
    channel: str = "COPS",
) -> str:
    return urlencode(
        {
            "command": command,
            "text": text,
            "user_id": user,
            "user_name": "someone",
            "channel_id": channel,
            "team_id": "T0STUB",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def action_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T0STUB",
            "api_app_id": "A0FAULTBOT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T0STUB", "user_id": "UBOT", "is_bot": True}],
        }
    )
