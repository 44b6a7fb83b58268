"""Cost of triage next to parsing: `faultbot bench rules [--chargers N] [--hours H]`
(also `python -m bot.bench.rules`).

Generates a seeded fleet (bot.sample.fleet), parses it once (not timed against triage),
then times read+parse and TriageEngine.observe over the same messages and prints the
rates and their ratio (templates/cli/bench_rules.j2). The pipeline's bench (`faultbot
bench triage`) measures the whole ingest path; this one isolates the rule engine.
"""

from __future__ import annotations

import time

import click


@click.command("rules")
@click.option("--chargers", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--hours", default=6.0, show_default=True, type=click.FloatRange(0.1, 72))
def main(chargers: int, hours: float) -> None:
    """Triage rules alone next to read+parse, on a seeded fleet."""
    from bot.kb.loader import default_knowledge
    from bot.kb.matcher import Matcher
    from bot.ocpp.parse import Parser
    from bot.ocpp.readers import read_lines
    from bot.sample.fleet import generate_fleet_lines
    from bot.templating import terminal_env
    from bot.triage.engine import TriageEngine

    lines = [line.encode() for line in generate_fleet_lines(chargers, hours, seed=1)]
    t0 = time.perf_counter()
    messages, errors = Parser().parse_many(read_lines(lines, source="fleet"))
    parse_s = time.perf_counter() - t0
    kb = default_knowledge()
    engine = TriageEngine(kb, Matcher(kb))
    observe = engine.observe
    diagnoses = 0
    t1 = time.perf_counter()
    for m in messages:
        diagnoses += len(observe(m))
    observe_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    silent = engine.tick(messages[-1].ts) if messages else []
    tick_s = time.perf_counter() - t2
    faults = sum(1 for m in messages if m.is_fault_bearing)
    report = terminal_env("cli").get_template("bench_rules.j2")
    click.echo(report.render(chargers=chargers, hours=hours, frames=len(messages),
                             faults=faults, rejected=len(errors), parse_s=parse_s,
                             observe_s=observe_s, diagnoses=diagnoses, tick_s=tick_s,
                             silent=len(silent), fleet=len(engine.chargers())))


if __name__ == "__main__":
    main()
