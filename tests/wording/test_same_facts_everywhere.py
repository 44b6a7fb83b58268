"""Issue 9: `faultbot demo`, `faultbot ingest` + `faultbot digest` and `faultbot demo-slack`
state the same incident count, ports down and uptime for 2026-11-20 (the Slack path used
to say "0 of 41 down, 98.9 %" and resolve on the wall clock: "Resolved after 11 d")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli

ENV = {"DATABASE_URL": None, "FAULTBOT_SITES": None}


def _one(pattern: str, text: str) -> tuple[str, ...]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in output:\n{text[-3000:]}"
    return found.groups()


def test_demo_ingest_digest_and_demo_slack_state_the_same_facts(tmp_path: Path) -> None:
    runner = CliRunner(env=ENV)
    demo = runner.invoke(cli, ["demo"])
    assert demo.exit_code == 0, demo.output
    (demo_opened,) = _one(r"(\d+) incidents opened, \d+ resolved", demo.output)
    demo_down, demo_total = _one(r"(\d+) of (\d+) ports are down right now", demo.output)
    (demo_uptime,) = _one(r"Uptime on the day: ([\d.]+) %", demo.output)

    out = tmp_path / "fb"
    assert runner.invoke(cli, ["sample", "--out", str(out)]).exit_code == 0
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner(env={**ENV, "FAULTBOT_SITES": str(out / "sites.yaml")})  # as the demos
    ingest = runner.invoke(cli, ["ingest", str(out / "sample.jsonl"), "--database-url", db])
    assert ingest.exit_code in (0, 1), ingest.output  # 1: the sample's unreadable lines
    (ingest_opened,) = _one(r"(\d+) incidents opened", ingest.output)
    digest = runner.invoke(cli, ["digest", "--date", "2026-11-20", "--format", "json",
                                 "--database-url", db])
    assert digest.exit_code == 0, digest.output
    headline = json.loads(digest.output)["headline"]

    slack = CliRunner(env=ENV).invoke(cli, ["demo-slack", "--workdir", str(tmp_path / "slack")])
    assert slack.exit_code == 0, slack.output
    (slack_opened,) = _one(r"(\d+) incidents opened", slack.output)
    slack_down, slack_uptime = _one(
        r"faultbot digest for 2026-11-20: (\d+) ports? down, uptime ([\d.]+)%", slack.output)

    assert demo_opened == ingest_opened == slack_opened == "61"
    assert int(demo_down) == headline["ports_down_now"] == int(slack_down) == 2
    assert int(demo_total) == headline["ports_total"]
    assert float(demo_uptime) == round(headline["uptime_pct"], 2)
    assert float(slack_uptime) == round(headline["uptime_pct"], 1)
    # the demo's alert thread is resolved on the sample's clock, minutes after it opened
    (resolved_after,) = _one(r"Resolved after ([^.]+) by <@U0ONCALL>", slack.output)
    assert resolved_after in {"1 min", "2 min", "3 min", "4 min", "5 min"}, resolved_after
