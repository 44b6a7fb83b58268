"""Socket Mode: no public URL; an app-level token (xapp-…) opens a WebSocket."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings


def start_socket_mode(app: App, settings: Settings, *, block: bool = False) -> SocketModeHandler:
    """Connect when SLACK_APP_TOKEN is set; `block=True` runs until the process stops."""
    if not settings.slack_app_token:
        raise ValueError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token")
    handler = SocketModeHandler(app, settings.slack_app_token)
    if block:
        handler.start()
    else:
        handler.connect()
    return handler
