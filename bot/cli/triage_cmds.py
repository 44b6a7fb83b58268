"""`faultbot explain`: replay an OCPP log through the triage rules, no database needed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from bot.cli.common import EXIT_OK, EXIT_SOME_REJECTED, fail
from bot.ocpp.events import LineError, Message


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="One contract-2 JSON object per line.")
@click.option("--charger", help="Only this charger's diagnoses (also the id for bare frames).")
@click.option("--sites", "sites_file", envvar="FAULTBOT_SITES",
              type=click.Path(dir_okay=False), help="Sites file (YAML or CSV) for site rules.")
def explain(file: str, as_json: bool, charger: str | None, sites_file: str | None) -> None:
    """Why each fault in FILE happened, who should act and what they should do."""
    from bot.kb.loader import KnowledgeError, default_knowledge
    from bot.kb.matcher import Matcher
    from bot.ocpp.parse import Parser
    from bot.ocpp.readers import read_file
    from bot.store.sites import SiteMap, SitesError
    from bot.triage.engine import TriageEngine
    from bot.triage.explain import replay
    from bot.triage.phrasing import default_phrasebook

    if file != "-" and not Path(file).is_file():
        fail(f"no such file: {file}")
    try:
        kb = default_knowledge()
    except KnowledgeError as exc:
        fail(f"the knowledge base has problems:\n{exc}")
    try:
        sites = SiteMap.load(Path(sites_file)) if sites_file else None
    except SitesError as exc:
        fail(str(exc))
    engine = TriageEngine(kb, Matcher(kb), sites)
    rejected: list[LineError] = []
    parser = Parser()

    def messages() -> Iterator[Message]:
        for item in read_file(file, charger=charger):
            result = item if isinstance(item, LineError) else parser.parse(item)
            if isinstance(result, LineError):
                rejected.append(result)
            else:
                yield result

    result = replay(messages(), engine, charger=charger)
    say = default_phrasebook()
    for d in result.diagnoses:
        obj = d.to_json()
        click.echo(json.dumps(obj, ensure_ascii=False) if as_json else say.listing(obj))
    for err in rejected:
        where = f"{err.source}:{err.line}" if err.line is not None else err.source
        click.echo(f"{where}: {err.reason}", err=True)
    if result.inferred:
        click.echo(f"(OCPP version inferred for {result.inferred} frames)", err=True)
    if result.duplicates:
        click.echo(f"({result.duplicates} duplicate frames skipped)", err=True)
    sys.exit(EXIT_SOME_REJECTED if rejected else EXIT_OK)


commands: list[click.Command] = [explain]
