"""`faultbot run` and `faultbot serve`: the production process.

One process runs what a deployment needs: the configured CSMS feeds (webhook, OCPP-J
tap, broker, SteVe) into the pipeline (store -> triage -> incidents), the Slack app
(Socket Mode or HTTP), the alert outbox, and the daily-digest scheduler. Exactly one
such process should run the scheduler (the daily prune runs in the first broker
partition's process); extra workers can run `faultbot feed ...`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import click
from aiohttp import web

from bot.cli.common import database_option, fail, open_store, settings_or_exit, startup_failure
from bot.config import Settings

log = logging.getLogger("faultbot")


@dataclass
class _Slack:
    """The Slack side of a running process (absent when SLACK_BOT_TOKEN is unset)."""

    app: Any
    worker: Any
    publisher: Any | None
    scheduler: Any | None = None
    report_scheduler: Any | None = None  # the weekly report (FAULTBOT_REPORT_TIME)
    socket: Any | None = None
    threads: list[threading.Thread] = field(default_factory=list)


def _load_sites(settings: Settings) -> Any:
    from bot.store.sites import SiteMap, SitesError

    try:
        return SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(f"bad setting FAULTBOT_SITES: {exc}")


def _start_slack(
    settings: Settings, engine: Any, sites: Any, *, http_mode: bool, remote: Any = None
) -> _Slack:
    from bot.slack.alerts import AlertPublisher
    from bot.slack.app import build_app, make_client
    from bot.slack.outbox import OutboxWorker

    if http_mode and not settings.slack_signing_secret:
        fail("bad setting SLACK_SIGNING_SECRET: HTTP mode needs the app's signing secret")
    from bot.slack.doctor import startup_check

    client = make_client(settings)
    startup_check(settings, client)  # logs what `faultbot doctor` would say about Slack
    worker = OutboxWorker(engine, client, admins=settings.admins)
    publisher = None
    if settings.alert_channel or settings.paging_file:
        from bot.slack.paging import PagingError

        try:
            publisher = AlertPublisher(engine, settings, on_enqueued=worker.kick)
            publisher.paging  # noqa: B018  # read and check the file now, not at the first alert
        except PagingError as exc:
            fail(f"bad setting FAULTBOT_PAGING: {exc}")
    app = build_app(settings, engine, client=client, worker=worker, publisher=publisher,
                    remote=remote)
    return _Slack(app=app, worker=worker, publisher=publisher)


def _run_background(slack: _Slack, settings: Settings, engine: Any, sites: Any,
                    stop: threading.Event, *, http_mode: bool) -> None:
    from bot.slack.digest_job import DigestScheduler

    outbox = threading.Thread(
        target=slack.worker.run_forever, args=(stop,), name="slack-outbox", daemon=True
    )
    outbox.start()
    slack.threads.append(outbox)
    if slack.publisher is not None:  # re-notify steps that come due (the paging policy)
        pager = threading.Thread(target=slack.publisher.escalator.run_forever, args=(stop,),
                                 name="slack-paging", daemon=True)
        pager.start()
        slack.threads.append(pager)
    if settings.digest_channel:
        slack.scheduler = DigestScheduler(
            engine, settings, slack.app.client, sites=sites, worker=slack.worker
        )
        slack.scheduler.start()
    if settings.digest_channel and settings.report_time is not None:
        from bot.slack.report_job import ReportScheduler

        slack.report_scheduler = ReportScheduler(engine, settings, slack.app.client, sites=sites,
                                                 worker=slack.worker)
        slack.report_scheduler.start()
    if not http_mode:
        from bot.slack.socket import start_socket_mode

        slack.socket = start_socket_mode(slack.app, settings)


def _stop_background(slack: _Slack | None, stop: threading.Event) -> None:
    stop.set()
    if slack is None:
        return
    if slack.scheduler is not None:
        slack.scheduler.shutdown()
    if slack.report_scheduler is not None:
        slack.report_scheduler.shutdown()
    if slack.socket is not None:
        slack.socket.close()
    for thread in slack.threads:
        thread.join(timeout=10)


def _start_first_aid(settings: Settings, engine: Any, remote: Any, slack: _Slack | None,
                     stop: threading.Event) -> None:
    """The first-aid pass every 30 s (FAULTBOT_FIRST_AID dry-run or live)."""
    from bot.actions.first_aid import PolicyError, load_policy
    from bot.slack.actions_first_aid import FirstAidJob

    try:
        policy = load_policy()
    except PolicyError as exc:
        fail(f"bad first-aid policy (run `faultbot kb lint`):\n{exc}")
    job = FirstAidJob(engine, settings, lambda: remote, policy,
                      on_enqueued=slack.worker.kick if slack is not None else None)
    thread = threading.Thread(target=job.run_forever, args=(stop,), name="first-aid",
                              daemon=True)
    thread.start()
    if slack is not None:
        slack.threads.append(thread)
    log.info("first aid %s: %d rules", settings.first_aid, len(policy.rules))


def _fold_of_this_worker() -> dict[str, Any]:
    """Broker partitions share one database: each worker folds (and checkpoints) only
    the chargers of its partition."""
    from bot.feeds.options import load_feed_options
    from bot.feeds.partition import partition_of

    index, count = load_feed_options().amqp_partition
    if count <= 1:
        return {}
    return {"fold_name": f"partition-{index}-of-{count}",
            "owns": lambda charger: partition_of(charger, count) == index}


def _start_prune_job(settings: Settings, engine: Any) -> Any:
    """The daily prune, in one process per deployment: a lone worker or the first
    broker partition (the others would only repeat an idempotent job)."""
    from bot.feeds.options import load_feed_options

    index, _count = load_feed_options().amqp_partition
    if settings.prune_time is None or index != 0:
        return None
    from bot.retention.job import PruneScheduler
    from bot.retention.prune import RetentionPolicy

    job = PruneScheduler(engine, RetentionPolicy.from_settings(settings), settings.prune_time)
    job.start()
    return job


def _slack_connected(slack: _Slack, http_mode: bool) -> bool:
    """Socket Mode: the WebSocket is up. HTTP mode: Slack calls our route, so the
    process being up (the app mounted) is all there is to check."""
    if http_mode:
        return True
    return slack.socket is not None and bool(slack.socket.client.is_connected())


def _serve(settings: Settings, *, force_http: bool) -> None:
    from bot.feeds.health import HealthState, add_probe_routes
    from bot.feeds.options import load_feed_options
    from bot.feeds.runner import install_signal_handlers, run_feeds
    from bot.feeds.sink import pipeline_sink
    from bot.obs.metrics import Metrics
    from bot.obs.ready import Readiness

    engine = open_store(settings)
    sites = _load_sites(settings)
    http_mode = force_http or not settings.socket_mode
    health = HealthState(max_lag=timedelta(seconds=load_feed_options().max_lag_seconds))
    metrics = Metrics(engine, health)
    from bot.actions.wiring import add_tap, channels_from_settings

    remote = channels_from_settings(settings, engine)  # the tap joins once it listens
    slack = None
    if settings.slack_enabled:
        slack = _start_slack(settings, engine, sites, http_mode=http_mode, remote=remote)
        metrics.count_slack_errors(slack.app.client)
        from bot.slack.status import slack_section

        health.slack = partial(slack_section, engine, slack.worker)  # /health's Slack part
    listeners = [slack.publisher.on_changes] if slack and slack.publisher else []
    if listeners:
        from bot.actions.first_aid import PolicyError, load_policy
        from bot.slack.actions_thread import ActionOffers

        try:  # the policy's window decides when an action counts as a fix
            window = load_policy().fixed_within
        except PolicyError as exc:
            fail(f"bad first-aid policy (run `faultbot kb lint`):\n{exc}")
        listeners.append(ActionOffers(settings, lambda: remote, window=window).on_changes)
    sink = pipeline_sink(engine, sites=sites, listeners=listeners, **_fold_of_this_worker())
    replayed = sink.restore()
    log.info("triage context restored (%d stored messages replayed after the checkpoint)",
             replayed)

    web_app = web.Application()
    readiness = Readiness(settings.database_url, health)
    if slack is not None:
        readiness.slack_connected = lambda: _slack_connected(slack, http_mode)
    add_probe_routes(web_app, readiness, metrics)
    if slack is not None and http_mode:
        from bot.slack.http import add_slack_routes

        add_slack_routes(web_app, slack.app)

    stop_threads = threading.Event()
    pruning = None

    async def main() -> None:
        stop_event = asyncio.Event()
        install_signal_handlers(stop_event)
        await run_feeds(settings, sink, web_app=web_app, stop_event=stop_event,
                        serve_http=True, health=health, on_tap=partial(add_tap, remote))

    try:
        pruning = _start_prune_job(settings, engine)
        if slack is not None:
            _run_background(slack, settings, engine, sites, stop_threads, http_mode=http_mode)
        if settings.first_aid != "off":
            _start_first_aid(settings, engine, remote, slack, stop_threads)
        click.echo(
            f"faultbot running: http on {settings.http_host}:{settings.http_port}; "
            f"Slack {'off' if slack is None else ('HTTP mode' if http_mode else 'Socket Mode')}"
        )
        asyncio.run(main())
    except Exception as exc:  # start-up (bind, broker, Slack): one line, exit 2
        log.debug("start-up failed", exc_info=True)
        fail(startup_failure(exc, settings))
    finally:
        _stop_background(slack, stop_threads)
        if pruning is not None:
            pruning.shutdown()
        engine.dispose()


@click.command()
@database_option
def run(database_url: str | None) -> None:
    """Run everything configured: feeds, triage, Slack (Socket Mode when SLACK_APP_TOKEN
    is set, HTTP otherwise), alert threads and the daily digest. Stops cleanly on SIGTERM."""
    _serve(_settings_with_logging(database_url), force_http=False)


@click.command()
@database_option
def serve(database_url: str | None) -> None:
    """Like `run`, with Slack in HTTP mode (POST /slack/events, signature-verified) next
    to the feed webhook and GET /health on FAULTBOT_HTTP_PORT."""
    _serve(_settings_with_logging(database_url), force_http=True)


def _settings_with_logging(database_url: str | None) -> Settings:
    """Settings, and logging set up from them before anything else logs (migrations)."""
    from bot.obs.logs import configure_logging

    settings = settings_or_exit(database_url)
    configure_logging(settings.log_level, settings.log_format)
    return settings


commands: list[click.Command] = [run, serve]
