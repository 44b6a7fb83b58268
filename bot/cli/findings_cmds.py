"""`faultbot findings`: what only the whole history shows (firmware and model regressions)."""

from __future__ import annotations

import click

from bot.cli.common import as_of, database_option, open_store, settings_or_exit, sites_or_exit


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@click.option("--now", "now_text", default=None,
              help="History up to this time (ISO 8601; default: the log's own clock).")
@database_option
def findings(as_json: bool, now_text: str | None, database_url: str | None) -> None:
    """Firmware and model regressions: fault rates per port-day, before vs after a
    firmware change, and each model against the others at its site; and the last
    week's connection health (boot loops, reconnect storms, clocks far off)."""
    from bot.findings.connection import WINDOW, stored_connection_issues
    from bot.findings.history import load_history
    from bot.findings.regressions import find_regressions
    from bot.findings.render import render_findings
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    sites = sites_or_exit(settings)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        until = as_of(session, now_text)
        history = load_history(session, until, sites.site_of)
        links = stored_connection_issues(session, until - WINDOW, until)
    found = find_regressions(history)
    click.echo(render_findings(found, chargers=len(history.chargers), until=until,
                               fmt="json" if as_json else "text", connection=links), nl=False)


commands = [findings]
