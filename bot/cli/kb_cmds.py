"""`faultbot lookup` and `faultbot kb lint|stats|unknown|export|teach` (and `bench match`).

Exit codes: 0 ok, 1 problems found (lint) or nothing known (lookup), 2 unusable
input or settings. The words printed come from templates/cli/kb_*.j2.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import click
import jinja2

from bot.cli.bench_cmds import bench
from bot.cli.common import EXIT_OK, EXIT_SOME_REJECTED, database_option, fail, open_store
from bot.cli.common import settings_or_exit as _settings
from bot.templating import terminal_env
from bot.vocab import Category, Owner, Severity


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return terminal_env("cli")


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context).rstrip("\n")


def _knowledge(root: str | None = None) -> Any:
    from bot.kb.loader import KnowledgeError, default_knowledge, load_knowledge

    try:
        return load_knowledge(Path(root)) if root else default_knowledge()
    except KnowledgeError as exc:
        fail(f"the knowledge base has problems (run `faultbot kb lint`):\n{exc}")


def _entry_json(entry: Any) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "key": entry.key,
        "vendor": entry.vendor,
        "code": entry.code,
        "category": entry.category.value,
        "severity": entry.severity.value,
        "owner": entry.owner.value,
        "meaning": entry.meaning,
        "action": entry.action,
        "escalation": entry.escalation,
        "source": entry.source,
        "suppress": entry.suppress,
    }


def lookup_json(query: Any, match: Any) -> dict[str, Any]:
    """The stable JSON object of `faultbot lookup --json`."""
    entry = match.entry
    return {
        "query": {
            "code": query.code,
            "vendor": query.vendor,
            "model": query.model,
            "firmware": query.firmware,
            "info": query.info,
            "error_code": query.error_code,
        },
        "known": entry is not None,
        "vendor": match.vendor,
        "category": entry.category.value if entry else Category.UNKNOWN.value,
        "severity": entry.severity.value if entry else None,
        "owner": entry.owner.value if entry else None,
        "meaning": entry.meaning if entry else None,
        "action": entry.action if entry else None,
        "escalation": entry.escalation if entry else None,
        "confidence": match.confidence,
        "method": match.method,
        "evidence": list(match.evidence),
        "ambiguous": list(match.ambiguous),
        "entry": _entry_json(entry),
        "parts": [_entry_json(p) for p in match.parts],
        "hint": match.hint,
        "borrowed_from": match.borrowed_from,
    }


@click.command()
@click.argument("code", required=False)
@click.option("--vendor", help="Vendor as the charger sends it (BootNotification or vendorId).")
@click.option("--model", help="Charger model (chargePointModel).")
@click.option("--firmware", help="Firmware version string.")
@click.option("--info", help="The info / techInfo text that came with the code.")
@click.option("--error-code", help="OCPP 1.6 errorCode, or Component/Variable for 2.x.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-db", is_flag=True, help="Ignore operator-taught entries (no database).")
@database_option
def lookup(
    code: str | None,
    vendor: str | None,
    model: str | None,
    firmware: str | None,
    info: str | None,
    error_code: str | None,
    as_json: bool,
    no_db: bool,
    database_url: str | None,
) -> None:
    """What a fault code means, who acts, what to do, and how sure the answer is."""
    from bot.kb.matcher import Matcher
    from bot.kb.runtime import RuntimeEntries
    from bot.kb.types import MatchQuery

    if not (code or info or error_code):
        fail("give a CODE, --info TEXT or --error-code E to look up")
    kb = _knowledge()
    runtime = None if no_db else RuntimeEntries(open_store(_settings(database_url)), kb)
    query = MatchQuery(vendor, model, firmware, code, info, error_code)
    match = Matcher(kb, runtime).match(query)
    if as_json:
        click.echo(json.dumps(lookup_json(query, match), ensure_ascii=False))
    else:
        click.echo(render("kb_lookup.j2", q=query, m=match, e=match.entry))
    sys.exit(EXIT_OK if match.entry is not None else EXIT_SOME_REJECTED)


@click.group("kb")
def kb_group() -> None:
    """The knowledge base: check it, count it, and grow it from the field."""


@kb_group.command("lint")
@click.option("--root", type=click.Path(file_okay=False), help="Knowledge directory to check.")
def kb_lint(root: str | None) -> None:
    """Check every knowledge file; print each problem as file:line: problem."""
    from bot.actions.first_aid import lint_policy
    from bot.kb.lint import lint_knowledge
    from bot.kb.loader import default_root

    where = Path(root) if root else default_root()
    problems = sorted({*lint_knowledge(where), *lint_policy(where / "first_aid.yaml")})
    click.echo(render("kb_lint.j2", problems=problems, root=str(where)))
    sys.exit(EXIT_SOME_REJECTED if problems else EXIT_OK)


@kb_group.command("stats")
@click.option("--root", type=click.Path(file_okay=False), help="Knowledge directory to count.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def kb_stats(root: str | None, as_json: bool) -> None:
    """Vendors, entries per vendor, categories covered, phrasings."""
    kb = _knowledge(root)
    per_vendor = Counter(e.vendor for e in kb.entries if e.vendor)
    standards = sum(1 for e in kb.entries if e.vendor is None)
    categories = Counter(e.category.value for e in kb.entries)
    categories.update(b.category.value for b in kb.phrasings)
    missing = [c.value for c in Category if c is not Category.UNKNOWN and c.value not in categories]
    if as_json:
        from bot.cli.json_out import dumps, kb_stats_json

        click.echo(dumps(kb_stats_json(kb, per_vendor, categories, missing)))
        return
    click.echo(
        render(
            "kb_stats.j2",
            vendors=sorted(kb.vendors.values(), key=lambda v: v.name.casefold()),
            per_vendor=per_vendor,
            standards=standards,
            entries=len(kb.entries),
            categories=sorted(categories.items()),
            missing=missing,
            blocks=len(kb.phrasings),
            phrases=sum(len(b.phrases) for b in kb.phrasings),
            quirks=len(kb.quirks),
            with_codes=sum(1 for v in kb.vendors if per_vendor[v]),
            without_codes=sorted((v for v in kb.vendors if not per_vendor[v]), key=str.casefold),
            lexicon=kb.lexicon,
        )
    )


@kb_group.command("unknown")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per code.")
@database_option
def kb_unknown(limit: int, as_json: bool, database_url: str | None) -> None:
    """Codes seen in the field that the knowledge base does not explain, most frequent first."""
    from bot.kb.runtime import RuntimeEntries

    engine = open_store(_settings(database_url))
    rows = RuntimeEntries(engine, _knowledge()).unknown(limit)
    if as_json:
        for u in rows:
            obj = {
                "vendor": u.vendor or None,
                "model": u.model or None,
                "firmware": u.firmware or None,
                "code": u.code,
                "info": u.info,
                "count": u.count,
                "chargers": u.chargers,
                "first_seen": u.first_seen.isoformat(),
                "last_seen": u.last_seen.isoformat(),
            }
            click.echo(json.dumps(obj, ensure_ascii=False))
        return
    click.echo(render("kb_unknown.j2", rows=rows))


@kb_group.command("outcomes")
@click.option("--days", default=90, show_default=True, type=click.IntRange(0, 3650),
              help="Only actions from the last N days (0: all).")
@click.option("--model", help="Only this charger model.")
@click.option("--category", type=click.Choice([c.value for c in Category]),
              help="Only this category.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per row.")
@database_option
def kb_outcomes(days: int, model: str | None, category: str | None, as_json: bool,
                database_url: str | None) -> None:
    """How often each remote action fixed each fault, per charger model and category."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from bot.actions.stats import rates

    engine = open_store(_settings(database_url))
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    with Session(engine) as s:
        rows = rates(s, since=since, model=model, category=category)
    if as_json:
        for r in rows:
            click.echo(json.dumps({"model": r.model or None, "category": r.category,
                                   "action": r.kind, "fixed": r.fixed, "total": r.total}))
        return
    # The whole tree: the sentence is the digest's (digest/_words.j2).
    template = terminal_env().get_template("cli/kb_outcomes.j2")
    click.echo(template.render(rates=rows, days=days).rstrip("\n"))


