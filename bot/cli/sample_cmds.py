"""`faultbot sample`: write the bundled sample feed and its sites file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import fail


@click.command("sample")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to write sample.jsonl and sites.yaml into (created if missing).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
def sample(out: Path, seed: int) -> None:
    """Write a realistic three-day OCPP feed of a mixed 36-charger network.

    The scenarios it contains are listed in bot/sample/generate.py. Try:
    faultbot sample --out /tmp/s && faultbot explain /tmp/s/sample.jsonl
    """
    from bot.sample.generate import write_sample

    try:
        paths = write_sample(out, seed=seed)
    except OSError as exc:
        fail(f"cannot write the sample into {out}: {exc.strerror or exc}")
    click.echo(str(paths.feed))
    click.echo(str(paths.sites))


commands: list[click.Command] = [sample]
