"""`faultbot demo-slack` (documented in the README) runs end to end with no credentials."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli


def test_demo_slack_shows_the_whole_flow(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo-slack", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "-> HTTP 200" in out  # the signed command and mention went through bolt
    assert "incident_ack button -> HTTP 200" in out
    assert "incident_resolve button -> HTTP 200" in out
    # The clicks were allowed (the on-call person is an operator), not just answered 200.
    assert "Acknowledged by <@U0ONCALL>" in out and "by <@U0ONCALL>." in out
    assert "not allowed" not in out
    assert "What the Slack stand-in received" in out
    assert "chat.postMessage  channel=CDIGEST" in out
    assert "outbox rows failed" not in out
    assert "<!channel>" not in out.split("What the Slack stand-in received")[1]
