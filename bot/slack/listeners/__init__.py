"""Listeners per kind; each module has `register(app, services)`.

Owns: the bolt listeners (commands, mentions, actions, views, App Home), kept thin: ack,
then hand the work to the domain. May import: the rest of bot.slack (services, render,
outbox, permissions, ...) and what bot.slack may import (see bot/slack/__init__.py).
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.services import SlackServices


def register_listeners(app: App, services: SlackServices) -> None:
    from bot.slack.listeners import actions, commands, home, mentions, share, views

    commands.register(app, services)
    mentions.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    home.register(app, services)
    from bot.slack import actions_listeners

    actions_listeners.register(app, services)
    share.register(app, services)
