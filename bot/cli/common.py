"""Helpers shared by CLI commands: settings, the store, exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import Engine

from bot.config import Settings, SettingsError, load_settings

EXIT_OK, EXIT_SOME_REJECTED, EXIT_UNUSABLE = 0, 1, 2


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    click.echo(f"faultbot: {message}", err=True)
    sys.exit(code)


def settings_or_exit(database_url: str | None = None) -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(f"bad setting {exc}")
    if database_url:
        from dataclasses import replace

        settings = replace(settings, database_url=database_url)
    return settings


def open_store(settings: Settings) -> Engine:
    """An engine on the configured database, migrated to the newest schema."""
    from bot.store.db import make_engine, migrate

    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except Exception as exc:  # any failure here means "unusable settings": one line
        from bot.config import _hide_password

        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        fail(f"bad setting DATABASE_URL: cannot open the database "
             f"{_hide_password(settings.database_url)}: "
             f"{type(exc).__name__}: {first[:300]}")
    return engine


database_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///faultbot.db).",
)
