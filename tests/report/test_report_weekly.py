"""The weekly fleet report on the sample feed plus a fleet with planted connection
trouble, on SQLite and PostgreSQL: one model, the terminal and Slack renderings show
the same sentences and the same figures, within Block Kit limits; `faultbot report
--week` prints it and writes the charts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sample_db import sample_db as load_sample_db
from sqlalchemy import Engine

from bot.cli.main import cli
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.report.build import build_report
from bot.report.model import (
    CauseRow,
    ChronicPort,
    OwnerRow,
    SiteTrend,
    Visits,
    WeeklyReport,
)
from bot.report.render import chart_pngs, render_report, report_text
from bot.sample.fleet_connection import ConnectionPlan, generate_connection_fleet
from bot.slack.render.budget import check
from bot.slack.render.report import report_message
from bot.store.db import make_sessionmaker

PLAN = ConnectionPlan()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fleet_db(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Any, datetime]]:
    """The sample feed, and 12 more chargers whose last day has a storm, a boot loop and
    a skewed clock."""
    for engine, sites, end in load_sample_db(request, tmp_path_factory.mktemp("report")):
        assert end is not None
        plan = ConnectionPlan()
        lines = generate_connection_fleet(12, 20.0, 3, start=end - timedelta(hours=21), plan=plan)
        PLAN.planted = plan.planted
        Pipeline(engine, sites=sites).process(read_lines(lines, source="conn"))
        yield engine, sites, end


@pytest.fixture(scope="module")
def report(fleet_db: tuple[Engine, Any, datetime]) -> WeeklyReport:
    engine, sites, end = fleet_db
    with make_sessionmaker(engine)() as session:
        return build_report(session, end, UTC, sites)


def _numbers(text: str) -> Counter[str]:
    return Counter(re.findall(r"\d+(?:[.,]\d+)*", text))


def _slack_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for b in blocks:
        if b["type"] in ("section", "header"):
            out.append(b["text"]["text"])
    return "\n".join(out)


def test_report_model_on_the_fleet(report: WeeklyReport) -> None:
    assert len(report.days) == 30 and report.week == report.days[-7:]
    assert report.incidents > 0 and report.sites and report.causes and report.owners
    assert sum(o.incidents for o in report.owners) == report.incidents
    assert {(f["kind"], f["charger"]) for f in report.connection} == {
        (kind, charger) for charger, (kind, _, _) in PLAN.planted.items()}
    v = report.visits
    assert v.cleared_without_visit + v.service_visits <= report.incidents
    assert v.recovered_by_themselves <= v.cleared_without_visit
    assert report.unknown_total >= len(report.unknown_codes) > 0
    for p in report.chronic:
        assert p.incidents >= 2 or p.downtime_min >= 60


def test_terminal_and_slack_show_the_same_figures(report: WeeklyReport) -> None:
    text = report_text(report)
    terminal = render_report(report)
    message = report_message(text)
    assert check(message) == []
    slack = _slack_text(message.blocks)
    # Every sentence of the terminal is in the Slack message (escaped for mrkdwn) ...
    for s in text.sections:
        assert s.title in terminal
        for line in s.lines:
            assert f"* {line}" in terminal
            assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in slack
    # ... so the two carry exactly the same numbers, headline to last line.
    body = terminal.split("\n", 2)[2].split("\nCharts (PNG")[0]
    assert _numbers(body) == _numbers(slack.split("\n", 1)[1])
    figures = report.figures()
    summary = text.summary
    assert f"{figures['incidents']} incidents this week" in summary
    assert f"{figures['connection']} connection findings" in summary
    assert f"{figures['unknown_codes']} unknown code" in summary
    assert summary in terminal and summary in message.text
    # Every finding shown has its evidence and who acts.
    conn = next(s for s in text.sections if s.key == "connection")
    assert len(conn.lines) == len(report.connection) == 3
    assert all("Evidence: " in x and "To do: " in x for x in conn.lines)


def test_charts_are_png_and_the_same_for_the_same_report(report: WeeklyReport) -> None:
    first, again = chart_pngs(report), chart_pngs(report)
    assert set(first) == {"uptime", "owners"}
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in first.values())
    assert first == again


def _big_report() -> WeeklyReport:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    days = tuple((now - timedelta(days=29 - i)).date() for i in range(30))
    hostile = "<!channel> & `x`" * 8
    sites = [SiteTrend(f"Site {i} {hostile}", 40, tuple(90.0 + (i % 10) for _ in days),
                       91.0, 92.5) for i in range(400)]
    conn = [{"kind": "reconnect_storm", "charger": f"CP-{i} {hostile}", "category": "connectivity",
             "severity": "degraded", "owner": "remote_operator", "first": "2026-11-19T08:00:00Z",
             "last": "2026-11-19T10:00:00Z", "count": 30, "median_gap_s": 240, "boots": 0,
             "heartbeats": 12, "close_codes": [1006], "firmware": None, "skew_s": None,
             "agree": None} for i in range(60)]
    return WeeklyReport(
        generated_at=now, timezone="UTC", days=days, incidents=5000, sites=sites,
        causes=[CauseRow("ground_fault", "electrician", 900, 12000.0)] * 8,
        owners=[OwnerRow("site_staff", 300, 100.0)] * 8,
        chronic=[ChronicPort(f"CP-{i} {hostile}", 1, hostile, 600.0, 9, "ground_fault")
                 for i in range(5)],
        visits=Visits(4000, 100, 1000), regressions=[], connection=conn,
        unknown_codes=[], unknown_total=700)


def test_a_huge_fleet_stays_within_block_kit_limits() -> None:
    big = _big_report()
    message = report_message(report_text(big))
    assert check(message) == []
    slack = _slack_text(message.blocks)
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
    assert "…and 370 more." in slack and "…and 45 more." in slack  # the rest is counted


def test_the_digest_points_to_the_weekly_report(
        fleet_db: tuple[Engine, Any, datetime]) -> None:
    from bot.digest.build import build_digest
    from bot.digest.render import render_digest
    from bot.slack.render.digest import render_digest_messages

    engine, sites, end = fleet_db
    with make_sessionmaker(engine)() as session:
        digest = build_digest(session, end.date(), UTC, sites, end)
    assert "Weekly fleet report" in render_digest(digest, "text")
    assert "`faultbot report --week`" in render_digest(digest, "markdown")
    messages = render_digest_messages(digest, UTC)
    last = messages[-1].blocks[-1]
    assert last["type"] == "context" and "Weekly fleet report" in last["elements"][0]["text"]
    assert all(check(m) == [] for m in messages)


def test_report_command(fleet_db: tuple[Engine, Any, datetime], tmp_path: Path,
                        report: WeeklyReport) -> None:
    engine, _, end = fleet_db
    url = engine.url.render_as_string(hide_password=False)
    charts = tmp_path / "charts"
    out = CliRunner().invoke(cli, ["report", "--week", "--now", end.isoformat(), "--charts",
                                   str(charts), "--database-url", url])
    assert out.exit_code == 0, out.output
    text = report_text(report)
    assert out.output.startswith(text.title + "\n")
    for s in text.sections:  # the sites file is not set here: compare what does not use it
        if s.key in ("connection", "unknown", "regressions", "owners", "causes", "visits"):
            assert all(f"* {line}" in out.output for line in s.lines)
    assert (charts / "uptime.png").read_bytes().startswith(b"\x89PNG")
    bad = CliRunner().invoke(cli, ["report", "--week", "--now", "soon", "--database-url", url])
    assert bad.exit_code == 2
