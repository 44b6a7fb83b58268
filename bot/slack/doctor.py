"""`faultbot doctor`'s Slack part (also run at start-up): is the token accepted, are
the scopes granted, can the bot post in (and read back) each configured channel.

Each check is a `Finding` with a key; the words (what is wrong, what to do) are in
templates/cli/doctor.j2, so this module only decides.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack.errors import token_kind
from bot.templating import terminal_env

log = logging.getLogger(__name__)

# The bot scopes faultbot needs; slack-manifest.yaml asks for exactly these
# (tests/slack/test_slack_manifest.py checks both against the methods the code calls).
REQUIRED_SCOPES = frozenset(
    {
        "app_mentions:read",
        "channels:history",
        "channels:read",
        "chat:write",
        "chat:write.public",
        "commands",
        "files:write",
        "groups:history",
        "groups:read",
        "im:history",
    }
)
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class Finding:
    key: str  # a macro in templates/cli/doctor.j2
    ok: bool
    args: dict[str, Any] = field(default_factory=dict)
    warning: bool = False  # works, but not as well as it should


def check_slack(settings: Settings, client: WebClient) -> list[Finding]:
    """Token, scopes and channels. Stops after a refused token: nothing else can work."""
    token = token_kind(settings.slack_bot_token or client.token)
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        error = str((exc.response.data or {}).get("error") or exc.response.status_code)
        return [Finding("token_refused", False, {"token": token, "error": error})]
    except (URLError, OSError) as exc:
        return [Finding("slack_unreachable", False, {"error": str(exc)[:200]})]
    found = [Finding("token_ok", True, {"token": token, "team": resp.get("team") or "?"})]
    granted = _granted(resp.headers)
    missing = sorted(REQUIRED_SCOPES - granted)
    extra = sorted(granted - REQUIRED_SCOPES)
    found.append(Finding("scopes", not missing, {"missing": missing, "extra": extra}))
    channels = {"FAULTBOT_ALERT_CHANNEL": settings.alert_channel}
    channels["FAULTBOT_DIGEST_CHANNEL"] = settings.digest_channel
    channels.update(_routed(settings))
    for setting, channel in channels.items():
        if channel:
            found.append(_check_channel(client, setting, channel, granted))
    return found


def _routed(settings: Settings) -> dict[str, str | None]:
    """The channels the paging file routes alerts to (a bad file is for `faultbot
    slack paging` and start-up to report: its channels cannot be known)."""
    from bot.slack.paging import PagingError, load_paging

    try:
        policy = load_paging(settings.paging_file)
    except PagingError:
        return {}
    return {f"FAULTBOT_PAGING routes[{r.number}]": r.channel for r in policy.routes}


def _granted(headers: Any) -> frozenset[str]:
    for key, value in dict(headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            raw = value[0] if isinstance(value, list) else value
            return frozenset(s.strip() for s in str(raw).split(",") if s.strip())
    return frozenset()


def _check_channel(
    client: WebClient, setting: str, channel: str, granted: frozenset[str]
) -> Finding:
    args: dict[str, Any] = {"setting": setting, "channel": channel}
    if not _CHANNEL_ID.match(channel):
        return Finding("channel_not_id", False, args)
    try:
        info = client.conversations_info(channel=channel).get("channel") or {}
    except SlackApiError as exc:
        args["error"] = str((exc.response.data or {}).get("error") or exc.response.status_code)
        return Finding("channel_unusable", False, args)
    except (URLError, OSError) as exc:
        return Finding("slack_unreachable", False, {"error": str(exc)[:200]})
    if info.get("is_archived"):
        return Finding("channel_archived", False, args)
    if info.get("is_member"):
        return Finding("channel_ok", True, args)
    if not info.get("is_private") and "chat:write.public" in granted:
        # It can post, but cannot read history back: no exactly-once after a lost reply.
        return Finding("channel_public_not_member", True, args, warning=True)
    return Finding("channel_not_member", False, args)


@lru_cache(maxsize=1)
def words() -> Any:
    return terminal_env("cli").get_template("doctor.j2").module


def say(finding: Finding) -> str:
    """One finding as a line (and, when something is wrong, what to do)."""
    mark = "ok  " if finding.ok and not finding.warning else ("warn" if finding.ok else "FIX ")
    text = str(getattr(words(), finding.key)(finding.args)).strip()
    return f"[{mark}] {text}"


def startup_check(settings: Settings, client: WebClient) -> bool:
    """The Slack part of `faultbot doctor`, logged at start-up; never raises (a check
    must not keep the bot from starting: the outbox keeps what it cannot send)."""
    try:
        findings = check_slack(settings, client)
    except Exception:
        log.exception("slack start-up check failed")
        return False
    for f in findings:
        level = logging.ERROR if not f.ok else logging.WARNING if f.warning else logging.INFO
        log.log(level, "slack check: %s", say(f))
    return all(f.ok for f in findings)
