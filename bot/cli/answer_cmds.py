"""CLI commands (filled in by its stage)."""

from __future__ import annotations

import click

commands: list[click.Command] = []
