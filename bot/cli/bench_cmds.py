"""`faultbot bench ...`: each stage's benchmark registers itself on this group."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks that print throughput next to a floor measured in the same run."""


commands: list[click.Command] = [bench]


def _register_ask() -> None:
    from bot.bench.ask import ask_bench
    from bot.bench.cli import cli_bench

    bench.add_command(ask_bench)
    bench.add_command(cli_bench)


_register_ask()
