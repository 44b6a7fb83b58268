"""Listeners per kind; each module has `register(app, services)`."""

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
