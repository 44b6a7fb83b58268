"""slack-manifest.yaml: it asks for exactly the scopes the code needs (the Web API
methods the code calls, the events it subscribes to, the slash command), and its
structure follows Slack's app-manifest reference.

Slack's published manifest JSON schema (github.com/slackapi/manifest-schema) cannot be
reached from CI, so the schema below is written from the manifest reference's field list
and limits (names, lengths, types; unknown keys refused) for the parts this manifest
uses. `.ci/check_manifest.py <clone of manifest-schema>` checks the manifest against the
published schema itself, by hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.slack.doctor import REQUIRED_SCOPES
from bot.slack.stub_rules import DEFAULT_BOT_SCOPES, METHOD_SCOPES, NO_SCOPE_METHODS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-manifest.yaml"
# Only the conversation kinds the code reads or posts to by method: alert and digest
# channels may be public (C) or private (G). DMs to admins are posted by user id.
KINDS = ("C", "G")
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history"}
NO_SCOPE_EVENTS = {"app_home_opened"}
_CALL = re.compile(r"\b(chat|views|conversations|users|auth|apps|reactions|files)_([A-Za-z]+)\(")
_NAME = re.compile(r"[\"'](chat|views|conversations|users|auth|reactions|files)\.([A-Za-z]+)[\"']")
# slack_sdk helpers that call several Web API methods: what each one calls.
_HELPERS = {
    "files_upload_v2": {"files.getUploadURLExternal", "files.completeUploadExternal"},
}


def _manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def methods_called() -> set[str]:
    """Web API methods the bot's own code calls: client.chat_postMessage(...) style
    calls and method names handed to the outbox ("chat.update")."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if path.name.startswith("stub") or path.name == "demo.py":
            continue  # the stand-in and the demo (which reads it) answer, not call
        text = path.read_text(encoding="utf-8")
        found |= {f"{a}.{b}" for a, b in _CALL.findall(text)}
        found |= {f"{a}.{b}" for a, b in _NAME.findall(text)}
        for helper, methods in _HELPERS.items():
            if f"{helper}(" in text:
                found |= methods
    return found


def scopes_needed(manifest: dict[str, Any]) -> set[str]:
    needed: set[str] = set()
    for method in methods_called():
        if method in NO_SCOPE_METHODS:
            continue
        assert method in METHOD_SCOPES, f"{method}: add its scopes to stub_rules.METHOD_SCOPES"
        table = METHOD_SCOPES[method]
        needed |= {table["*"]} if "*" in table else {table[k] for k in KINDS}
    if "chat.postMessage" in methods_called():
        needed.add("chat:write.public")  # post in a public channel without /invite
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert event in EVENT_SCOPES or event in NO_SCOPE_EVENTS, event
        if event in EVENT_SCOPES:
            needed.add(EVENT_SCOPES[event])
    if manifest["features"].get("slash_commands"):
        needed.add("commands")
    return needed


def test_the_code_calls_what_the_scan_finds() -> None:
    called = methods_called()
    # The scan must see the calls that matter, or the scope test proves nothing.
    assert {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "conversations.history",
        "conversations.replies",
        "conversations.members",
        "conversations.info",
        "views.open",
        "views.publish",
        "auth.test",
    } <= called
    assert "users.info" not in called


def test_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    manifest = _manifest()
    asked = manifest["oauth_config"]["scopes"]["bot"]
    assert len(asked) == len(set(asked))
    assert set(asked) == scopes_needed(manifest)
    assert set(asked) == REQUIRED_SCOPES  # what `faultbot doctor` checks for
    assert set(asked) == DEFAULT_BOT_SCOPES  # what the stand-in grants by default
    assert not {"im:read", "im:write", "users:read"} & set(asked)


_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_SCOPE = {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)*(:[a-z_]+(\.[a-z_]+)*)*$"}


def _obj(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": False,
    }


SCHEMA = _obj(
    {
        "_metadata": _obj(
            {"major_version": {"type": "integer"}, "minor_version": {"type": "integer"}}
        ),
        "display_information": _obj(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "maxLength": 140},
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
                "background_color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
            },
            ("name",),
        ),
        "features": _obj(
            {
                "app_home": _obj(
                    {
                        "home_tab_enabled": _BOOL,
                        "messages_tab_enabled": _BOOL,
                        "messages_tab_read_only_enabled": _BOOL,
                    }
                ),
                "bot_user": _obj(
                    {"display_name": {"type": "string", "maxLength": 80}, "always_online": _BOOL},
                    ("display_name",),
                ),
                "slash_commands": {
                    "type": "array",
                    "maxItems": 50,
                    "items": _obj(
                        {
                            "command": {"type": "string", "pattern": "^/", "maxLength": 32},
                            "description": {"type": "string", "maxLength": 2000},
                            "usage_hint": {"type": "string", "maxLength": 1000},
                            "should_escape": _BOOL,
                            "url": _STR,
                        },
                        ("command", "description"),
                    ),
                },
            }
        ),
        "oauth_config": _obj(
            {
                "redirect_urls": {"type": "array", "items": _STR},
                "scopes": _obj(
                    {
                        "bot": {"type": "array", "items": _SCOPE, "uniqueItems": True},
                        "user": {"type": "array", "items": _SCOPE, "uniqueItems": True},
                    }
                ),
            }
        ),
        "settings": _obj(
            {
                "event_subscriptions": _obj(
                    {
                        "request_url": _STR,
                        "bot_events": {"type": "array", "items": _STR, "maxItems": 100},
                        "user_events": {"type": "array", "items": _STR, "maxItems": 100},
                    }
                ),
                "interactivity": _obj(
                    {"is_enabled": _BOOL, "request_url": _STR, "message_menu_options_url": _STR},
                    ("is_enabled",),
                ),
                "org_deploy_enabled": _BOOL,
                "socket_mode_enabled": _BOOL,
                "token_rotation_enabled": _BOOL,
                "allowed_ip_address_ranges": {"type": "array", "items": _STR},
            }
        ),
    },
    ("display_information",),
)


def test_manifest_structure_follows_the_manifest_reference() -> None:
    jsonschema.validate(_manifest(), SCHEMA)


def test_the_schema_refuses_what_slack_refuses() -> None:
    broken = _manifest()
    broken["features"]["slash_commands"][0]["command"] = "faultbot"  # no leading slash
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(broken))
    assert errors
    broken = _manifest()
    broken["oauth_config"]["scopes"]["bot"].append("chat write")
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(broken))
