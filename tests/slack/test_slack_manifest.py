"""slack-manifest.yaml: it asks for exactly the scopes the code needs (the Web API
methods the code calls, the events it subscribes to, the slash command), and its
structure follows Slack's app-manifest reference.

The structure is checked against Slack's published manifest JSON schema
(github.com/slackapi/manifest-schema), a copy of which lives in
tests/slack/fixtures/manifest-schema because CI cannot reach GitHub;
`.ci/check_manifest.py [clone]` is the same check from the command line.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from bot.slack.doctor import REQUIRED_SCOPES
from bot.slack.stub_rules import DEFAULT_BOT_SCOPES, METHOD_SCOPES, NO_SCOPE_METHODS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-manifest.yaml"
CHECKER = ROOT / ".ci" / "check_manifest.py"
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


def _check_manifest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_manifest", CHECKER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_manifest_is_valid_under_slacks_published_schema() -> None:
    assert _check_manifest().errors(_manifest()) == []


def test_the_published_schema_refuses_what_slack_refuses() -> None:
    check = _check_manifest()
    broken = _manifest()
    broken["features"]["slash_commands"][0]["command"] = "faultbot"  # no leading slash
    assert check.errors(broken)
    broken = _manifest()
    broken["display_information"]["name"] = "x" * 36  # longer than Slack allows
    assert check.errors(broken)
    broken = _manifest()
    broken["settings"]["no_such_setting"] = True
    assert check.errors(broken)


def test_checker_exits_zero_on_the_real_manifest() -> None:
    done = subprocess.run(
        [sys.executable, str(CHECKER)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("slack-manifest.yaml: valid")
