"""`faultbot doctor` against the strict stand-in: a good set-up, a missing scope, a
channel the bot is not in, a refused token; and the start-up log of its Slack part."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from slack_sdk import WebClient

from bot.cli.main import cli
from bot.config import Settings
from bot.slack.doctor import REQUIRED_SCOPES, startup_check
from bot.slack.stub import SlackStub


def _doctor(db_url: str, stub: SlackStub) -> tuple[int, str]:
    env = {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": stub.base_url,
        "FAULTBOT_DIGEST_CHANNEL": "CDIGEST",
        "FAULTBOT_ALERT_CHANNEL": "CALERTS",
        "FAULTBOT_TIMEZONE": "Europe/Berlin",
    }
    out = CliRunner().invoke(cli, ["doctor"], env=env)
    return out.exit_code, out.output


def test_good_set_up_is_all_well(db_url: str, stub: SlackStub) -> None:
    code, out = _doctor(db_url, stub)
    assert code == 0, out
    assert "[FIX" not in out and out.rstrip().endswith("All is well.")
    for said in (
        "Slack accepts the bot token",
        "Every scope faultbot needs is granted",
        "FAULTBOT_ALERT_CHANNEL=CALERTS: the bot is in the channel",
        "database answers",
        "knowledge base loads",
    ):
        assert said in out, out
    assert "xoxb-test" not in out  # which token, never the token


def test_missing_scope_names_it_and_fails(db_url: str, stub: SlackStub) -> None:
    stub.grant("xoxb-test", *(REQUIRED_SCOPES - {"channels:history"}))
    code, out = _doctor(db_url, stub)
    assert code == 1
    assert "lacks scope channels:history" in out and "reinstall the app" in out
    assert "1 thing to fix." in out


def test_channel_the_bot_is_not_in(db_url: str, stub: SlackStub) -> None:
    stub.add_channel("CALERTS", private=True, member=False)  # invisible to the bot
    stub.add_channel("CDIGEST", member=False)  # public: can post, cannot read back
    code, out = _doctor(db_url, stub)
    assert code == 1
    assert "[FIX ] FAULTBOT_ALERT_CHANNEL=CALERTS: Slack says channel_not_found" in out
    assert "invite the bot first" in out
    assert "[warn] FAULTBOT_DIGEST_CHANNEL=CDIGEST: the bot can post (chat:write.public)" in out


def test_bad_token(db_url: str, stub: SlackStub) -> None:
    stub.bad_tokens.add("xoxb-test")
    code, out = _doctor(db_url, stub)
    assert code == 1
    assert "Slack refuses the bot token xoxb-…: invalid_auth" in out
    assert "Every scope" not in out  # nothing else is checked with a refused token


def test_start_up_logs_the_slack_check(
    settings: Settings, stub: SlackStub, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.slack.doctor"):
        assert startup_check(settings, client)
    assert "slack check: [ok  ] Slack accepts the bot token" in caplog.text
    caplog.clear()
    stub.add_channel("CALERTS", private=True, member=False)
    with caplog.at_level(logging.INFO, logger="bot.slack.doctor"):
        assert not startup_check(settings, client)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "CALERTS" in errors[0].getMessage()
