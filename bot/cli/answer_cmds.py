"""`faultbot why`, `site`, `digest` and `demo`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from bot.cli.common import (
    EXIT_UNUSABLE,
    database_option,
    fail,
    open_store,
    parse_now,
    settings_or_exit,
)


def _sites(settings: Any) -> Any:
    from bot.store.sites import SiteMap, SitesError

    try:
        return SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(f"bad sites file: {exc}")


def _now(text: str | None, session: Any = None) -> datetime:
    """--now, else the log's own clock (so answers are a function of the stored
    messages), else the wall clock for an empty store."""
    if not text:
        if session is not None:
            from sqlalchemy import Connection

            from bot.fold.checkpoint import log_time

            logged = log_time(session if isinstance(session, Connection) else
                              session.connection())
            if logged is not None:
                return logged
        return datetime.now(UTC)
    return parse_now(text)


now_option = click.option(
    "--now", "now_text", default=None,
    help="Answer as of this time (ISO 8601; default: the log's newest time).",
)
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object (README: JSON for scripts).")


@click.command()
@click.argument("charger")
@click.option("--connector", "-c", type=click.IntRange(0, 10_000), default=None,
              help="Only this port.")
@now_option
@json_option
@database_option
def why(charger: str, connector: int | None, now_text: str | None, as_json: bool,
        database_url: str | None) -> None:
    """Why is CHARGER (or one port) down, what to do, who does it. Forgiving: cp12 finds
    CP-012."""
    from bot.answers.render import render_why
    from bot.answers.why import why as answer_why

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    with engine.connect() as conn:  # Core reads only: no ORM session, no ORM import
        now = _now(now_text, conn)
        answer = answer_why(conn, charger, connector, now, sites=_sites(settings))
        if as_json:
            from bot.cli.json_out import dumps, why_json

            click.echo(dumps(why_json(conn, answer)))
    if not as_json:
        click.echo(render_why(answer, str(settings.timezone)), nl=False)
    if not answer.found:
        raise SystemExit(EXIT_UNUSABLE)


@click.command()
@click.argument("name")
@now_option
@json_option
@database_option
def site(name: str, now_text: str | None, as_json: bool, database_url: str | None) -> None:
    """Ports down at a site, site-level causes and who must act."""
    from bot.answers.render import render_site
    from bot.answers.site import site as answer_site
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        answer = answer_site(session, name, _now(now_text, session), sites=_sites(settings))
        if as_json:
            from bot.cli.json_out import dumps, site_json

            click.echo(dumps(site_json(session, answer)))
    if not as_json:
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
    if day_text:
        try:
            day: date | None = date.fromisoformat(day_text)
        except ValueError:
            fail(f"--date: expected YYYY-MM-DD, got {day_text!r}")
    else:
        day = None
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        now = _now(now_text, session)
        if day is None:
            day = now.astimezone(tz).date() - timedelta(days=1)
        result = build_digest(session, day, tz, _sites(settings), now)
    click.echo(render_digest(result, fmt), nl=False)  # type: ignore[arg-type]  # click.Choice of the formats


# The demo's questions: (command shown, why it is asked, kind, argument).
DEMO_DAY = date(2026, 11, 20)
DEMO_QUESTIONS = (
    ("why", "CP-005", "an emergency stop: someone on site can fix it in two minutes"),
    ("why", "CP-018", "a model that reports a fault at every boot: a phantom, nobody paged"),
    ("site", "Depot North", "the site with the voltage dip: one site cause, not five faults"),
    ("why", "CP-020", "a flapping port: one incident, not ten"),
    ("why", "CP-017", "a driver's car that faults on every charger it visits"),
    ("why", "CP-003", "a charger that went silent"),
    ("why", "cp12", "a forgiving id: cp12 finds CP-012"),
)


def run_demo(keep: str | None, echo: Any = click.echo) -> int:
    """Sample feed -> fresh SQLite -> Pipeline -> digest and answers. Returns an exit code."""
    import tempfile
    from collections import Counter, defaultdict
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from bot.answers.render import render_site, render_why
    from bot.answers.site import site as answer_site
    from bot.answers.why import why as answer_why
    from bot.digest.build import build_digest
    from bot.digest.render import render_digest
    from bot.digest.templating import render
    from bot.ocpp.readers import read_file
    from bot.pipeline import Pipeline
    from bot.sample.generate import write_sample
    from bot.store.db import make_engine, make_sessionmaker, migrate
    from bot.store.sites import SiteMap

    tmp = None if keep else tempfile.TemporaryDirectory(prefix="faultbot-demo-")
    where = Path(tmp.name) if tmp is not None else Path(str(keep))
    try:
        where.mkdir(parents=True, exist_ok=True)
        db_path = where / "faultbot.db"
        if db_path.exists():
            fail(f"{db_path} already exists; give --keep an empty directory")
        paths = write_sample(where)
        sites = SiteMap.load(paths.sites)
        engine = make_engine(f"sqlite:///{db_path}")
        migrate(engine)
        pipeline = Pipeline(engine, sites=sites)
        result = pipeline.process(read_file(paths.feed))
        now = pipeline.feed_clock.now or datetime.now(UTC)  # the log's own clock

        final: dict[str | int, Any] = {}  # the final diagnosis of each message
        for d in result.diagnoses:
            final[d.message_fingerprint or id(d)] = d
        by_rule: dict[str, list[Any]] = defaultdict(list)
        for d in final.values():
            by_rule[d.rule].append(d)
        rules = sorted(
            ((rule, len(ds), sorted({d.charger for d in ds})[:3],
              Counter(d.category.value for d in ds).most_common(1)[0][0])
             for rule, ds in by_rule.items()),
            key=lambda r: (-r[1], r[0]),
        )
        tz = ZoneInfo("UTC")
        answers = []
        with make_sessionmaker(engine)() as session:
            digest_text = render_digest(build_digest(session, DEMO_DAY, tz, sites, now))
            for kind, arg, asked in DEMO_QUESTIONS:
                # Ask while the story was happening: a few minutes into the latest
                # incident of the day (silences and quiet chargers: at the feed's end).
                when = _demo_moment(session, kind, arg, sites, now)
                if kind == "why":
                    text = render_why(answer_why(session, arg, None, when, sites=sites))
                else:
                    text = render_site(answer_site(session, arg, when, sites=sites))
                shown = f'faultbot {kind} "{arg}"' if " " in arg else f"faultbot {kind} {arg}"
                stamp = when.astimezone(UTC).isoformat().replace("+00:00", "Z")[:16] + "Z"
                answers.append((f"{shown} --now {stamp}", asked, text.rstrip()))
        engine.dispose()
        with open(paths.feed, encoding="utf-8") as feed:
            lines = sum(1 for _ in feed)
        echo(render(
            "answers/demo.j2",
            feed=str(paths.feed), db=str(db_path), kept=bool(keep), lines=f"{lines:,}",
            chargers=len({c for s in sites.sites() for c in sites.chargers_in(s)}),
            sites=len(sites.sites()), r=result, errors=result.errors[:8], rules=rules,
            phantoms=sum(1 for d in final.values() if d.suppressed),
            digest=digest_text.rstrip(), answers=answers, day=DEMO_DAY, tz=str(tz),
        ), nl=False)
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


def _demo_moment(session: Any, kind: str, arg: str, sites: Any, end: datetime) -> datetime:
    from sqlalchemy import select

    from bot.answers.resolve import resolve_charger, resolve_site
    from bot.incidents.keys import is_silence
    from bot.incidents.models import Incident

    stmt = select(Incident).where(Incident.suppressed.is_(False))
    if kind == "why":
        charger = resolve_charger(session, arg).unique
        stmt = stmt.where(Incident.charger == charger)
    else:
        stmt = stmt.where(Incident.site == resolve_site(session, arg, sites).unique,
                          Incident.scope == "site")
    latest = session.scalars(stmt.order_by(Incident.opened_at.desc()).limit(1)).first()
    if latest is None or is_silence(latest.rule) or latest.resolved_at is None:
        return end
    if latest.opened_at < end - timedelta(days=1):  # nothing on the demo day: ask at the end
        return end
    return latest.opened_at + min(timedelta(minutes=5), (latest.resolved_at - latest.opened_at) / 2)


@click.command()
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Write the sample feed and database here and keep them.")
def demo(keep: str | None) -> None:
    """Show the whole product on the bundled sample feed: no setup, no credentials."""
    raise SystemExit(run_demo(keep))


commands: list[click.Command] = [why, site, digest, demo]
