"""Contract 3: every setting is validated, and a bad one names the variable."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, SettingsError, load_settings
from bot.vocab import Severity


def test_defaults_need_nothing() -> None:
    s = load_settings({})
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.digest_time == time(7, 30)
    assert str(s.timezone) == "UTC"
    assert not s.slack_enabled and not s.socket_mode
    assert s.alert_min_severity is Severity.OUTAGE


def test_full_configuration(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites: {}\n")
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
            "SLACK_BOT_TOKEN": "xoxb-1-2",
            "SLACK_APP_TOKEN": "xapp-1-2",
            "SLACK_API_URL": "http://127.0.0.1:9999/api/",
            "FAULTBOT_DIGEST_CHANNEL": "C0123ABCD",
            "FAULTBOT_DIGEST_TIME": "06:05",
            "FAULTBOT_TIMEZONE": "Europe/Berlin",
            "FAULTBOT_ALERT_CHANNEL": "#ops-alerts",
            "FAULTBOT_ADMINS": "U012AB, U034CD",
            "FAULTBOT_UPSTREAM_CSMS": "wss://csms.example/ocpp",
            "FAULTBOT_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
            "FAULTBOT_SITES": str(sites),
        }
    )
    assert s.slack_enabled and s.socket_mode
    assert s.digest_time == time(6, 5)
    assert s.admins == frozenset({"U012AB", "U034CD"})
    assert s.sites_file == sites


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "faultbot.db"),
        ("SLACK_BOT_TOKEN", "xapp-wrong-kind"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind"),
        ("SLACK_API_URL", "ftp://example"),
        ("FAULTBOT_DIGEST_TIME", "25:00"),
        ("FAULTBOT_DIGEST_TIME", "7.30"),
        ("FAULTBOT_TIMEZONE", "Mars/Olympus"),
        ("FAULTBOT_DIGEST_CHANNEL", "<!channel>"),
        ("FAULTBOT_ADMINS", "alice"),
        ("FAULTBOT_UPSTREAM_CSMS", "http://csms"),
        ("FAULTBOT_AMQP_URL", "redis://x"),
        ("FAULTBOT_SITES", "/no/such/sites.yaml"),
        ("FAULTBOT_HTTP_PORT", "http"),
        ("FAULTBOT_ALERT_MIN_SEVERITY", "loud"),
        ("FAULTBOT_SLASH_COMMAND", "faultbot"),
        ("FAULTBOT_SITE_PREFIX", "^(CP-"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({variable: value})
    assert err.value.variable == variable
    assert variable in str(err.value)


@pytest.mark.parametrize("value", ["01:00", "02:30", "02:59"])
def test_digest_time_in_the_dst_window_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"FAULTBOT_DIGEST_TIME": value})
    assert err.value.variable == "FAULTBOT_DIGEST_TIME"
    assert "daylight-saving" in err.value.problem


def test_digest_time_just_outside_the_dst_window_is_fine() -> None:
    assert load_settings({"FAULTBOT_DIGEST_TIME": "03:00"}).digest_time == time(3, 0)
    assert load_settings({"FAULTBOT_DIGEST_TIME": "00:59"}).digest_time == time(0, 59)
