"""`faultbot explain`: replay an OCPP log through the triage rules, no database needed."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click

from bot.cli.common import EXIT_OK, EXIT_SOME_REJECTED, fail
from bot.cli.faults import tally
from bot.cli.render import render
from bot.ocpp.events import LineError, Message
from bot.ocpp.parse import RELABELLED
from bot.ocpp.reasons import counts
from bot.text import CONTROL, clean


def _json_line(obj: dict[str, object]) -> str:
    """One contract-2 line. Charger text may hold C1 controls (U+009B is a terminal
    CSI), bidi overrides and the like; json leaves them raw, so they are written as
    JSON escapes here: the same value for a JSON reader, inert on a terminal."""
    text = json.dumps(obj, ensure_ascii=False)
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    # Schema violations are neither shown nor stored here, and triage never reads them:
    # not checking them is most of a metered frame's parse (the relabelling violations
    # shown below come from the version check, which still runs).
    parser = Parser(validate=False)
    fault_fps: set[str] = set()
    relabelled: list[tuple[Message, str]] = []
    repeats = 0
    dropped: Counter[str] = Counter()  # frames kept without a fact, per DropReason

    def messages() -> Iterator[Message]:
        nonlocal repeats
        parse = parser.parse  # once per frame: bound once
        for item in read_file(file, charger=charger):
            result = item if isinstance(item, LineError) else parse(item)
            if isinstance(result, LineError):
                rejected.append(result)
                continue
            if result.no_fact is not None:
                dropped[result.no_fact] += 1
            if result.fact is not None and result.is_fault_bearing and (
                    charger is None or result.charger == charger):
                if result.fingerprint in fault_fps:
                    repeats += 1
                fault_fps.add(result.fingerprint)
                # a fault report read by its shape, not its label: say so next to it
                relabelled.extend((result, v) for v in result.violations if v.startswith(
                    RELABELLED))
            yield result

    result = replay(messages(), engine, charger=charger)
    say = default_phrasebook()
    for d in result.diagnoses:
        obj = d.to_json()
        click.echo(_json_line(obj) if as_json else clean(say.listing(obj), 100_000))
    faults = tally(
        fault_fps, result.diagnoses, rejected=sum(1 for e in rejected if e.fault), repeats=repeats
    )
    click.echo(render("explain_tally.j2", f=faults, shown=rejected, warnings=relabelled,
                      rejected_reasons=counts(Counter(e.kind for e in rejected)),
                      dropped=counts(dropped)),
               err=True)
    if result.inferred:
        click.echo(f"(OCPP version inferred for {result.inferred} frames)", err=True)
    if result.duplicates:
        click.echo(f"({result.duplicates} duplicate frames skipped)", err=True)
    sys.exit(EXIT_SOME_REJECTED if rejected else EXIT_OK)


commands: list[click.Command] = [explain]
