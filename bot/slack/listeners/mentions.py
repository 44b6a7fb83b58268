"""@faultbot mentions and DMs: answered in a thread through the outbox.

A question asked inside a thread is read in that thread's context: what the bot's own
earlier answer there was about (its message metadata, read back with
conversations.replies), or the incident of an alert thread. No per-person memory."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.ask.followup import context_from, follow_up, needs_context
from bot.ask.model import Command
from bot.slack.answering import answer_question, read_question
from bot.slack.outbox import enqueue
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)
THREAD_READ_LIMIT = 100  # newest messages of a thread searched for the bot's last answer


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
    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        # Edits and other subtypes re-deliver old text; only fresh posts by people count.
        if from_a_bot(event) or event.get("subtype"):
            return
        handle_message(services, body, event, client)

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        # Only plain DMs from people; edits, joins and bot posts are not questions.
        if event.get("channel_type") != "im" or event.get("subtype") or from_a_bot(event):
            return
        handle_message(services, body, event, client)


def thread_context(
    services: SlackServices, client: WebClient | None, channel: str, thread_ts: str
) -> Command | None:
    """What the thread is about: the newest answer of ours in it that carries metadata,
    else the alert whose thread it is; None when neither (or Slack cannot tell)."""
    if client is not None:
        try:
            resp = client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True,
                limit=THREAD_READ_LIMIT,
            )
            for message in reversed(resp.get("messages") or []):
                if isinstance(message, dict) and message.get("bot_id"):
                    found = context_from(message.get("metadata"))
                    if found is not None:
                        return found
        except Exception as exc:  # no history scope, thread gone: answer without context
            log.info("could not read thread %s/%s: %s", channel, thread_ts, exc)
    return _alert_context(services, channel, thread_ts)


def _alert_context(services: SlackServices, channel: str, thread_ts: str) -> Command | None:
    from sqlalchemy import select

    from bot.incidents.models import Incident
    from bot.slack.models import SlackAlertMessage

    with services.transaction() as s:
        row = s.scalars(select(SlackAlertMessage).where(
            SlackAlertMessage.channel == channel, SlackAlertMessage.ts == thread_ts
        ).limit(1)).first()
        incident = s.get(Incident, row.incident_id) if row is not None else None
        if incident is None:
            return None
        if incident.charger:
            return Command("why", charger=incident.charger, connector=incident.connector)
        return Command("site", site=incident.site)


def handle_message(
    services: SlackServices, body: dict[str, Any], event: dict[str, Any],
    client: WebClient | None = None,
) -> None:
    event_id = body.get("event_id")
    if not services.first_delivery(event_id):
        log.info("dropping a redelivered event %s", event_id)
        return
    channel = str(event.get("channel") or "")
    if not channel:
        return
    user = event.get("user")
    in_thread = event.get("thread_ts")
    cmd = read_question(services, str(event.get("text") or ""))
    if in_thread and in_thread != event.get("ts") and needs_context(cmd):
        cmd = follow_up(cmd, thread_context(services, client, channel, str(in_thread)))
    metadata = None
    if cmd.kind == "teach":
        messages = [render_notice("teach_use_command", services.command)]
    else:
        answered = answer_question(services, cmd, user)
        messages, metadata = answered.messages, answered.context
    thread = in_thread or event.get("ts")
    post_answers(services, channel, thread, messages, metadata,
                 key=f"answer:{event_id or event.get('ts')}")


def post_answers(
    services: SlackServices, channel: str, thread: Any, messages: list[Any],
    metadata: dict[str, Any] | None, *, key: str | None,
) -> None:
    """Queue the answer in the thread; its first message carries what it was about."""
    with services.transaction() as s:
        for i, message in enumerate(messages[:4]):
            extra: dict[str, Any] = {"thread_ts": thread} if thread else {}
            if metadata is not None and i == 0:
                extra["metadata"] = metadata
            enqueue(
                s,
                channel=channel,
                message=message,
                extra=extra or None,
                dedupe_key=f"{key}:{i}" if key else None,
                now=services.clock(),
            )
    services.deliver()
