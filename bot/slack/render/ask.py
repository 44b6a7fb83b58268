"""Block Kit for answers only questions read by bot/ask have: asking back with buttons,
a missing target, what happened in a time window. Words in templates/slack/ask.j2."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.ask.happened import Happened
from bot.ask.model import Command
from bot.slack.escape import environment
from bot.slack.render.budget import (
    SlackMessage,
    actions,
    button,
    context,
    header,
    section,
)
from bot.slack.render.times import slack_date

PICK = "ask_pick"  # action_id prefix of the "did you mean" buttons


@lru_cache(maxsize=1)
def m() -> Any:
    return environment().get_template("ask.j2").module


def pick_value(cmd: Command) -> str:
    """What a "did you mean" button carries: the question as it will be answered."""
    data = cmd.to_dict()
    data["raw"] = data.get("raw", "")[:300]
    return json.dumps(data, separators=(",", ":"))


def render_clarify(cmd: Command) -> SlackMessage:
    M = m()
    buttons = [
        button(str(M.option_label(o)), f"{PICK}:{i}", pick_value(cmd.choose(o)))
        for i, o in enumerate(cmd.options)
    ]
    return SlackMessage(
        str(M.clarify_fallback(cmd.options)),
        [section(str(M.clarify(cmd.options))), actions(*buttons)],
    )


def render_no_target(cmd: Command, command: str) -> SlackMessage:
    text = str(m().no_target(command, cmd.when.word if cmd.when else ""))
    return SlackMessage(text, [section(text)])


def render_not_understood(raw: str, suggestion: str | None, command: str) -> SlackMessage:
    text = str(m().not_understood(raw, suggestion, command))
    return SlackMessage(text, [section(text)])


def render_happened(h: Happened, now_text: str | None, tz: ZoneInfo) -> SlackMessage:
    M = m()
    blocks: list[dict[str, Any]] = [
        header(str(M.happened_header(h))),
        section(str(M.happened_overview(h, slack_date(h.start, tz), slack_date(h.end, tz)))),
    ]
    show_charger = h.site == h.name  # a site's window lists which charger each was on
    for cause, charger, connector in h.incidents:
        until = cause.resolved_at if cause.resolved_at and cause.resolved_at <= h.end else None
        blocks.append(section(str(M.happened_incident(
            cause, charger, connector, slack_date(cause.since, tz),
            slack_date(until, tz) if until else "", show_charger,
        ))))
    if h.more:
        blocks.append(context(str(M.happened_more(h.more))))
    if now_text:
        blocks.append(context(str(M.happened_now(now_text))))
    return SlackMessage(str(M.happened_fallback(h)), blocks[:50])
