"""The bolt App: injected WebClient/authorize, listeners registered per kind.

    app = build_app(settings, engine)                   # production
    app = build_app(settings, engine, client=stub_client, authorize=fixed_authorize)

Commands and actions are acked before any database work (bolt runs listeners in its
thread pool after ack); events are auto-acked by bolt, then deduplicated on event_id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import Settings
from bot.slack.alerts import AlertPublisher
from bot.slack.dbutil import utcnow
from bot.slack.listeners import register_listeners
from bot.slack.outbox import OutboxWorker
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


def make_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL when set (tests and the demo use the local stub)."""
    # No retry handlers: slack_sdk's default one re-sends a post after a connection
    # reset, which double-posts; the outbox retries, looking the post up first.
    kwargs: dict[str, Any] = {"token": token or settings.slack_bot_token, "retry_handlers": []}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return WebClient(**kwargs)


def static_authorize(
    bot_token: str, bot_user_id: str = "UBOT", bot_id: str = "BBOT"
) -> Callable[..., AuthorizeResult]:
    """An authorize function that never calls auth.test (for tests and the demo)."""

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> Any:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
        )

    return authorize


def build_app(
    settings: Settings,
    engine: Engine,
    *,
    client: WebClient | None = None,
    authorize: Callable[..., AuthorizeResult] | None = None,
    worker: OutboxWorker | None = None,
    publisher: AlertPublisher | None = None,
    clock: Callable[[], datetime] = utcnow,
    services: SlackServices | None = None,
    remote: Any = None,
    **app_kwargs: Any,
) -> App:
    client = client or make_client(settings)
    if worker is None:
        worker = OutboxWorker(engine, client, clock=clock, admins=settings.admins)
    services = services or SlackServices(
        engine, settings, worker, publisher=publisher, clock=clock, client=client,
        remote=remote,
    )
    kwargs: dict[str, Any] = {
        "client": client,
        "signing_secret": settings.slack_signing_secret or "",
        "token_verification_enabled": False,
        "name": "faultbot",
    }
    if authorize is not None:
        kwargs["authorize"] = authorize
    else:
        kwargs["token"] = settings.slack_bot_token or client.token
    kwargs.update(app_kwargs)
    app = App(**kwargs)
    app.error(_on_error)
    register_listeners(app, services)
    app._faultbot_services = services  # type: ignore[attr-defined]  # for runtime wiring
    return app


def services_of(app: App) -> SlackServices:
    return app._faultbot_services  # type: ignore[attr-defined]  # set by build_app


def _on_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    # Never a traceback to the user; the log has it.
    logger.exception("faultbot Slack listener failed: %s", error)
