"""`faultbot ingest`, `faultbot log`, `faultbot status` (and `faultbot bench ingest`).

Exit codes: 0 ok, 1 some lines rejected, 2 unusable input or settings. The words
printed come from templates/cli/*.j2.
"""

from __future__ import annotations

import contextlib
import gc
import re
import sys
from collections import namedtuple
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import select

from bot.cli.bench_cmds import bench
from bot.cli.common import (
    EXIT_OK,
    EXIT_SOME_REJECTED,
    database_option,
    fail,
    open_store,
    settings_or_exit,
)
from bot.cli.render import render
from bot.ocpp.events import LineError, Record
from bot.ocpp.logformats.context import ContextTally
from bot.text import clean

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

REJECTED_SHOWN = 20
# Files are ingested in bigger transactions than live feeds: each commit writes back the
# index pages the batch touched, so 20,000 frames per commit cost far less per frame.
FILE_BATCH = 20_000
PROGRESS_MIN_BYTES = 4 << 20  # smaller files are done before a bar is worth drawing
# The cyclic collector during a bulk ingest: a batch keeps ~20,000 messages (several
# containers each) alive, so with the default thresholds every collection of the old
# generation walked them and the state built so far: 17 % of a 300k-frame ingest.
_BULK_GC_THRESHOLDS = (50_000, 20, 10)
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# --- rendering -----------------------------------------------------------------------


def _when(dt: datetime, zone: ZoneInfo, *, named: bool = False) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z" if named else "%Y-%m-%d %H:%M:%S")


