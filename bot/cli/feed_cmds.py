"""`faultbot feed webhook|tap|broker|steve`: run one live feed standalone into the store."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import click

from bot.cli.common import database_option, fail, open_store, settings_or_exit
from bot.config import Settings, SettingsError


def _run(settings: Settings, **option_overrides: object) -> None:
    from bot.feeds.options import load_feed_options
    from bot.feeds.runner import install_signal_handlers, run_feeds
    from bot.feeds.sink import default_sink

    try:
        options = replace(load_feed_options(), **option_overrides)  # type: ignore[arg-type]  # click typed each option
    except SettingsError as exc:
        fail(f"bad setting {exc}")
    engine = open_store(settings)
    sink = default_sink(engine)
    from bot.obs.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_feeds(settings, sink, web_app=None, stop_event=stop, options=options,
                        state_engine=engine)

    try:
        asyncio.run(main())
    except OSError as exc:  # e.g. a port in use: one line naming the setting
        from bot.cli.common import startup_failure

        fail(startup_failure(exc, settings))


def _only(settings: Settings, **on: object) -> Settings:
    """Settings with every feed off except the ones given."""
    off = replace(settings, webhook_secret=None, upstream_csms=None, amqp_url=None)
    return replace(off, **on)  # type: ignore[arg-type]  # callers pass Settings fields


@click.group()
def feed() -> None:
    """Run one live feed (webhook, OCPP-J tap, RabbitMQ, SteVe) into the store."""


@feed.command()
@database_option
@click.option("--host", default=None, help="Listen address (default $FAULTBOT_HTTP_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (default $FAULTBOT_HTTP_PORT).")
def webhook(database_url: str | None, host: str | None, port: int | None) -> None:
    """POST /feed/ocpp (HMAC with $FAULTBOT_WEBHOOK_SECRET) and GET /health."""
    s = settings_or_exit(database_url)
    from bot.feeds.options import load_feed_options

    if not s.webhook_secret and not load_feed_options().webhook_path_token:
        fail("set FAULTBOT_WEBHOOK_SECRET (or FAULTBOT_WEBHOOK_PATH_TOKEN)")
    s = _only(s, webhook_secret=s.webhook_secret)
    s = replace(s, http_host=host or s.http_host, http_port=port or s.http_port)
    _run(s)


@feed.command()
@database_option
@click.option("--upstream", default=None, help="ws(s):// CSMS URL ($FAULTBOT_UPSTREAM_CSMS).")
@click.option("--host", default=None, help="Listen address (default $FAULTBOT_TAP_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (default $FAULTBOT_TAP_PORT).")
def tap(database_url: str | None, upstream: str | None, host: str | None, port: int | None) -> None:
    """Transparent OCPP-J proxy: chargers -> faultbot -> CSMS, recording every frame."""
    s = settings_or_exit(database_url)
    upstream = upstream or s.upstream_csms
    if not upstream or not upstream.startswith(("ws://", "wss://")):
        fail("give --upstream ws://csms:port/path (or set FAULTBOT_UPSTREAM_CSMS)")
    overrides: dict[str, object] = {}
    if host:
        overrides["tap_host"] = host
    if port is not None:
        overrides["tap_port"] = port
    _run(_only(s, upstream_csms=upstream), **overrides)


@feed.command()
@database_option
@click.option("--url", default=None, help="amqp:// URL ($FAULTBOT_AMQP_URL).")
@click.option("--mode", type=click.Choice(["citrineos", "faultbot"]), default=None)
@click.option("--queue", default=None, help="faultbot's ingress queue.")
@click.option("--partition", default=None, help="INDEX/COUNT, e.g. 0/2.")
def broker(database_url: str | None, url: str | None, mode: str | None, queue: str | None,
           partition: str | None) -> None:
    """Consume CitrineOS's RabbitMQ exchange (or faultbot-format messages)."""
    from bot.feeds.partition import parse_partition

    s = settings_or_exit(database_url)
    url = url or s.amqp_url
    if not url or not url.startswith(("amqp://", "amqps://")):
        fail("give --url amqp://user:pass@host:5672/ (or set FAULTBOT_AMQP_URL)")
    overrides: dict[str, object] = {}
    if mode:
        overrides["amqp_mode"] = mode
    if queue:
        overrides["amqp_queue"] = queue
    if partition:
        try:
            overrides["amqp_partition"] = parse_partition(partition)
        except ValueError as exc:
            fail(f"--partition: {exc}")
    _run(_only(s, amqp_url=url), **overrides)


@feed.command()
@database_option
@click.option("--steve-db-url", default=None, help="SteVe's mysql+pymysql:// URL.")
@click.option("--interval", type=float, default=None, help="Seconds between polls.")
def steve(database_url: str | None, steve_db_url: str | None, interval: float | None) -> None:
    """Poll SteVe's connector_status table (both SteVe schemas)."""
    from bot.feeds.options import load_feed_options

    s = settings_or_exit(database_url)
    url = steve_db_url or load_feed_options().steve_db_url
    if not url:
        fail("give --steve-db-url mysql+pymysql://user:pass@host/stevedb")
    overrides: dict[str, object] = {"steve_db_url": url}
    if interval:
        overrides["steve_interval"] = interval
    _run(_only(s), **overrides)


def _register_bench() -> None:
    from bot.bench.feeds import feeds_bench
    from bot.cli.bench_cmds import bench

    bench.add_command(feeds_bench)


_register_bench()
commands: list[click.Command] = [feed]
