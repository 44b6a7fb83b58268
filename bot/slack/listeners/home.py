"""App Home: rebuilt each time someone opens it (views.publish is idempotent)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.home import home_view
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


def register(app: App, services: SlackServices) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(services, client, str(event["user"]))


def publish_home(services: SlackServices, client: WebClient, user: str) -> None:
    with services.transaction() as s:
        admin = user in services.settings.admins
        view = home_view(
            s, services.tz, services.clock(), services.sites, admin=admin, worker=services.worker
        )
    client.views_publish(user_id=user, view=view)
