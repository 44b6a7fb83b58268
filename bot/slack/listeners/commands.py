"""The slash command (/faultbot …): ack at once, then answer via response_url.
Subcommands keep their grammar; free text is read like a mention (bot.ask)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.answering import answer, answer_question, read_question
from bot.slack.listeners.mentions import post_answers
from bot.slack.permissions import Action
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices
from bot.slack.share import may_share, shared_by, split_here, with_share_button
from bot.slack.teach import teach_modal

log = logging.getLogger(__name__)


def register(app: App, services: SlackServices) -> None:
    @app.command(services.command)
    def on_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()  # first: Slack shows an error after 3 s; everything below may be slow
        handle_command(services, body, respond, client)


def handle_command(
    services: SlackServices, body: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    user = str(body.get("user_id") or "")
    text, here = split_here(str(body.get("text") or ""))
    cmd = read_question(services, text, slash=True)
    if here and cmd.kind == "digest":
        post_here(services, body, cmd, user, respond)
        return
    if cmd.kind == "teach":
        if not services.policy.allows(Action.TEACH, user):
            _reply(respond, [render_notice("not_admin", user)])
            return
        view = teach_modal(cmd.vendor, cmd.code, body.get("channel_id"))
        try:
            client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except Exception:
            log.exception("views.open for teach failed")
            _reply(respond, [render_notice("failed")])
        return
    at = services.clock()
    messages = answer(services, cmd, user)
    with_share_button(messages, cmd, at)  # ephemeral: offer to post it in the channel
    _reply(respond, messages)


def post_here(
    services: SlackServices, body: dict[str, Any], cmd: Any, user: str, respond: Respond
) -> None:
    """`/faultbot digest here`: the digest in the channel it was asked in (permission
    `share`), like a shared answer."""
    channel = str(body.get("channel_id") or "")
    if not may_share(services, user, channel):
        _reply(respond, [render_notice("share_not_allowed", user)])
        return
    answered = answer_question(services, cmd, user)
    key = f"digest-here:{channel}:{str(body.get('trigger_id') or '')[:80]}"
    post_answers(services, channel, None, shared_by(answered.messages, user), None,
                 key=key if body.get("trigger_id") else None)


def _reply(respond: Respond, messages: list[Any]) -> None:
    # response_url accepts 5 posts; a long digest is at most 4 messages.
    for message in messages[:5]:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
