"""The paging file: what it means (routing, matching), what it refuses (with a message
naming the entry), and `faultbot slack paging`, which checks it and prints the policy."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.slack.paging import PagingError, load_paging, parse_paging
from bot.slack.stub import SlackStub

GOOD = """
groups:
  oncall: {usergroup: S0ONCALL}
  vendor: {users: [U0VENDOR]}
pages:
  - {severity: [safety, outage], owner: vendor_service, mention: vendor}
  - severity: outage
    category: emergency_stop
    mention: oncall
    renotify: [{after: 90s, mention: oncall}, {after: 1h, mention: [oncall, vendor]}]
site_groups:
  north: [Depot North]
routes:
  - {owner: vendor_service, channel: C0VENDOR}
  - {site_group: north, channel: C0NORTH}
  - {site: Harbour, channel: G0HARBOUR}
"""


def test_first_matching_rule_and_route_win() -> None:
    p = parse_paging(yaml.safe_load(GOOD))
    vendor = p.rule_for("outage", "power_module", "vendor_service")
    assert vendor is not None and vendor.number == 1 and vendor.steps == ()
    estop = p.rule_for("outage", "emergency_stop", "site_staff")
    assert estop is not None and estop.number == 2
    assert [s.after for s in estop.steps] == [timedelta(seconds=90), timedelta(hours=1)]
    assert estop.steps[1].target.mention() == "<!subteam^S0ONCALL> <@U0VENDOR>"
    assert p.rule_for("degraded", "emergency_stop", "site_staff") is None
    assert p.channel_for("Depot North", "vendor_service", "CALERTS") == "C0VENDOR"
    assert p.channel_for("Depot North", "site_staff", "CALERTS") == "C0NORTH"
    assert p.channel_for("Harbour", "site_staff", "CALERTS") == "G0HARBOUR"
    assert p.channel_for("Elsewhere", "site_staff", "CALERTS") == "CALERTS"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pages: [{severity: outage, mention: nobody}]",
         "pages[1].mention: no group named 'nobody'"),
        ("pages: [{severity: critical, mention: g}]\ngroups: {g: {users: [U0A1]}}",
         "pages[1].severity: 'critical' is not one of"),
        ("groups: {g: {usergroup: '<!channel>'}}",
         "groups.g: '<!channel>' is not a Slack user group id"),
        ("groups: {g: {users: [here]}}", "groups.g: 'here' is not a Slack user id"),
        ("groups: {g: {users: [U0A1]}}\npages: [{mention: g, renotify: [{after: 5m, mention: g},"
         " {after: 5m, mention: g}]}]", "pages[1].renotify[2].after: steps must come later"),
        ("routes: [{channel: C0A1}]", "routes[1]: needs a site, site_group or owner"),
        ("routes: [{site_group: south, channel: C0A1}]", "no site group named 'south'"),
        ("routes: [{site: X, channel: '#ops'}]", "routes[1].channel: expected a channel id"),
        ("pager: {}", "unknown key 'pager'"),
        ("- just a list", "the file: expected a mapping"),
    ],
)
def test_a_bad_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "paging.yaml"
    path.write_text(text)
    with pytest.raises(PagingError) as err:
        load_paging(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)


def test_cli_prints_the_effective_policy_and_refuses_a_bad_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "paging.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text("pages: [{severity: outage, renotify: [{after: soon, mention: x}]}]")
    env = {"FAULTBOT_PAGING": str(good), "FAULTBOT_ALERT_CHANNEL": "CALERTS"}
    result = CliRunner().invoke(cli, ["slack", "paging"], env=env)
    assert result.exit_code == 0, result.output
    assert "not acknowledged after 90s: oncall (S0ONCALL) in the thread" in result.output
    assert "not acknowledged after 1h: oncall+vendor (S0ONCALL, U0VENDOR)" in result.output
    assert "site group north (Depot North) -> C0NORTH" in result.output
    assert "default channel: CALERTS" in result.output
    refused = CliRunner().invoke(cli, ["slack", "paging", "--file", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "pages[1].renotify[1].after: expected a duration like 90s, 5m or 1h" in refused.output


def test_faultbot_run_stops_on_a_bad_paging_file(tmp_path: Path, stub: SlackStub) -> None:
    bad = tmp_path / "paging.yaml"
    bad.write_text("routes: [{site: Depot North, channel: '#ops'}]")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"], cwd=tmp_path, timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FAULTBOT_"))},
             "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}",
             "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
             "SLACK_API_URL": stub.base_url, "FAULTBOT_HTTP_HOST": "127.0.0.1",
             "FAULTBOT_HTTP_PORT": "3999",  # never bound: it stops first
             "FAULTBOT_PAGING": str(bad), "LOG_LEVEL": "ERROR"},
        capture_output=True, text=True)
    assert done.returncode == 2, done
    ours = [line for line in done.stderr.splitlines() if line.startswith("faultbot:")]
    assert ours == [f"faultbot: bad setting FAULTBOT_PAGING: {bad}: routes[1].channel: "
                    "expected a channel id like C0123ABCD"], done.stderr


def test_doctor_checks_the_channels_alerts_are_routed_to(
    db_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    paging = tmp_path / "paging.yaml"
    paging.write_text(GOOD)
    stub.add_channel("C0NORTH", private=True, member=False)
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_API_URL": stub.base_url, "FAULTBOT_ALERT_CHANNEL": "CALERTS",
           "FAULTBOT_PAGING": str(paging)}
    out = CliRunner().invoke(cli, ["doctor"], env=env)
    assert out.exit_code == 1, out.output
    assert "FAULTBOT_PAGING routes[1]=C0VENDOR: the bot is in the channel" in out.output
    assert "[FIX ] FAULTBOT_PAGING routes[2]=C0NORTH: Slack says channel_not_found" in out.output
