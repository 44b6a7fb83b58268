"""@faultbot mentions and DMs: answered in a thread through the outbox."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.slack.answering import answer
from bot.slack.commands_parse import parse_mention
from bot.slack.outbox import enqueue
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


def from_a_bot(event: dict[str, Any]) -> bool:
    """Posted by a bot or an app (or by no user at all), not typed by a person.
    Answering those lets two bots talk to each other for ever."""
    return not event.get("user") or bool(
        event.get("bot_id")
        or event.get("bot_profile")
        or event.get("app_id")
        or event.get("subtype") == "bot_message"
    )


def register(app: App, services: SlackServices) -> None:
    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Edits and other subtypes re-deliver old text; only fresh posts by people count.
        if from_a_bot(event) or event.get("subtype"):
            return
        handle_message(services, body, event)

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only plain DMs from people; edits, joins and bot posts are not questions.
        if event.get("channel_type") != "im" or event.get("subtype") or from_a_bot(event):
            return
        handle_message(services, body, event)


def handle_message(services: SlackServices, body: dict[str, Any], event: dict[str, Any]) -> None:
    event_id = body.get("event_id")
    if not services.first_delivery(event_id):
        log.info("dropping a redelivered event %s", event_id)
        return
    channel = str(event.get("channel") or "")
    if not channel:
        return
    user = event.get("user")
    cmd = parse_mention(str(event.get("text") or ""))
    if cmd.kind == "teach":
        messages = [render_notice("teach_use_command", services.command)]
    else:
        messages = answer(services, cmd, user)
    thread = event.get("thread_ts") or event.get("ts")
    with services.transaction() as s:
        for i, message in enumerate(messages[:4]):
            enqueue(
                s,
                channel=channel,
                message=message,
                extra={"thread_ts": thread} if thread else None,
                dedupe_key=f"answer:{event_id or event.get('ts')}:{i}",
                now=services.clock(),
            )
    services.deliver()
