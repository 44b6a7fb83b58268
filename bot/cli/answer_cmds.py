"""`faultbot why`, `site`, `digest` and `demo`; registers `bench triage`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from bot.cli.common import EXIT_UNUSABLE, database_option, fail, open_store, settings_or_exit


def _sites(settings: Any) -> Any:
    from bot.store.sites import SiteMap, SitesError

    try:
        return SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(f"bad sites file: {exc}")


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now: expected an ISO 8601 time such as 2026-11-21T07:30:00Z, got {text!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


now_option = click.option(
    "--now", "now_text", default=None, help="Answer as of this time (ISO 8601; default: now)."
)


@click.command()
@click.argument("charger")
@click.option("--connector", "-c", type=click.IntRange(0, 10_000), default=None,
              help="Only this port.")
@now_option
@database_option
def why(charger: str, connector: int | None, now_text: str | None,
        database_url: str | None) -> None:
    """Why is CHARGER (or one port) down, what to do, who does it. Forgiving: cp12 finds
    CP-012."""
    from bot.answers.render import render_why
    from bot.answers.why import why as answer_why
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        answer = answer_why(session, charger, connector, _now(now_text), sites=_sites(settings))
    click.echo(render_why(answer, str(settings.timezone)), nl=False)
    if not answer.found:
        raise SystemExit(EXIT_UNUSABLE)


@click.command()
@click.argument("name")
@now_option
@database_option
def site(name: str, now_text: str | None, database_url: str | None) -> None:
    """Ports down at a site, site-level causes and who must act."""
    from bot.answers.render import render_site
    from bot.answers.site import site as answer_site
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        answer = answer_site(session, name, _now(now_text), sites=_sites(settings))
    click.echo(render_site(answer, str(settings.timezone)), nl=False)
    if not answer.found:
        raise SystemExit(EXIT_UNUSABLE)


@click.command()
@click.option("--date", "day_text", default=None,
              help="Local day YYYY-MM-DD (default: yesterday in FAULTBOT_TIMEZONE).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@now_option
@database_option
def digest(day_text: str | None, fmt: str, now_text: str | None,
           database_url: str | None) -> None:
    """The daily digest: what is down, who must act, uptime, ignored phantoms."""
    from bot.digest.build import build_digest
    from bot.digest.render import render_digest
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    tz = settings.timezone
    now = _now(now_text)
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            fail(f"--date: expected YYYY-MM-DD, got {day_text!r}")
    else:
        day = now.astimezone(tz).date() - timedelta(days=1)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        result = build_digest(session, day, tz, _sites(settings), now)
    click.echo(render_digest(result, fmt), nl=False)  # type: ignore[arg-type]


commands: list[click.Command] = [why, site, digest]


def _register_bench() -> None:
    from bot.bench.triage import triage_bench
    from bot.cli.bench_cmds import bench

    bench.add_command(triage_bench)


_register_bench()
