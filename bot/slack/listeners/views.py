"""Modal submissions: the teach form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.outbox import enqueue
from bot.slack.permissions import Action
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices
from bot.slack.teach import CALLBACK_ID, read_submission, teach

log = logging.getLogger(__name__)


def register(app: App, services: SlackServices) -> None:
    @app.view(CALLBACK_ID)
    def on_teach_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        form, errors = read_submission(view)  # no I/O: safe before ack
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        if form is None:
            return
        if not services.policy.allows(Action.TEACH, user):  # a forged submission
            _tell(services, client, user, form.channel, render_notice("not_admin", user))
            return
        from bot.kb.runtime import TeachError

        try:
            entry = teach(services.runtime, form, user)
        except TeachError as exc:
            _tell(services, client, user, form.channel, render_notice("teach_failed", str(exc)))
            return
        except Exception:
            log.exception("teaching %s/%s failed", form.vendor, form.code)
            _tell(services, client, user, form.channel, render_notice("failed"))
            return
        _tell(services, client, user, form.channel, render_notice("taught", entry, user))


def _tell(
    services: SlackServices, client: WebClient, user: str, channel: str | None, message: Any
) -> None:
    """Ephemeral in the channel the form came from (only that person sees it), else a
    DM through the outbox."""
    if channel:
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, text=message.text, blocks=message.blocks
            )
            return
        except Exception:
            log.exception("could not tell %s the teach result in %s", user, channel)
    with services.transaction() as s:
        enqueue(s, channel=user, message=message, now=services.clock())
    services.deliver()
