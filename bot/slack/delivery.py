"""One outbound Slack call, made safe to repeat: stable keys in message metadata, a
history lookup after an ambiguous failure, and a text-only copy when Slack refuses
the blocks.

Slack's `chat.postMessage` is not idempotent. Every post carries
`metadata = {"event_type": ..., "event_payload": {"key": ...}}`; when an attempt may
have landed (5xx, timeout, reset), the next attempt first reads the channel (or the
thread) back with `include_all_metadata` and adopts the message whose key matches.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.errors import SlackFailure, classify_api_error, classify_network_error

log = logging.getLogger(__name__)

EVENT_TYPES = {
    "root": "faultbot_alert",
    "reply": "faultbot_alert_reply",
    "digest": "faultbot_digest",
    "notice": "faultbot_notice",
    "report": "faultbot_report",
}
# Not a Web API method: the outbox's name for slack_sdk's files_upload_v2 (three calls:
# files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal). The
# row's payload holds the files base64-encoded, and channel and thread_ts.
UPLOAD_FILES = "files.uploadV2"
# A conversation id (public, private, DM, group DM). History can only be read by id;
# a name ("#ops") or a user id (a DM opened by posting) cannot be looked up.
_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
LOOKUP_MARGIN = timedelta(minutes=15)  # clocks differ; look a little further back
LOOKUP_PAGES = 5
TEXT_LIMIT = 40_000  # Slack refuses longer top-level text with msg_too_long


@dataclass(frozen=True, slots=True)
class CallResult:
    ts: str | None = None
    channel: str | None = None  # the id Slack answered with
    failure: SlackFailure | None = None
    adopted: bool = False  # found in history, not posted again

    @property
    def ok(self) -> bool:
        return self.failure is None


def stamp(payload: dict[str, Any], key: str, kind: str | None, incident_id: int | None) -> None:
    """Put the row's stable key into the post's metadata (kept if the producer set more)."""
    meta = dict(payload.get("metadata") or {})
    body = dict(meta.get("event_payload") or {})
    body["key"] = key
    if incident_id is not None:
        body.setdefault("incident_id", incident_id)
    meta["event_type"] = meta.get("event_type") or EVENT_TYPES.get(kind or "", "faultbot_message")
    meta["event_payload"] = body
    payload["metadata"] = meta


def key_of(payload: dict[str, Any]) -> str | None:
    meta = payload.get("metadata") or {}
    key = (meta.get("event_payload") or {}).get("key")
    return str(key) if key else None


def call(client: WebClient, method: str, payload: dict[str, Any]) -> CallResult:
    try:
        resp = client.api_call(method, json=payload)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return CallResult(
            failure=classify_api_error(exc.response.status_code, data, exc.response.headers)
        )
    except (URLError, OSError, TimeoutError) as exc:
        return CallResult(failure=classify_network_error(exc))
    ts = resp.get("ts") or resp.get("message_ts")
    channel = resp.get("channel")
    return CallResult(ts=ts, channel=channel if isinstance(channel, str) else None)


def upload_files(client: WebClient, payload: dict[str, Any]) -> CallResult:
    """Upload the payload's files into its channel and thread (UPLOAD_FILES)."""
    from base64 import b64decode

    from slack_sdk.errors import SlackRequestError

    uploads = [{"content": b64decode(f["content_b64"]), "filename": f["filename"],
                "title": f["title"], "alt_txt": f["alt_txt"]} for f in payload["files"]]
    try:
        client.files_upload_v2(file_uploads=uploads, channel=payload["channel"],
                               thread_ts=payload["thread_ts"],
                               initial_comment=payload.get("initial_comment"))
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return CallResult(
            failure=classify_api_error(exc.response.status_code, data, exc.response.headers)
        )
    except (SlackRequestError, URLError, OSError, TimeoutError) as exc:
        return CallResult(failure=classify_network_error(exc))
    return CallResult(channel=payload["channel"])


def lookup(client: WebClient, payload: dict[str, Any], since: datetime) -> CallResult | None:
    """The message an earlier attempt of this post left, if any.

    Returns a CallResult with `adopted` when found, None when it is certainly not
    there (or cannot be checked: then posting again is the lesser harm), or a
    CallResult with a failure when the lookup itself failed (do not post yet).
    """
    key = key_of(payload)
    channel = str(payload.get("channel") or "")
    if key is None or not _CONVERSATION_ID.match(channel):
        log.warning(
            "slack: cannot look up an earlier attempt in %r (history needs a channel id); "
            "posting again",
            channel,
        )
        return None
    args: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{(since - LOOKUP_MARGIN).timestamp():.6f}",
        "include_all_metadata": True,
        "limit": 200,
    }
    thread_ts = payload.get("thread_ts")
    method = "conversations.replies" if thread_ts else "conversations.history"
    if thread_ts:
        args["ts"] = thread_ts
    cursor = None
    for _ in range(LOOKUP_PAGES):
        if cursor:
            args["cursor"] = cursor
        try:
            if thread_ts:
                resp = client.conversations_replies(**args)
            else:
                resp = client.conversations_history(**args)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            failure = classify_api_error(exc.response.status_code, data, exc.response.headers)
            if failure.channel_scoped:
                log.warning(
                    "slack: %s on %s refused (%s): cannot check for an earlier attempt; "
                    "invite the bot to the channel for exactly-once posts",
                    method,
                    channel,
                    failure.error,
                )
                return None
            return CallResult(failure=failure)
        except (URLError, OSError, TimeoutError) as exc:
            return CallResult(failure=classify_network_error(exc))
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            if (meta.get("event_payload") or {}).get("key") == key:
                return CallResult(ts=str(message.get("ts")), channel=channel, adopted=True)
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def text_only(payload: dict[str, Any]) -> dict[str, Any]:
    """The same message without blocks: their words, in order, as plain mrkdwn text."""
    out = {k: v for k, v in payload.items() if k not in ("blocks", "attachments")}
    parts = [t for block in payload.get("blocks") or [] for t in _block_texts(block)]
    text = "\n".join(p for p in parts if p.strip()) or str(payload.get("text") or "")
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1].rstrip() + "…"
    out["text"] = text
    return out


def _block_texts(block: Any) -> list[str]:
    if not isinstance(block, dict):
        return []
    texts: list[str] = []
    text = block.get("text")
    if isinstance(text, dict) and text.get("text"):
        texts.append(str(text["text"]))
    elif isinstance(text, str) and block.get("type") in ("mrkdwn", "plain_text"):
        texts.append(text)
    for f in block.get("fields") or []:
        texts.extend(_block_texts(f))
    if block.get("type") == "context":
        texts.append(" · ".join(t for e in block.get("elements") or [] for t in _block_texts(e)))
    return texts
