"""The `faultbot` command. Each stage contributes its commands from its own module.

Commands load lazily: `faultbot why` imports only the module that defines `why`, so
`--version`, `why` or `status` never pay for aiohttp, the Slack SDK or the feeds.
`faultbot --help` lists every command from the table below without importing any.
"""

from __future__ import annotations

import importlib

import click

# One line per top-level command: name -> (module exposing `commands`, its short help,
# i.e. the first paragraph of the command's docstring). To add a command, add its line;
# tests/cli/test_cli_lazy.py checks each line against the module's own command.
COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("bot.cli.ingest_cmds", "Store and triage OCPP logs (JSON Lines, contract 1, or common log shapes)."),  # noqa: E501
    "log": ("bot.cli.ingest_cmds", "Show a charger's messages, one line each, oldest first."),
    "status": ("bot.cli.ingest_cmds", "Current state of each port: status, error and vendor code, since when, last seen."),  # noqa: E501
    "lookup": ("bot.cli.kb_cmds", "What a fault code means, who acts, what to do, and how sure the answer is."),  # noqa: E501
    "kb": ("bot.cli.kb_cmds", "The knowledge base: check it, count it, and grow it from the field."),  # noqa: E501
    "explain": ("bot.cli.triage_cmds", "Why each fault in FILE happened, who should act and what they should do."),  # noqa: E501
    "why": ("bot.cli.answer_cmds", "Why is CHARGER (or one port) down, what to do, who does it. Forgiving: cp12 finds CP-012."),  # noqa: E501
    "site": ("bot.cli.answer_cmds", "Ports down at a site, site-level causes and who must act."),
    "digest": ("bot.cli.answer_cmds", "The daily digest: what is down, who must act, uptime, ignored phantoms."),  # noqa: E501
    "demo": ("bot.cli.answer_cmds", "Show the whole product on the bundled sample feed: no setup, no credentials."),  # noqa: E501
    "ask": ("bot.cli.ask_cmds", 'Ask faultbot a question the way you would in Slack, e.g. "is depot north ok?" or "what happened to CP-030 last night?". Exit status 1 when it was not understood.'),  # noqa: E501
    "sample": ("bot.cli.sample_cmds", "Write a realistic three-day OCPP feed of a mixed 36-charger network."),  # noqa: E501
    "run": ("bot.cli.runtime_cmds", "Run everything configured: feeds, triage, Slack (Socket Mode when SLACK_APP_TOKEN is set, HTTP otherwise), alert threads and the daily digest. Stops cleanly on SIGTERM."),  # noqa: E501
    "serve": ("bot.cli.runtime_cmds", "Like `run`, with Slack in HTTP mode (POST /slack/events, signature-verified) next to the feed webhook and GET /health on FAULTBOT_HTTP_PORT."),  # noqa: E501
    "bench": ("bot.cli.bench_cmds", "Benchmarks that print throughput next to a floor measured in the same run."),  # noqa: E501
    "feed": ("bot.cli.feed_cmds", "Run one live feed (webhook, OCPP-J tap, RabbitMQ, SteVe) into the store."),  # noqa: E501
    "slack": ("bot.cli.slack_cmds", "Slack side: post the digest now, flush the outbox."),
    "demo-slack": ("bot.cli.slack_cmds", "The Slack side end to end against a local Slack stand-in (no credentials)."),  # noqa: E501
    "db": ("bot.cli.db_cmds", "The database: retention and schema upgrades."),
    "doctor": ("bot.cli.doctor_cmds", "Check the set-up (Slack token, scopes and channels, database, feeds, knowledge base) and print what to fix. Exit status 0 only when all is well."),  # noqa: E501
    "findings": ("bot.cli.findings_cmds", "Firmware and model regressions: fault rates per port-day, before vs after a firmware change, and each model against the others at its site; and the last week's connection health (boot loops, reconnect storms, clocks far off)."),  # noqa: E501
    "report": ("bot.cli.report_cmds", "The weekly fleet report: uptime trend per site, top causes and who had to act, chronic ports, site visits avoided, regressions, connection health, unknown codes."),  # noqa: E501
}
# Groups whose subcommands other modules attach (every stage registers its own
# `bench ...`): resolving one of these imports every command module first.
GATHERING = frozenset({"bench"})


def load_command(name: str) -> click.Command | None:
    """Import the module behind `name` (all of them for a gathering group)."""
    if name not in COMMANDS:
        return None
    modules = {m for m, _ in COMMANDS.values()} if name in GATHERING else {COMMANDS[name][0]}
    found = None
    for module in sorted(modules):
        for command in importlib.import_module(module).commands:
            if command.name == name:
                found = command
    return found


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            command = load_command(cmd_name)
            if command is None:
                return None
            self.add_command(command, cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's own layout, fed from the table so that --help imports nothing.
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                text = click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)
            else:
                text = self.commands[name].get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faultbot")
def cli() -> None:
    """faultbot: explains why EV chargers are faulted, and who should fix them."""


if __name__ == "__main__":
    cli()
