"""`faultbot report --week`: the weekly fleet report in the terminal."""

from __future__ import annotations

import click

from bot.cli.common import as_of, database_option, open_store, settings_or_exit, sites_or_exit


@click.command()
@click.option("--week", is_flag=True, required=True,
              help="The weekly report (the only period there is so far).")
@click.option("--now", "now_text", default=None,
              help="Report up to this time (ISO 8601; default: the log's own clock).")
@click.option("--charts", "charts_dir", type=click.Path(file_okay=False), default=None,
              help="Also write the charts as PNG files into this directory.")
@database_option
def report(week: bool, now_text: str | None, charts_dir: str | None,
           database_url: str | None) -> None:
    """The weekly fleet report: uptime trend per site, top causes and who had to act,
    chronic ports, site visits avoided, regressions, connection health, unknown codes."""
    from pathlib import Path

    from bot.report.build import build_report
    from bot.report.render import chart_pngs, render_report
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    sites = sites_or_exit(settings)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        built = build_report(session, as_of(session, now_text), settings.timezone, sites)
    click.echo(render_report(built), nl=False)
    if charts_dir:
        out = Path(charts_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, png in chart_pngs(built).items():
            (out / f"{name}.png").write_bytes(png)
            click.echo(str(out / f"{name}.png"))


commands = [report]
