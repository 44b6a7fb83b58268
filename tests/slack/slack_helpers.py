"""Helpers shared by the Slack tests (fixtures are in conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack import inbound
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


# Signed exactly as `faultbot demo-slack` signs them (bot.slack.inbound), with our secret.
signed_post = partial(inbound.signed_post, secret=SECRET)
