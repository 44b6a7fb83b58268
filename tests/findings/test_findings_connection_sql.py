"""The weekly report's and `faultbot findings`' connection health counts heartbeats in
SQL (`stored_connection_issues`) instead of reading a week of them into Python: on
generated fleets with planted trouble, stored on SQLite and PostgreSQL, the findings
and every number in them are identical to the old way
(`find_connection_issues(load_observations(...))`), whatever window is asked for."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.findings.connection import (
    ConnectionConfig,
    ConnectionFinding,
    find_connection_issues,
    load_observations,
    stored_connection_issues,
)
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.report.build import build_report
from bot.sample.fleet import DEFAULT_START
from bot.sample.fleet_connection import ConnectionPlan, generate_connection_fleet

HOURS = 24.0
END = DEFAULT_START + timedelta(hours=HOURS + 1)


def _old_way(session: Session, since: datetime, until: datetime,
             cfg: ConnectionConfig | None = None) -> list[ConnectionFinding]:
    return list(find_connection_issues(load_observations(session, since, until), cfg))


@pytest.fixture
def stored(db_engine: Engine) -> Engine:
    for seed in (5, 6):  # two fleets: loops, storms and skews on several chargers
        lines = generate_connection_fleet(30, HOURS, seed, plan=ConnectionPlan())
        lines = [line.replace('"charger":"', f'"charger":"S{seed}-') for line in lines]
        Pipeline(db_engine).process(read_lines(lines, source=f"t{seed}"))
    return db_engine


def test_same_findings_and_numbers_as_reading_every_row(stored: Engine) -> None:
    with Session(stored) as s:
        old = _old_way(s, DEFAULT_START, END)
        new = stored_connection_issues(s, DEFAULT_START, END)
    assert new == old
    kinds = {f.kind for f in new}
    assert kinds == {"boot_loop", "reconnect_storm", "clock_skew"}
    assert len({f.charger[:3] for f in new}) == 2  # both fleets


@pytest.mark.parametrize("hours", [(0.0, 6.0), (3.0, 11.5), (9.25, 25.0), (12.0, 12.5)])
def test_any_window_gives_the_same_numbers(stored: Engine,
                                           hours: tuple[float, float]) -> None:
    since, until = (DEFAULT_START + timedelta(hours=h) for h in hours)
    with Session(stored) as s:
        assert stored_connection_issues(s, since, until) == _old_way(s, since, until)


def test_a_looser_config_with_many_episodes_gives_the_same_numbers(stored: Engine) -> None:
    # everyday reconnects and reboots become episodes too: dozens of counts, one statement
    cfg = ConnectionConfig(boot_min=2, storm_min=2, boot_gap=timedelta(hours=2),
                           storm_gap=timedelta(hours=2))
    with Session(stored) as s:
        old = _old_way(s, DEFAULT_START, END, cfg)
        assert len(old) > 30
        assert sum(f.heartbeats > 0 for f in old) > 20  # the counts are not all 0
        assert stored_connection_issues(s, DEFAULT_START, END, cfg) == old


def test_the_weekly_report_shows_the_same_connection_health(stored: Engine) -> None:
    with Session(stored) as s:
        report = build_report(s, END, ZoneInfo("UTC"))
        week_lo = datetime.combine(report.days[-7], time(0), tzinfo=UTC)  # its 7 local days
        assert report.connection == [f.to_json() for f in _old_way(s, week_lo, END)]
        assert report.connection  # the planted trouble is in it
