"""The `faultbot` command. Each stage contributes its commands from its own module."""

from __future__ import annotations

import importlib

import click

# One module per stage; each exposes `commands: list[click.Command]`.
COMMAND_MODULES = (
    "bot.cli.ingest_cmds",  # ingest, log, status
    "bot.cli.kb_cmds",  # lookup, kb lint/stats/unknown/export
    "bot.cli.triage_cmds",  # explain
    "bot.cli.answer_cmds",  # why, site, digest, demo
    "bot.cli.ask_cmds",  # ask (a question, answered as the bot does in Slack)
    "bot.cli.sample_cmds",  # sample (write the bundled sample feed)
    "bot.cli.runtime_cmds",  # run, serve
    "bot.cli.bench_cmds",  # bench ingest/match/triage/feeds
    "bot.cli.feed_cmds",  # feed webhook/tap/broker/steve (+ registers bench feeds)
    "bot.cli.slack_cmds",  # slack digest-now/deliver, demo-slack
    "bot.cli.db_cmds",  # db prune
    "bot.cli.doctor_cmds",  # doctor (set-up checks: Slack, database, feeds, knowledge)
    "bot.cli.findings_cmds",  # findings (firmware and model regressions)
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faultbot")
def cli() -> None:
    """faultbot: explains why EV chargers are faulted, and who should fix them."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        cli.add_command(_command)


if __name__ == "__main__":
    cli()