@kb_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@database_option
def kb_export(file: str, database_url: str | None) -> None:
    """Write operator-taught entries to FILE in the knowledge format, for review."""
    from bot.kb.export import export_runtime

    engine = open_store(_settings(database_url))
    try:
        count = export_runtime(engine, Path(file), _knowledge(), render("kb_export_header.j2"))
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    click.echo(render("kb_export.j2", count=count, file=file))


def _choices(enum: type[Any], exclude: str | None = None) -> click.Choice:
    return click.Choice([e.value for e in enum if e.value != exclude])


@kb_group.command("teach")
@click.option("--vendor", required=True, help="Vendor the code belongs to.")
@click.option("--code", required=True, help="The code as the charger sends it.")
@click.option("--category", required=True, type=_choices(Category, exclude="unknown"))
@click.option("--owner", required=True, type=_choices(Owner), help="Who acts first.")
@click.option("--severity", required=True, type=_choices(Severity))
@click.option("--meaning", required=True, help="What the code means, in plain English.")
@click.option("--action", required=True, help="What to do first.")
@click.option("--escalation", help="What to do if that does not help.")
@click.option("--model", help="Only for models matching this pattern (e.g. 'NG910-*').")
@click.option("--note", help="Where this came from (ticket, manual page...).")
@click.option("--by", "taught_by", required=True, help="Who is teaching (name or Slack id).")
@database_option
def kb_teach(
    vendor: str,
    code: str,
    category: str,
    owner: str,
    severity: str,
    meaning: str,
    action: str,
    escalation: str | None,
    model: str | None,
    note: str | None,
    taught_by: str,
    database_url: str | None,
) -> None:
    """Teach the bot a code it did not know (the CLI twin of teaching from Slack)."""
    from bot.kb.runtime import RuntimeEntries, TeachError

    runtime = RuntimeEntries(open_store(_settings(database_url)), _knowledge())
    try:
        entry = runtime.teach(
            vendor, code, category, owner, severity, meaning, action, taught_by,
            model=model, escalation=escalation, note=note,
        )  # fmt: skip
    except TeachError as exc:
        fail(str(exc))
    click.echo(render("kb_teach.j2", e=entry))


@click.command("match")
@click.option("--queries", default=20_000, show_default=True, type=click.IntRange(100, 1_000_000))
@click.option("--entries", default=20_000, show_default=True, type=click.IntRange(100, 500_000))
@click.option("--seed", default=7, show_default=True, type=int)
def bench_match(queries: int, entries: int, seed: int) -> None:
    """KB lookups/s, p50/p99 and accuracy (real and synthetic base) next to dict + rapidfuzz."""
    from bot.bench.match import run

    run(queries=queries, entries=entries, seed=seed, echo=click.echo)


@click.command("generalize")
@click.option("--source", help="Only this vendor or scheme (its canonical name).")
@click.option("--show-wrong", default=50, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--check", is_flag=True, help="Exit 1 when the acceptance figures are not met.")
def bench_generalize(source: str | None, show_wrong: int, check: bool) -> None:
    """Leave one source out: right / unknown / wrong on codes faultbot has never seen."""
    from bot.bench.generalize import run

    ok = run(only=source, show_wrong=show_wrong, echo=click.echo)
    if check and not ok:
        sys.exit(1)


bench.add_command(bench_match)
bench.add_command(bench_generalize)

commands: list[click.Command] = [lookup, kb_group]
