"""The slash command (/faultbot …): ack at once, then answer via response_url.
Subcommands keep their grammar; free text is read like a mention (bot.ask)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.answering import answer, read_question
from bot.slack.permissions import Action
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices
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
    cmd = read_question(services, str(body.get("text") or ""), slash=True)
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
    _reply(respond, answer(services, cmd, user))


def _reply(respond: Respond, messages: list[Any]) -> None:
    # response_url accepts 5 posts; a long digest is at most 4 messages.
    for message in messages[:5]:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