def _span(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {(minutes % 1440) // 60} h"


# --- shared --------------------------------------------------------------------------


def _resolve_charger(session: Session | Connection, text: str) -> str:
    """bot.store.queries.match_charger's rules, in Core (`status` imports no ORM)."""
    from bot.store.core_tables import core_table
    from bot.store.names import NameMatch, match_name

    chargers = core_table("chargers").c
    text = text.strip()
    if text and session.execute(select(chargers.id).where(chargers.id == text)).first():
        found = NameMatch([text])
    else:
        found = match_name(text, list(session.execute(
            select(chargers.id).order_by(chargers.id)).scalars()))
    if found.unique:
        return found.unique
    if found.matches:
        fail(f"charger {text!r} is ambiguous: {', '.join(found.matches[:5])}")
    if found.near:
        fail(f"no charger {text!r}; did you mean {' or '.join(found.near[:3])}?")
    fail(f"no charger {text!r}")


def _parse_since(text: str, now: datetime) -> datetime:
    m = _RELATIVE.fullmatch(text.strip())
    if m:
        return now - timedelta(seconds=float(m[1]) * _UNIT_S[m[2].lower()])
    from bot.ocpp.times import BadTimestamp, parse_timestamp

    try:
        return parse_timestamp(text)[0]
    except BadTimestamp:
        raise click.BadParameter(
            f"{text!r}: expected a duration like 30m, 2h, 3d or an ISO time"
        ) from None


# --- ingest --------------------------------------------------------------------------


def _capped_lines(stream: BinaryIO, bar: Any) -> Iterator[bytes]:
    """Lines for the progress-bar path; a line over the reader's cap is cut (the reader
    then reports it as too long) and the rest of it skipped unread."""
    from bot.ocpp.readers import MAX_LINE_BYTES

    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        size = len(line)
        if size > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                more = stream.readline(MAX_LINE_BYTES)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
        bar.update(size)
        yield line


def _records(
    paths: list[str], charger: str | None, timezone: ZoneInfo | None, context: ContextTally
) -> Iterator[Record | LineError]:
    from bot.ocpp.readers import read_file, read_lines

    opts: dict[str, Any] = {"charger": charger, "timezone": timezone, "context": context}
    sizes = [Path(p).stat().st_size if p != "-" else 0 for p in paths]
    if not (sys.stderr.isatty() and sum(sizes) >= PROGRESS_MIN_BYTES):
        for path in paths:
            yield from read_file(path, **opts)
        return
    with click.progressbar(length=sum(sizes), label="ingesting", file=sys.stderr) as bar:
        for path in paths:
            if path == "-":
                yield from read_file(path, **opts)
                continue
            with open(path, "rb") as stream:
                yield from read_lines(_capped_lines(stream, bar), source=path, **opts)


@contextlib.contextmanager
def _bulk_gc() -> Iterator[None]:
    """Fewer, cheaper cyclic collections while a file is loaded: what startup made
    (modules, knowledge base, matcher) is frozen out of the collector's walks, and the
    young generation is collected every 50,000 net allocations instead of 700. Cycles
    are still collected; the process's (or a test's) settings come back afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*_BULK_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown IANA time zone {text!r}") from None


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--charger", help="Charger id for lines that are bare OCPP-J frames.")
@click.option(
    "--batch-size",
    default=FILE_BATCH,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Frames per transaction.",
)
@click.option(
    "--timezone",
    "timezone_name",
    help="Zone of log times written without one, e.g. Europe/Berlin "
    "(default FAULTBOT_LOG_TIMEZONE, else UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@database_option
def ingest(
    files: tuple[str, ...],
    charger: str | None,
    batch_size: int,
    timezone_name: str | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Store and triage OCPP logs (JSON Lines, contract 1, or common log shapes)."""
    zone = _zone(timezone_name) if timezone_name else None
    for path in files:
        if path != "-" and not Path(path).is_file():
            fail(f"no such file: {path}")
    if charger is not None:
        from bot.ocpp.parse import charger_problem

        problem = charger_problem(charger)
        if problem:
            fail(f"--charger: {problem}")
    settings = settings_or_exit(database_url)
    from bot.store.sites import SiteMap, SitesError

    try:
        sites = SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(str(exc))
    engine = open_store(settings)
    from sqlalchemy.exc import SQLAlchemyError

    from bot.pipeline import Pipeline

    try:
        # The same path as the live feeds: store, triage and incidents, batch by batch.
        pipeline = Pipeline(engine, sites=sites, batch_size=batch_size)
        context = ContextTally()
        records = _records(list(files), charger, zone or settings.log_timezone, context)
        with _bulk_gc():
            summary, triaged = pipeline.load(records)
            # Time-based rules ran inside the fold, by the log's own clock; save the
            # context so the next ingest or feed continues exactly from here.
            pipeline.checkpoint()
    except SQLAlchemyError as exc:
        # The store itself failed (one bad record never gets here: it is rejected).
        # Batches committed before it stay; running the command again resumes safely.
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        fail(f"the database failed: {type(exc).__name__}: {clean(first, 300)}; "
             "batches stored before it are kept, and running ingest again skips them")
    finally:
        engine.dispose()
    from bot.cli.faults import tally

    faults = tally(
        summary.new_fault_fingerprints,
        triaged.diagnoses,
        rejected=summary.rejected_faults,
        repeats=summary.faults - summary.new_faults,
    )
    names = ["<stdin>" if f == "-" else f for f in files]
    shown = summary.rejected[:REJECTED_SHOWN]
    if as_json:
        from bot.cli.json_out import dumps, ingest_json

        click.echo(dumps(ingest_json(names, summary, triaged, faults, context, shown)))
    else:
        from bot.ocpp.reasons import counts

        click.echo(render("ingest_summary.j2", s=summary, t=triaged, f=faults, files=names,
                          shown=shown, context=context,
                          rejected_reasons=counts(summary.rejected_reasons),
                          dropped=counts(summary.dropped)))
    # Context lines (connections, pings, log chatter) are expected in real logs: only
    # lines that could not be read make the exit code 1.
    sys.exit(EXIT_SOME_REJECTED if summary.rejected_count else EXIT_OK)


# --- log -----------------------------------------------------------------------------


@click.command("log")
@click.argument("charger")
@click.option("--since", help="Only messages since then: 30m, 2h, 3d or an ISO time.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@database_option
def log_command(charger: str, since: str | None, limit: int, as_json: bool,
                database_url: str | None) -> None:
    """Show a charger's messages, one line each, oldest first."""
    from bot.store.queries import messages_for, rehydrate

    settings = settings_or_exit(database_url)
    zone = settings.timezone
    start = _parse_since(since, datetime.now(UTC)) if since else None
    engine = open_store(settings)
    try:
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            name = _resolve_charger(session, charger)
            rows = messages_for(session, name, since=start, limit=limit, newest_first=True)
            rows.reverse()
            latest = None
            if not rows and start is not None:
                last = messages_for(session, name, limit=1, newest_first=True)
                latest = _when(last[0].occurred_at, zone) if last else None
            messages = rehydrate(rows)
    finally:
        engine.dispose()
    if as_json:
        from bot.cli.json_out import dumps, log_json

        for m in messages:
            click.echo(dumps(log_json(m)))
        return
    items = [{"m": m, "when": _when(m.occurred_at, zone)} for m in messages]
    versions = sorted(
        {m.ocpp_version + (" (inferred)" if m.version_inferred else "") for m in messages}
    )
    click.echo(
        render(
            "log.j2",
            charger=name,
            items=items,
            zone=str(zone),
            since=_when(start, zone) if start else None,
            latest=latest,
            versions=versions,
        )
    )


# --- status --------------------------------------------------------------------------


@click.command()
@click.argument("charger", required=False)
@click.option("--site", help="Only the chargers of this site.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@database_option
def status(charger: str | None, site: str | None, as_json: bool,
           database_url: str | None) -> None:
    """Current state of each port: status, error and vendor code, since when, last seen."""
    from bot.store.core_tables import core_table
    from bot.store.sites import SiteMap, SitesError

    settings = settings_or_exit(database_url)
    try:
        sites = SiteMap.from_settings(settings)
    except SitesError as exc:
        fail(str(exc))
    zone = settings.timezone
    now = datetime.now(UTC)
    engine = open_store(settings)
    try:
        with engine.connect() as conn:  # Core rows only: no ORM objects, no ORM import
            name = _resolve_charger(conn, charger) if charger else None
            site_name = None
            members: set[str] | None = None
            if site:
                id_col = core_table("chargers").c.id
                known = list(conn.execute(select(id_col).order_by(id_col)).scalars())
                found = sites.match_site(site, known)
                if not found.unique:
                    hint = found.matches or found.near
                    fail(
                        f"no site {site!r}"
                        + (f"; did you mean {' or '.join(hint[:3])}?" if hint else "")
                    )
                site_name = found.unique
                members = set(sites.chargers_in(site_name, known))
            ports, chargers = _status_rows(conn, name, members)
    finally:
        engine.dispose()
    ids = {p.charger_id for p in ports} | set(chargers)
    if name:
        ids.add(name)
    if as_json:
        from bot.cli.json_out import dumps, status_json

        click.echo(dumps(status_json(name or site_name, ids, ports, chargers, sites)))
        return
    click.echo(
        render(
            "status.j2",
            chargers=_status_view(ids, ports, chargers, sites, zone, now),
            scope=name or site_name,
        )
    )


def _status_rows(
    conn: Connection, name: str | None, members: set[str] | None
) -> tuple[list[Any], dict[str, Any]]:
    """Plain rows (no ORM objects), streamed from the cursor: each port in scope by
    charger then port, and each charger in scope by id."""
    from bot.store.core_tables import core_table

    ch, cn = core_table("chargers").c, core_table("connectors").c

    port_q = select(
        cn.charger_id, cn.connector_id, cn.status, cn.error_code,
        cn.vendor_id, cn.vendor_error_code, cn.info,
        cn.status_since,
    ).order_by(cn.charger_id, cn.connector_id)
    charger_q = select(ch.id, ch.vendor, ch.model, ch.firmware,
                       ch.last_seen)
    if name is not None:
        port_q = port_q.where(cn.charger_id == name)
        charger_q = charger_q.where(ch.id == name)
    # Named tuples, not Rows: a Row's attribute goes through Python-level __getattr__,
    # and the view and template read each port's fields several times.
    named: Any = namedtuple  # field names known only at run time
    result = conn.execute(port_q)
    port = named("port", list(result.keys()))._make
    ports = [port(p) for p in result if members is None or p.charger_id in members]
    result = conn.execute(charger_q)
    charger = named("charger", list(result.keys()))._make
    chargers = {c.id: charger(c) for c in result if members is None or c.id in members}
    return ports, chargers


def _status_view(
    ids: set[str],
    ports: list[Any],
    chargers: dict[str, Any],
    sites: Any,
    zone: ZoneInfo,
    now: datetime,
) -> list[dict[str, Any]]:
    by_charger: dict[str, list[dict[str, Any]]] = {i: [] for i in sorted(ids)}
    for p in ports:
        by_charger.setdefault(p.charger_id, []).append({"p": p})
    view = []
    for cid, rows in by_charger.items():
        ch = chargers.get(cid)
        site = sites.site_of(cid)
        local = sites.timezone_of(site) or zone  # the site's own clock when the file gives one
        for row in rows:
            since = row["p"].status_since
            row["since"], row["for"] = _when(since, local, named=True), _span(now - since)
        seen = ch.last_seen if ch is not None else None
        view.append(
            {
                "id": cid,
                "site": site,
                "charger": ch,
                "last_seen": (
                    f"{_when(seen, local, named=True)} ({_span(now - seen)} ago)" if seen else None
                ),
                "ports": rows,
            }
        )
    return view


# --- bench ---------------------------------------------------------------------------


@click.command("ingest")
# A 10,000-charger fleet (issue 14) for 0.6 h: about 590k frames, the cost of the old
# 1,000 x 6 h default; --hours 1 gives the 1M frames.
@click.option("--chargers", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Fleet size.")
@click.option("--hours", default=0.6, show_default=True, type=click.FloatRange(0.01, 24 * 30),
              help="Hours of fleet traffic (0.6 h of 10,000 chargers is about 590k frames; "
                   "--hours 1 is about 1M).")
@click.option(
    "--batch-size", default=FILE_BATCH, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--profile", is_flag=True, help="Print the top of a cProfile of the timed ingest.")
@click.option("--postgres-url", envvar="FAULTBOT_BENCH_POSTGRES_URL",
              help="A PostgreSQL server (any database on it): the whole `faultbot ingest` "
                   "also runs into a scratch database there, next to SQLite.")
@click.option("--whole/--no-whole", default=True, show_default=True,
              help="Also time the whole `faultbot ingest` command in its own process.")
@database_option
def bench_ingest(
    chargers: int, hours: float, batch_size: int, profile: bool, postgres_url: str | None,
    whole: bool, database_url: str | None,
) -> None:
    """End-to-end ingest throughput next to a json.loads + bare bulk insert floor."""
    from bot.bench.ingest import run

    run(
        chargers=chargers,
        hours=hours,
        batch_size=batch_size,
        profile=profile,
        database_url=database_url,
        postgres_url=postgres_url,
        whole=whole,
        echo=click.echo,
    )


bench.add_command(bench_ingest)

commands: list[click.Command] = [ingest, log_command, status]
