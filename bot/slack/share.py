"""Sharing answers with the channel: the "Post to channel" button on ephemeral answers,
and `/faultbot digest here`.

The button carries the question (a Command) and the moment it was answered, never the
answer's text: a forged click can only make faultbot post faultbot's own answer to a
question, as of a time no later than the click, in the channel the click came from.
Who may do it is the `share` permission (bot/slack/permissions), checked on the server
against that channel.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.ask.model import Command
from bot.slack.permissions import Action
from bot.slack.render.answers import m as answer_words
from bot.slack.render.budget import MAX_BLOCKS, SlackMessage, actions, button, context

log = logging.getLogger(__name__)

SHARE = "answer_share"  # the button's action_id
SHAREABLE = frozenset({"why", "site", "code", "digest"})  # answers, not help or problems


def shareable(cmd: Command) -> bool:
    return cmd.kind in SHAREABLE and not cmd.problem


def share_value(cmd: Command, at: datetime) -> str:
    question = {k: v for k, v in cmd.to_dict().items() if k != "raw"}
    return json.dumps({"cmd": question, "at": at.astimezone(UTC).isoformat()})


def with_share_button(messages: list[SlackMessage], cmd: Command, at: datetime) -> None:
    """Add the button under the last message of an ephemeral answer (in place)."""
    if not messages or not shareable(cmd):
        return
    last = messages[-1]
    if len(last.blocks) >= MAX_BLOCKS:
        return
    label = str(answer_words().share_button())
    last.blocks.append(actions(button(label, SHARE, share_value(cmd, at))))


def read_share(value: object, now: datetime) -> tuple[Command, datetime] | None:
    """The question and moment a button carries; None for anything not ours."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    cmd = Command.from_dict(data.get("cmd"))
    if cmd is None or not shareable(cmd):
        return None
    try:
        at = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return cmd, min(at, now)  # never an answer from the future


def answer_at(services: Any, cmd: Command, user: str, at: datetime) -> Any:
    """The answer as it was given at `at` (same question, same moment: same answer)."""
    from bot.slack.answering import answer_question

    fixed = copy.copy(services)  # shares the lazily built knowledge base and site map
    fixed.clock = lambda: at
    return answer_question(fixed, cmd, user)


def shared_by(messages: list[SlackMessage], user: str) -> list[SlackMessage]:
    """Who posted it, under the answer (copies: the answer itself is not changed)."""
    out = [replace(msg, blocks=list(msg.blocks)) for msg in messages]
    if out and len(out[-1].blocks) < MAX_BLOCKS:
        out[-1].blocks.append(context(str(answer_words().shared_by(user))))
    return out


def split_here(text: str) -> tuple[str, bool]:
    """`digest … here`: the digest question without `here`, and True."""
    words = text.split()
    if len(words) >= 2 and words[0].lower() == "digest" and words[-1].lower() == "here":
        return " ".join(words[:-1]), True
    return text, False


def may_share(services: Any, user: str, channel: str | None) -> bool:
    return bool(channel) and services.policy.allows(Action.SHARE, user, channel)
