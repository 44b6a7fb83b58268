"""Helpers shared by CLI commands: settings, the store, exit codes."""

from __future__ import annotations

import errno
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

import click

from bot.config import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # annotations only: `explain` never opens the store
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from bot.store.sites import SiteMap

EXIT_OK, EXIT_SOME_REJECTED, EXIT_UNUSABLE = 0, 1, 2


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    click.echo(f"faultbot: {message}", err=True)
    sys.exit(code)


def parse_now(text: str) -> datetime:
    """A --now value: ISO 8601, UTC when it names no zone; a clear error otherwise."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now: expected an ISO 8601 time such as 2026-11-21T07:30:00Z, got {text!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def settings_or_exit(database_url: str | None = None) -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(f"bad setting {exc}")
    if database_url:
        from dataclasses import replace

        settings = replace(settings, database_url=database_url)
    return settings


# Commands that only read the store: they check the schema's revision (one small
# query) instead of running alembic, and name `faultbot db upgrade` when it is behind.
# Every other command migrates first, as `ingest`, `run`, `feed` and `db upgrade` must.
READ_ONLY = frozenset({"why", "site", "status", "log", "digest", "kb unknown", "kb export"})
SCHEMA_PROBLEMS = {
    "empty": "holds no faultbot schema yet",
    "old": "has an older schema than this faultbot",
    "newer": "was upgraded by a newer faultbot; install that version",
}


def command_path() -> str:
    """The running command below the `faultbot` group, e.g. "kb unknown" ("" outside click)."""
    ctx = click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None:
        if not (ctx.parent is None and isinstance(ctx.command, click.Group)):
            names.append(ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def open_store(settings: Settings, *, migrate: bool | None = None) -> Engine:
    """An engine on the configured database. Migrated to the newest schema unless the
    running command is read-only (`migrate` overrides); a read-only command on a
    schema that is not current exits 2 with one line naming `faultbot db upgrade`."""
    from bot.store.db import make_engine
    from bot.store.db import migrate as run_migrations

    if migrate is None:
        migrate = command_path() not in READ_ONLY
    problem = None
    try:
        engine = make_engine(settings.database_url)
        if migrate:
            run_migrations(engine)
        else:
            from bot.store.db import schema_problem

            problem = schema_problem(engine)
    except Exception as exc:  # any failure here means "unusable settings": one line
        from bot.config import _hide_password

        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        fail(f"bad setting DATABASE_URL: cannot open the database "
             f"{_hide_password(settings.database_url)}: "
             f"{type(exc).__name__}: {first[:300]}")
    if problem is not None:
        from bot.config import _hide_password

        engine.dispose()
        hint = "" if problem == "newer" else "; run `faultbot db upgrade` first"
        fail(f"the database {_hide_password(settings.database_url)} "
             f"{SCHEMA_PROBLEMS[problem]}{hint}")
    return engine


database_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///faultbot.db).",
)


def startup_failure(exc: BaseException, settings: Settings) -> str:
    """One line naming the setting behind a start-up failure."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        from bot.feeds.options import load_feed_options

        tap_port = load_feed_options().tap_port
        if settings.upstream_csms and str(tap_port) in first:
            return f"bad setting FAULTBOT_TAP_PORT: port {tap_port} is already in use"
        return (f"bad setting FAULTBOT_HTTP_PORT: port {settings.http_port} on "
                f"{settings.http_host} is already in use (another faultbot, or another "
                "program; set FAULTBOT_HTTP_PORT or PORT to a free port)")
    module = type(exc).__module__
    if module.startswith(("aio_pika", "aiormq", "pamqp")):
        return f"cannot start the broker feed (FAULTBOT_AMQP_URL): {first}"
    if module.startswith("slack_sdk"):
        return f"cannot connect to Slack (SLACK_BOT_TOKEN / SLACK_APP_TOKEN): {first}"
    if module.startswith("sqlalchemy"):
        return f"the database failed (DATABASE_URL): {first}"
    return f"start-up failed: {type(exc).__name__}: {first}"


def sites_or_exit(settings: Settings) -> SiteMap:
    """The site map from FAULTBOT_SITES, or a clear exit when the file is bad."""
    from bot.store.sites import SiteMap, SitesError

    try:
        return SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(f"bad sites file: {exc}")


def as_of(session: Session, now_text: str | None) -> datetime:
    """The time a history command reports up to: --now, else the log's own clock (the
    newest stored frame), else the wall clock for an empty store."""
    from bot.fold.checkpoint import log_time

    now = parse_now(now_text) if now_text else log_time(session.connection())
    return now or datetime.now(UTC)
