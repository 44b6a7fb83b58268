"""The "Post to channel" button on ephemeral answers (bot.slack.share): checked on the
server, then the same answer is posted in the channel the click came from."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.listeners.actions import _tell, _where
from bot.slack.listeners.mentions import post_answers
from bot.slack.listeners.payload import user_id
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices
from bot.slack.share import SHARE, answer_at, may_share, read_share, shared_by

log = logging.getLogger(__name__)


def register(app: App, services: SlackServices) -> None:
    @app.action(SHARE)
    def on_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user = user_id(body)
        channel, _ = _where(body)
        if not may_share(services, user, channel):
            log.info("refused share by %r in %r", user, channel)
            _tell(respond, render_notice("share_not_allowed", user))
            return
        read = read_share(action.get("value"), services.clock())
        if read is None or channel is None:
            _tell(respond, render_notice("share_gone"))
            return
        cmd, at = read
        answered = answer_at(services, cmd, user, at)
        key = f"share:{channel}:{str(body.get('trigger_id') or action.get('action_ts'))[:80]}"
        post_answers(services, channel, None, shared_by(answered.messages, user),
                     answered.context, key=key)
