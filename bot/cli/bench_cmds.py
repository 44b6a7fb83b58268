"""`faultbot bench ...`: each stage's benchmark registers itself on this group."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks that print throughput next to a floor measured in the same run."""


commands: list[click.Command] = [bench]
