"""`faultbot bench ...`: each stage's benchmark registers itself on this group."""

from __future__ import annotations

import click


class BenchGroup(click.Group):
    """The `bench` group. The benchmarks this module owns are attached on first use
    of the group, not on import: `status` imports this module (to attach
    `bench ingest`) and must not load bot.bench."""

    gathered = False

    def _gather(self) -> None:
        if not self.gathered:
            self.gathered = True
            from bot.bench.ask import ask_bench
            from bot.bench.cli import cli_bench
            from bot.bench.peer import explain_bench
            from bot.bench.rules import main as rules_bench
            from bot.bench.scale import scale_bench
            from bot.bench.triage import triage_bench

            for command in (ask_bench, cli_bench, explain_bench, rules_bench, scale_bench,
                            triage_bench):
                self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._gather()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._gather()
        return super().get_command(ctx, cmd_name)


@click.group(cls=BenchGroup)
def bench() -> None:
    """Benchmarks that print throughput next to a floor measured in the same run."""


commands: list[click.Command] = [bench]
