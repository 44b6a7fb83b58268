"""Cost of triage next to parsing: `python -m bot.bench.rules [--chargers N] [--hours H]`.

Generates a seeded fleet (bot.sample.fleet), parses it once (not timed against triage),
then times read+parse and TriageEngine.observe over the same messages and prints the
rates and their ratio. The pipeline's bench (`faultbot bench triage`) measures the whole
ingest path; this one isolates the rule engine.
"""

from __future__ import annotations

import time

import click


@click.command()
@click.option("--chargers", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--hours", default=6.0, show_default=True, type=click.FloatRange(0.1, 72))
def main(chargers: int, hours: float) -> None:
    from bot.kb.loader import default_knowledge
    from bot.kb.matcher import Matcher
    from bot.ocpp.parse import Parser
    from bot.ocpp.readers import read_lines
    from bot.sample.fleet import generate_fleet_lines
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
    click.echo(f"fleet: {chargers} chargers x {hours:g} h = {len(messages):,} frames "
               f"({faults:,} fault-bearing, {len(errors)} rejected)")
    click.echo(f"read+parse : {len(messages) / parse_s:>12,.0f} frames/s")
    click.echo(f"triage     : {len(messages) / observe_s:>12,.0f} frames/s "
               f"({diagnoses:,} diagnoses)")
    click.echo(f"ratio      : triage adds {observe_s / parse_s:.2f}x the read+parse time")
    click.echo(f"tick       : {tick_s * 1000:.1f} ms over {len(engine.chargers()):,} chargers "
               f"({len(silent)} silent)")


if __name__ == "__main__":
    main()
