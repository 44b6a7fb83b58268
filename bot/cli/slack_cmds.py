"""`faultbot slack digest-now`, `report-now`, `deliver`, `paging`, and
`faultbot demo-slack`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import click

from bot.cli.common import database_option, fail, open_store, settings_or_exit

if TYPE_CHECKING:  # the Slack SDK loads only when a Slack command runs
    from slack_sdk import WebClient

    from bot.config import Settings


def _say(what: str, *, err: bool = False, **context: object) -> None:
    from bot.templating import terminal_env

    text = terminal_env("cli").get_template("slack_sent.j2").render(what=what, **context)
    click.echo(text, err=err)


@click.group()
def slack() -> None:
    """Slack side: post the digest now, flush the outbox."""


def _client_or_exit(settings: Settings) -> WebClient:
    from bot.slack.app import make_client

    if not settings.slack_bot_token:
        fail("SLACK_BOT_TOKEN is not set: Slack is off")
    return make_client(settings)


@slack.command("digest-now")
@click.option(
    "--date",
    "local_date",
    default=None,
    help="Local date the digest is for (YYYY-MM-DD; default: today).",
)
@click.option("--channel", default=None, help="Channel id (default: FAULTBOT_DIGEST_CHANNEL).")
@database_option
def digest_now(local_date: str | None, channel: str | None, database_url: str | None) -> None:
    """Post the digest now (once per channel per local day: a second run says so)."""
    from bot.config import SettingsError
    from bot.slack.digest_job import DigestScheduler

    settings = settings_or_exit(database_url)
    channel = channel or settings.digest_channel
    if not channel:
        fail("no channel: set FAULTBOT_DIGEST_CHANNEL or pass --channel")
    try:
        day = date.fromisoformat(local_date) if local_date else None
    except ValueError:
        fail(f"--date: expected YYYY-MM-DD, got {local_date!r}")
    client = _client_or_exit(settings)
    engine = open_store(settings)
    try:
        scheduler = DigestScheduler(engine, settings, client)
    except SettingsError as exc:
        fail(f"bad setting {exc}")
    now = datetime.now(UTC)
    day = day or now.astimezone(settings.timezone).date()
    result = scheduler.post(channel, day, now, trigger="manual")
    if not result.posted:
        _say("digest_twice", day=day, channel=channel)
        return
    sent = scheduler.worker.run_once() if scheduler.worker else 0
    _say("digest", report_day=scheduler.report_day(day), channel=channel,
         messages=result.messages, sent=sent)


@slack.command("report-now")
@click.option("--channel", default=None, help="Channel id (default: FAULTBOT_DIGEST_CHANNEL).")
@click.option("--now", "now_text", default=None,
              help="Report up to this time (ISO 8601; default: the log's own clock).")
@database_option
def report_now(channel: str | None, now_text: str | None, database_url: str | None) -> None:
    """Post the weekly fleet report now, with its charts in the thread (through the
    outbox, like the digest: once per channel and report time)."""
    from bot.cli.common import as_of, sites_or_exit
    from bot.report.build import build_report
    from bot.slack.models import FAILED, SENT
    from bot.slack.outbox import OutboxWorker
    from bot.slack.report_post import queue_report, report_delivery
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    channel = channel or settings.digest_channel
    if not channel:
        fail("no channel: set FAULTBOT_DIGEST_CHANNEL or pass --channel")
    sites = sites_or_exit(settings)
    client = _client_or_exit(settings)
    engine = open_store(settings)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        when = as_of(session, now_text)
        built = build_report(session, when, settings.timezone, sites)
    key = when.astimezone(UTC).isoformat()
    with sessions() as session, session.begin():
        queued = queue_report(session, channel, built, key, datetime.now(UTC))
    if not queued:
        _say("report_twice", channel=channel, as_of=key)
        return
    OutboxWorker(engine, client, admins=settings.admins).run_once()
    with sessions() as session:
        state = report_delivery(session, channel, key)
    assert state is not None  # queued just above
    if state.status == FAILED:
        fail(f"Slack refused the report: {state.error}")
    if state.status != SENT:
        _say("report_queued", channel=channel, error=state.error)
        return
    _say("report", posted=state)
    if state.charts_error:
        _say("charts_failed", err=True, error=state.charts_error)


@slack.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until interrupted.")
@database_option
def deliver(loop: bool, database_url: str | None) -> None:
    """Send pending outbox rows to Slack (with backoff and pacing)."""
    import threading

    from bot.slack.outbox import OutboxWorker

    settings = settings_or_exit(database_url)
    client = _client_or_exit(settings)
    engine = open_store(settings)
    worker = OutboxWorker(engine, client)
    if loop:
        stop = threading.Event()
        try:
            worker.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
        return
    sent = worker.run_once()
    _say("delivered", sent=sent, pending=worker.pending())


@click.command("demo-slack")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the sample feed and demo database (default: a temp dir).",
)
def demo_slack(workdir: str | None) -> None:
    """The Slack side end to end against a local Slack stand-in (no credentials)."""
    from pathlib import Path

    from bot.config import load_settings
    from bot.slack.demo import run_demo

    try:
        settings = load_settings()
    except Exception as exc:
        click.echo(f"(ignoring settings: {exc})", err=True)
        from bot.config import Settings

        settings = Settings()
    run_demo(settings, click.echo, Path(workdir) if workdir else None)


@slack.command("paging")
@click.option("--file", "path", default=None, type=click.Path(dir_okay=False),
              help="A paging file to check (default: FAULTBOT_PAGING).")
def paging(path: str | None) -> None:
    """Check the paging file and print the effective policy: who each alert mentions,
    whom it re-notifies and when, and which channel each site's alerts go to."""
    from pathlib import Path

    from bot.slack.paging import PagingError, duration_text, load_paging
    from bot.templating import terminal_env

    settings = settings_or_exit(None)
    source = Path(path) if path else settings.paging_file
    try:
        policy = load_paging(source)
    except PagingError as exc:
        fail(f"bad paging file: {exc}")
    text = terminal_env("cli").get_template("slack_paging.j2").render(
        p=policy,
        alert_channel=settings.alert_channel,
        min_severity=settings.alert_min_severity.value,
        dur=duration_text,
    )
    click.echo(text.rstrip("\n"))


commands: list[click.Command] = [slack, demo_slack]
