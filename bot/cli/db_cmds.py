"""`faultbot db prune` (retention of the message log and the derived tables) and
`faultbot db upgrade` (the schema)."""

from __future__ import annotations

import click

from bot.cli.common import database_option, open_store, settings_or_exit


@click.group()
def db() -> None:
    """The database: retention and schema upgrades."""


@db.command("prune")
@database_option
@click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")
@click.option("--vacuum", is_flag=True,
              help="SQLite: rewrite the file once (VACUUM) so it shrinks, and switch an "
                   "older file to incremental vacuum after every later prune.")
def prune_cmd(database_url: str | None, dry_run: bool, vacuum: bool) -> None:
    """Remove frames and derived rows older than the retention settings.

    FAULTBOT_RETENTION_DAYS (raw frames, default 30), FAULTBOT_EVIDENCE_RETENTION_DAYS
    (frames a diagnosis rests on, 400) and FAULTBOT_DERIVED_RETENTION_DAYS (diagnoses,
    resolved incidents, port history, 400), in days of the log's own clock. Frames no
    fold has folded yet are never removed, and no answer changes. On SQLite the freed
    pages go back to the file system (incremental vacuum) when the file allows it.
    """
    from bot.retention.prune import RetentionPolicy, prune
    from bot.retention.vacuum import VacuumReport, reclaim
    from bot.templating import terminal_env

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    policy = RetentionPolicy.from_settings(settings)
    report = prune(engine, policy, dry_run=dry_run)
    freed = VacuumReport("n/a") if dry_run else reclaim(engine, full=vacuum)
    text = terminal_env("cli").get_template("db_prune.j2").render(r=report, policy=policy,
                                                                  v=freed)
    click.echo(text.rstrip("\n"))


@db.command("upgrade")
@database_option
def upgrade_cmd(database_url: str | None) -> None:
    """Bring the schema to this faultbot's newest revision (safe to run again).

    ingest, run, serve, feed and demo do this by themselves; read-only commands
    (why, site, status, log, ...) only check it and ask for this command.
    """
    from bot.store.db import stored_revisions
    from bot.templating import terminal_env

    settings = settings_or_exit(database_url)
    engine = open_store(settings, migrate=True)
    try:
        revisions = sorted(stored_revisions(engine))
    finally:
        engine.dispose()
    text = terminal_env("cli").get_template("db_upgrade.j2").render(revisions=revisions)
    click.echo(text.rstrip("\n"))


commands = [db]
