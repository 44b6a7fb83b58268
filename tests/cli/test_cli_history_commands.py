"""`faultbot report --week`, `faultbot findings` and `faultbot slack report-now` share
their set-up (bot.cli.common: sites_or_exit, as_of): a bad sites file or a bad --now is
a clear exit 2 before any work, the same words on every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli

COMMANDS = [["report", "--week"], ["findings"], ["slack", "report-now", "--channel", "C1"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_bad_sites_file_is_named(argv: list[str], tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites: [unclosed\n")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}", "FAULTBOT_SITES": str(sites),
           "SLACK_BOT_TOKEN": "xoxb-test"}
    out = CliRunner().invoke(cli, argv, env=env)
    assert out.exit_code == 2, out.output
    assert "faultbot: bad sites file: " in out.output


@pytest.mark.parametrize("argv", COMMANDS[:2], ids=lambda a: a[0])
def test_a_bad_now_is_named_and_a_good_one_is_used(argv: list[str], tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}", "FAULTBOT_SITES": None}
    runner = CliRunner()
    bad = runner.invoke(cli, [*argv, "--now", "yesterday"], env=env)
    assert bad.exit_code == 2 and "--now: expected an ISO 8601 time" in bad.output
    good = runner.invoke(cli, [*argv, "--now", "2026-11-21T07:30:00Z"], env=env)
    assert good.exit_code == 0, good.output
    assert "2026" in good.output
