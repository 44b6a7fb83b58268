"""`faultbot db prune`: retention of the message log and the derived tables."""

from __future__ import annotations

import click

from bot.cli.common import database_option, open_store, settings_or_exit


@click.group()
def db() -> None:
    """The database: retention."""


@db.command("prune")
@database_option
@click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")
def prune_cmd(database_url: str | None, dry_run: bool) -> None:
    """Remove frames and derived rows older than the retention settings.

    FAULTBOT_RETENTION_DAYS (raw frames, default 30), FAULTBOT_EVIDENCE_RETENTION_DAYS
    (frames a diagnosis rests on, 400) and FAULTBOT_DERIVED_RETENTION_DAYS (diagnoses,
    resolved incidents, port history, 400), in days of the log's own clock. Frames no
    fold has folded yet are never removed, and no answer changes.
    """
    from bot.retention.prune import RetentionPolicy, prune
    from bot.templating import terminal_env

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    policy = RetentionPolicy.from_settings(settings)
    report = prune(engine, policy, dry_run=dry_run)
    text = terminal_env("cli").get_template("db_prune.j2").render(r=report, policy=policy)
    click.echo(text.rstrip("\n"))


commands = [db]
