"""Start the configured feeds in one asyncio loop; stop them cleanly on a signal.

Feeds on: webhook when FAULTBOT_WEBHOOK_SECRET (or a path token) is set, the OCPP-J
tap when FAULTBOT_UPSTREAM_CSMS is set, the broker when FAULTBOT_AMQP_URL is set, the
SteVe poller when FAULTBOT_STEVE_DB_URL is set. GET /health is always mounted.

Shutdown (stop_event set, e.g. by SIGTERM): the tap closes chargers with 1001 and
stores what it queued (copies it cannot store in time are counted as dropped); the
broker stops consuming, finishes the batch in hand (stored and acked) and closes its
channel, which returns every unacked message to the queue; the HTTP server stops
accepting and lets in-flight webhook requests finish (their sender only gets 2xx
after the store committed, so an interrupted one is retried). No frame is acked or
answered 2xx without being stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Settings
from bot.feeds.access_log import MaskedAccessLogger
from bot.feeds.health import HealthState, add_health_route
from bot.feeds.options import FeedOptions, load_feed_options
from bot.feeds.sink import FrameSink, SinkRunner

log = logging.getLogger(__name__)

def install_signal_handlers(stop_event: asyncio.Event) -> None:
    """SIGTERM/SIGINT set `stop_event` (call from inside the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_event.set)


def mount_http_feeds(
    web_app: web.Application,
    settings: Settings,
    runner: SinkRunner,
    health: HealthState,
    options: FeedOptions,
) -> bool:
    """Add /health and (when configured) the webhook routes. Call before the app starts."""
    add_health_route(web_app, health)
    if not (settings.webhook_secret or options.webhook_path_token):
        return False
    from bot.feeds.webhook import add_webhook_routes

    add_webhook_routes(
        web_app,
        runner,
        settings.webhook_secret,
        max_body=options.webhook_max_body,
        path_token=options.webhook_path_token,
        health=health.feed("webhook"),
    )
    return True


async def run_feeds(
    settings: Settings,
    sink: FrameSink,
    *,
    web_app: web.Application | None,
    stop_event: asyncio.Event,
    options: FeedOptions | None = None,
    health: HealthState | None = None,
    state_engine: Engine | None = None,
    serve_http: bool | None = None,
    on_tap: Callable[[Any], None] | None = None,
) -> HealthState:
    """Run every configured feed until `stop_event` is set.

    With `web_app` given, the routes are added to it (synchronously, before this
    coroutine first awaits) and the caller serves it; with None, run_feeds serves its
    own app on settings.http_host:http_port. Nothing here ticks the pipeline: its
    time-based rules (silent chargers, recovery hold-downs) run on the feed's own
    clock as frames arrive (bot.fold), so a live feed and a replay of the same frames
    decide the same; when the whole feed stops, /health reports the lag instead.
    """
    options = options or load_feed_options()
    health = health or HealthState(max_lag=timedelta(seconds=options.max_lag_seconds))
    runner = SinkRunner(sink)
    own_app = web_app is None
    app = web.Application() if web_app is None else web_app
    mount_http_feeds(app, settings, runner, health, options)
    serve = own_app if serve_http is None else serve_http

    tasks: list[asyncio.Task[None]] = []
    stoppers: list[Callable[[], Awaitable[None]]] = []  # called with no arguments
    http_runner: web.AppRunner | None = None
    try:
        if serve:
            http_runner = web.AppRunner(
                app, shutdown_timeout=10.0, access_log_class=MaskedAccessLogger
            )
            await http_runner.setup()
            await web.TCPSite(http_runner, settings.http_host, settings.http_port).start()
            log.info("HTTP feeds on %s:%s", settings.http_host, settings.http_port)
        if settings.upstream_csms:
            from bot.feeds.tap import OcppTap

            tap = OcppTap(
                settings.upstream_csms,
                runner,
                host=options.tap_host,
                port=options.tap_port,
                health=health.feed("tap"),
            )
            await tap.start()
            stoppers.append(tap.stop)
            if on_tap is not None:  # remote actions send their calls through it
                on_tap(tap)
            log.info("OCPP-J tap on port %s -> %s", tap.port, settings.upstream_csms)
        if settings.amqp_url:
            from bot.feeds.broker import BrokerFeed

            broker = BrokerFeed(
                settings.amqp_url,
                runner,
                mode=options.amqp_mode,  # type: ignore[arg-type]  # one of the modes: load_feed_options checked it
                queue=options.amqp_queue,
                exchange=options.amqp_exchange,
                partition=options.amqp_partition,
            )
            broker.health = health.feed("broker")
            await broker.start()
            stoppers.append(broker.stop)
        if options.steve_db_url:
            from bot.feeds.steve import SteVePoller
            from bot.store.db import make_engine

            poller = SteVePoller(
                options.steve_db_url,
                sink,
                state_engine=state_engine or make_engine(settings.database_url),
                interval=options.steve_interval,
                health=health.feed("steve"),
            )
            tasks.append(asyncio.create_task(poller.run(stop_event)))
        await stop_event.wait()
    finally:
        for stop in reversed(stoppers):
            try:
                await stop()
            except Exception as exc:  # keep stopping the others
                log.warning("stopping a feed failed: %s", exc)
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 30)
        if http_runner is not None:
            await http_runner.cleanup()
        runner.close()
    return health
