"""Settings never print a secret: not in repr, str, f-strings or a logged traceback."""

from __future__ import annotations

import logging

import pytest

from bot.config import load_settings

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-bot-secret-123",
    "SLACK_APP_TOKEN": "xapp-app-secret-456",
    "SLACK_SIGNING_SECRET": "signing-secret-789",
    "FAULTBOT_WEBHOOK_SECRET": "webhook-secret-abc",
}
PASSWORDS = {
    "DATABASE_URL": ("postgresql+psycopg://faultbot:db-pass-1@db.example:5432/fb", "db-pass-1"),
    "FAULTBOT_AMQP_URL": ("amqps://feed:amqp-pass-2@mq.example/vhost", "amqp-pass-2"),
    "FAULTBOT_UPSTREAM_CSMS": ("wss://tap:csms-pass-3@csms.example/ocpp", "csms-pass-3"),
}


def test_printed_settings_hide_every_secret(caplog: pytest.LogCaptureFixture) -> None:
    env = {**SECRETS, **{k: url for k, (url, _) in PASSWORDS.items()}}
    settings = load_settings(env, dotenv=False)
    logging.getLogger("test").error("settings: %s", settings)
    printed = [repr(settings), str(settings), f"{settings}", caplog.text]
    hidden = [*SECRETS.values(), *(pw for _, pw in PASSWORDS.values())]
    for text in printed:
        for value in hidden:
            assert value not in text, value
    # ... while what an operator needs to see is still there.
    assert "db.example:5432" in printed[0] and "faultbot:***@" in printed[0]
    assert "slack_bot_token='***'" in printed[0] and "slack_signing_secret='***'" in printed[0]
    assert settings.slack_bot_token == SECRETS["SLACK_BOT_TOKEN"]  # the value itself is intact


def test_unset_secrets_print_as_none() -> None:
    text = repr(load_settings({}, dotenv=False))
    assert "slack_bot_token=None" in text and "webhook_secret=None" in text
    assert "database_url='sqlite:///faultbot.db'" in text


def test_printed_feed_options_hide_the_path_token_and_steve_password() -> None:
    from bot.feeds.options import load_feed_options

    token = "path-token-0123456789abcdef"
    options = load_feed_options({"FAULTBOT_WEBHOOK_PATH_TOKEN": token,
                            "FAULTBOT_STEVE_DB_URL": "mysql+pymysql://steve:steve-pw-4@db/stevedb"})
    assert options.webhook_path_token == token  # kept for use, only hidden from print
    for text in (repr(options), str(options), f"{options}"):
        assert token not in text and "steve-pw-4" not in text
