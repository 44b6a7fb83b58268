"""`faultbot doctor`: checks the set-up and prints what to fix; exit 0 only when all is
well. Slack (bot.slack.doctor), the database, the feeds' settings, the site map and
the knowledge base. The words are in templates/cli/doctor.j2."""

from __future__ import annotations

import click

from bot.cli.common import database_option, settings_or_exit
from bot.config import Settings, SettingsError
from bot.slack.doctor import Finding, check_slack, say, words


def check_database(settings: Settings) -> Finding:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config, make_engine

    try:
        engine = make_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                current = set(MigrationContext.configure(conn).get_current_heads())
            heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        finally:
            engine.dispose()
    except Exception as exc:  # any driver error: say it, do not crash
        return Finding("database_down", False, {"error": str(exc).splitlines()[0][:200]})
    if current != heads:
        return Finding("database_behind", False, {"missing": sorted(heads - current)})
    return Finding("database_ok", True)


def check_feeds(settings: Settings) -> list[Finding]:
    from bot.feeds.options import load_feed_options
    from bot.store.sites import SiteMap, SitesError

    found = []
    try:
        load_feed_options()
        found.append(Finding("feeds_ok", True))
    except SettingsError as exc:
        found.append(Finding("feeds_bad", False, {"error": str(exc)}))
    try:
        SiteMap.from_settings(settings)
        found.append(Finding("sites_ok", True))
    except SitesError as exc:
        found.append(Finding("sites_bad", False, {"error": str(exc)}))
    return found


def check_knowledge() -> Finding:
    from bot.kb.loader import KnowledgeError, default_knowledge

    try:
        kb = default_knowledge()
    except KnowledgeError as exc:
        return Finding("kb_bad", False, {"error": str(exc).splitlines()[0][:300]})
    return Finding("kb_ok", True, {"entries": len(kb.entries)})


def run_checks(settings: Settings) -> list[Finding]:
    found = [check_database(settings), *check_feeds(settings), check_knowledge()]
    if not settings.slack_enabled:
        found.append(Finding("slack_off", True, warning=True))
        return found
    from bot.slack.app import make_client

    return found + check_slack(settings, make_client(settings))


@click.command()
@database_option
def doctor(database_url: str | None) -> None:
    """Check the set-up (Slack token, scopes and channels, database, feeds, knowledge
    base) and print what to fix. Exit status 0 only when all is well."""
    findings = run_checks(settings_or_exit(database_url))
    for finding in findings:
        click.echo(say(finding))
    bad = sum(not f.ok for f in findings)
    click.echo(str(words().summary(bad)).strip())
    raise SystemExit(0 if bad == 0 else 1)


commands: list[click.Command] = [doctor]
