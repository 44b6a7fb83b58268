"""What a failed Slack call means, and who has to act on it.

Three classes (`ErrorClass`, a closed enum), stored with the outbox row
(`error_class`, by value; Slack's error code is in `last_error`, its detail in
`error_detail`). tests/slack/test_slack_error_classes.py pins the class of every
error code named here:

- retryable: Slack or the network is having a moment; try again (429 included, but
  a 429 never feeds the error backoff: Retry-After says exactly when).
- permanent: this one message cannot go out as it is (too long, bad blocks, the
  message to edit is gone). Admins are told; where it helps, a text-only copy goes.
- configuration: a setting is wrong (token, scope, channel). Nothing about the message
  is at fault, so an operator must act. Token and scope errors stop all posting.

A failure is also *ambiguous* when the request may have reached Slack (a 5xx, a
timeout, a connection reset after the request was written): a post may have landed
and must be looked up before it is sent again.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.error import URLError


class ErrorClass(StrEnum):
    """What a failed call means; the value is what the outbox row stores."""

    RETRYABLE = "retryable"
    PERMANENT = "permanent"
    CONFIGURATION = "configuration"


RETRYABLE, PERMANENT, CONFIGURATION = (
    ErrorClass.RETRYABLE, ErrorClass.PERMANENT, ErrorClass.CONFIGURATION
)

RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
# ok:false errors Slack answers with HTTP 200 that mean "try again later".
RETRYABLE_ERRORS = RATE_LIMITED | frozenset(
    {
        "message_limit_exceeded",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
# The token is wrong, revoked or lacks a scope: every call will fail the same way.
STOPPING_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "ekm_access_denied",
    }
)
# The channel setting is wrong for this channel only: other channels keep going.
CHANNEL_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
)
# Content Slack refused; the same content as plain text may still go out.
TEXT_FALLBACK_ERRORS = frozenset({"msg_too_long", "invalid_blocks", "invalid_blocks_format"})


@dataclass(frozen=True, slots=True)
class SlackFailure:
    """One failed call, classified."""

    error: str  # Slack's error code, "http_503", or "network"
    error_class: ErrorClass
    detail: str = ""  # what Slack or the network said beyond the code
    ambiguous: bool = False  # the request may have taken effect
    retry_after: float | None = None  # seconds, from a 429's Retry-After

    @property
    def rate_limited(self) -> bool:
        return self.error in RATE_LIMITED

    @property
    def stops_posting(self) -> bool:
        return self.error in STOPPING_ERRORS

    @property
    def channel_scoped(self) -> bool:
        return self.error in CHANNEL_ERRORS

    @property
    def wants_text_fallback(self) -> bool:
        return self.error in TEXT_FALLBACK_ERRORS


def classify_api_error(status: int, data: dict[str, Any], headers: Any) -> SlackFailure:
    """A Slack answer (HTTP status, JSON body, headers) that was not ok."""
    error = str(data.get("error") or f"http_{status}")
    if status == 429 or error in RATE_LIMITED:
        return SlackFailure(
            "ratelimited", RETRYABLE, retry_after=retry_after(headers), detail=error
        )
    if status >= 500:
        # The request reached Slack: it may have done its work before failing.
        return SlackFailure(error, RETRYABLE, ambiguous=True)
    if error in RETRYABLE_ERRORS:
        return SlackFailure(error, RETRYABLE)
    if error in STOPPING_ERRORS or error in CHANNEL_ERRORS:
        return SlackFailure(error, CONFIGURATION, detail=_detail(error, data))
    return SlackFailure(error, PERMANENT, detail=_detail(error, data))


def classify_network_error(exc: BaseException) -> SlackFailure:
    """A call that got no answer. Refused connections never reached Slack; anything
    else (reset, timeout, a dropped reply) may have."""
    reason: object = exc.reason if isinstance(exc, URLError) else exc
    refused = isinstance(reason, ConnectionRefusedError | socket.gaierror)
    return SlackFailure("network", RETRYABLE, detail=str(reason)[:300], ambiguous=not refused)


def _detail(error: str, data: dict[str, Any]) -> str:
    """The parts of Slack's answer that say what exactly is wrong."""
    bits: list[str] = []
    if error == "missing_scope":
        if data.get("needed"):
            bits.append(f"needed: {data['needed']}")
        if data.get("provided"):
            bits.append(f"granted: {data['provided']}")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        bits.append("; ".join(str(e) for e in errors[:5]))
    messages = (data.get("response_metadata") or {}).get("messages")
    if isinstance(messages, list) and messages:
        bits.append("; ".join(str(m) for m in messages[:5]))
    return " | ".join(bits)[:1000]


def retry_after(headers: Any) -> float | None:
    """Retry-After in seconds (Slack sends whole seconds; the stand-in may send less)."""
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def token_kind(token: str | None) -> str:
    """Which token, without showing it: "bot token xoxb-…a1b2"."""
    if not token:
        return "no token"
    kinds = {"xoxb-": "bot token", "xapp-": "app-level token", "xoxp-": "user token"}
    kind = next((v for k, v in kinds.items() if token.startswith(k)), "token")
    # Enough to tell two tokens apart, never enough to use one.
    return f"{kind} {token[:5]}…{token[-4:]}" if len(token) > 16 else f"{kind} {token[:5]}…"
