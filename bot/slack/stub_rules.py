"""The checks the local Slack stand-in makes before answering, as strict as Slack on
the points faultbot meets: tokens, scopes per method, channel membership, text and
block limits. Also the scheduled outages and lost replies tests inject.

Scopes per method follow Slack's method reference pages (the "Required scopes"
section); a conversation's kind picks the scope family (C public, G private, D DM).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.slack.doctor import REQUIRED_SCOPES

# What a bot token gets when a test does not say otherwise: the scopes faultbot needs,
# which the manifest asks for (tests/slack/test_slack_manifest_scopes.py keeps them equal).
DEFAULT_BOT_SCOPES = REQUIRED_SCOPES

# method -> scope needed, by conversation kind ("*" when the kind does not matter).
METHOD_SCOPES: dict[str, dict[str, str]] = {
    "chat.postMessage": {"*": "chat:write"},
    "chat.update": {"*": "chat:write"},
    "chat.postEphemeral": {"*": "chat:write"},
    "conversations.history": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.replies": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.members": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
    "conversations.info": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
    "users.info": {"*": "users:read"},
    "files.getUploadURLExternal": {"*": "files:write"},
    "files.completeUploadExternal": {"*": "files:write"},
}
NO_SCOPE_METHODS = frozenset(
    {"auth.test", "views.open", "views.publish", "views.update", "views.push"}
)
TEXT_LIMIT = 40_000
MAX_BLOCKS = 50


@dataclass(slots=True)
class StubChannel:
    id: str
    private: bool = False
    bot_member: bool = True
    archived: bool = False


def kind_of(channel: str) -> str:
    """C public, G private, D direct message; a user id posts into the app's DM."""
    return {"C": "C", "G": "G", "D": "D", "U": "D", "W": "D"}.get(channel[:1], "C")


def needed_scope(method: str, channel: str) -> str | None:
    table = METHOD_SCOPES.get(method)
    if table is None:
        return None
    return table.get("*") or table.get(kind_of(channel or "C"))


def check_blocks(blocks: Any) -> list[str]:
    """Block Kit problems as Slack lists them in `errors`, using slack_sdk's models."""
    if not blocks:
        return []
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    quiet = logging.getLogger("slack_sdk.models")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # parse() warns on unknown types; we report them
    try:
        for i, raw in enumerate(blocks):
            where = f"[json-pointer:/blocks/{i}]"
            block = Block.parse(raw) if isinstance(raw, dict) else None
            if block is None:
                problems.append(f"unknown block type {where}")
                continue
            try:
                block.validate_json()
            except SlackObjectFormationError as exc:
                problems.append(f"{exc} {where}")
    finally:
        quiet.setLevel(level)
    return problems


@dataclass(slots=True)
class Phase:
    """One stretch of a scheduled outage.

    kind: "5xx" (503, the call never ran), "lost" (the call ran, then 500: a lost
    reply), "down" (the connection is reset unanswered, the call never ran),
    "429" (rate limited, with `retry_after` seconds).
    """

    seconds: float
    kind: str
    retry_after: float = 1.0


@dataclass(slots=True)
class Outage:
    phases: list[Phase]
    started: float = field(default_factory=time.monotonic)
    scale: float = 1.0  # 0.5 = everything twice as fast, same ratios

    def phase_now(self) -> Phase | None:
        elapsed = (time.monotonic() - self.started) / self.scale
        for phase in self.phases:
            if elapsed < phase.seconds:
                return phase
            elapsed -= phase.seconds
        return None

    @property
    def ends_at(self) -> float:
        return self.started + sum(p.seconds for p in self.phases) * self.scale

    def retry_after(self, phase: Phase) -> str:
        value = phase.retry_after * self.scale
        return str(int(value)) if value == int(value) else f"{value:.3f}"
