"""Daily digest scheduling: exactly once per channel per local day across restarts,
extra workers, catch-up and DST changes; Block Kit limits for a 5,000-charger fleet."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_helpers import assert_no_injection, make_incident, mrkdwn_texts, with_
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings, SettingsError
from bot.digest.model import (
    Digest,
    DigestLine,
    DigestSection,
    Headline,
    PhantomGroup,
    SiteFigure,
    UnknownCode,
)
from bot.slack.digest_job import JOB_ID, DigestScheduler, check_digest_time
from bot.slack.models import SlackDigestRun
from bot.slack.outbox import OutboxWorker
from bot.slack.render.budget import check
from bot.slack.render.digest import render_digest_messages
from bot.slack.stub import SlackStub


def _scheduler(engine: Engine, settings: Settings, client: WebClient, clock) -> DigestScheduler:
    worker = OutboxWorker(engine, client, clock=clock, sleep=clock.sleep)
    return DigestScheduler(engine, settings, client, clock=clock, worker=worker)


def _runs(engine: Engine) -> list[SlackDigestRun]:
    with Session(engine) as s:
        return list(s.scalars(select(SlackDigestRun).order_by(SlackDigestRun.local_date)))


def test_two_schedulers_same_now_post_once(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    with Session(db_engine) as s, s.begin():
        make_incident(s, at=datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
    now = datetime(2026, 11, 20, 6, 31, tzinfo=UTC)  # 07:31 in Berlin
    clock.now = now
    a = _scheduler(db_engine, settings, client, clock)
    b = _scheduler(db_engine, settings, client, clock)
    first, second = a.run_due(now), b.run_due(now)
    assert [r.posted for r in first] == [True] and [r.posted for r in second] == [False]
    # A restart an hour later (within the catch-up window) does not post again.
    c = _scheduler(db_engine, settings, client, clock)
    assert [r.posted for r in c.run_due(now + timedelta(hours=1))] == [False]
    posts = stub.ok_calls("chat.postMessage")
    assert len(posts) == first[0].messages >= 1
    assert posts[0].params["channel"] == "CDIGEST"
    assert "2026-11-19" in posts[0].params["text"]  # reports on yesterday
    assert "Emergency stop" in str(posts[0].params["blocks"])
    (run,) = _runs(db_engine)
    assert (run.channel, run.local_date, run.trigger) == ("CDIGEST", date(2026, 11, 20), "schedule")


def test_catch_up_within_grace_and_skip_after(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    sched = _scheduler(db_engine, settings, client, clock)
    assert sched.run_due(datetime(2026, 11, 20, 6, 0, tzinfo=UTC)) == []  # 07:00: too early
    late = sched.run_due(datetime(2026, 11, 20, 11, 0, tzinfo=UTC))  # 12:00 local: catch up
    assert [(r.posted, r.trigger) for r in late] == [(True, "catch-up")]
    # Down all of the next morning: 14:00 local is past the 6 h window, the day is skipped.
    assert sched.run_due(datetime(2026, 11, 21, 13, 0, tzinfo=UTC)) == []
    assert [r.local_date for r in _runs(db_engine)] == [date(2026, 11, 20)]


@pytest.mark.parametrize(
    ("zone", "dst_day"),
    [
        ("Europe/Berlin", date(2026, 3, 29)),
        ("Europe/Berlin", date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
    ],
)
def test_dst_days_get_exactly_one_digest_at_local_time(
    db_engine: Engine,
    settings: Settings,
    stub: SlackStub,
    client: WebClient,
    clock,
    zone: str,
    dst_day: date,
) -> None:
    tz = ZoneInfo(zone)
    s = with_(settings, timezone=tz, digest_time=time(7, 30))
    sched = _scheduler(db_engine, s, client, clock)
    # The trigger itself: 07:30 wall clock on the days around the change.
    fire = sched.trigger().get_next_fire_time(
        None, datetime.combine(dst_day - timedelta(days=1), time(12), tzinfo=tz)
    )
    for _ in range(3):
        local = fire.astimezone(tz)
        assert (local.hour, local.minute) == (7, 30)
        fire = sched.trigger().get_next_fire_time(fire, fire + timedelta(seconds=1))
    # A worker polling every 10 minutes for three days posts once per local day.
    start = datetime.combine(dst_day - timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    now, posted_at = start, {}
    while now < start + timedelta(days=3):
        clock.now = now
        for r in sched.run_due(now):
            if r.posted:
                assert r.local_date not in posted_at
                posted_at[r.local_date] = now.astimezone(tz)
        now += timedelta(minutes=10)
    assert sorted(posted_at) == [dst_day - timedelta(days=1), dst_day, dst_day + timedelta(days=1)]
    for local in posted_at.values():
        assert time(7, 30) <= local.time() < time(7, 40)
    assert len(_runs(db_engine)) == 3


def test_dst_unsafe_digest_time_is_refused() -> None:
    with pytest.raises(SettingsError) as err:
        check_digest_time(time(2, 30))
    assert err.value.variable == "FAULTBOT_DIGEST_TIME"
    assert check_digest_time(time(3, 0)) == time(3, 0)
    assert check_digest_time(time(0, 59)) == time(0, 59)


def test_background_scheduler_registers_one_job_and_catches_up(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 09:00 Berlin: today's is due
    sched = _scheduler(db_engine, settings, client, clock)
    try:
        sched.start()
        sched.start()  # a second start (restart in-process) must not add a second job
        jobs = sched.scheduler.get_jobs()
        assert [j.id for j in jobs] == [JOB_ID]
        local_next = jobs[0].next_run_time.astimezone(settings.timezone)
        assert (local_next.hour, local_next.minute) == (7, 30)
        assert jobs[0].misfire_grace_time >= 3600
    finally:
        sched.shutdown()
    assert len(_runs(db_engine)) == 1  # the start-up catch-up posted today's digest once
    assert len(stub.ok_calls("chat.postMessage")) == _runs(db_engine)[0].messages


def _line(i: int, tz_now: datetime) -> DigestLine:
    return DigestLine(
        incident_id=i,
        scope="port",
        site=f"Site {i % 300}",
        charger=f"CP-{i:05d}",
        connector=1 + i % 2,
        category=("ground_fault", "power_loss", "emergency_stop", "unknown")[i % 4],
        severity=("safety", "outage", "degraded")[i % 3],
        owner=("site_staff", "vendor_service", "remote_operator", "electrician")[i % 4],
        summary=f"Vendor said <!channel> & <https://evil.example|click> @here #{i} " + "x" * 80,
        action="Check the residual current device, then reset the charger remotely.",
        confidence=0.8,
        since=tz_now - timedelta(hours=i % 30),
        resolved_at=None if i % 5 else tz_now,
        duration_min=float(i % 900),
        occurrences=1 + i % 7,
        flapping=i % 11 == 0,
        acked_by="U0ONCALL" if i % 13 == 0 else None,
    )


def big_digest(n: int = 5000) -> Digest:
    now = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    lines = [_line(i, now) for i in range(n)]
    sections = {}
    for ln in lines:
        key = (
            "recovered"
            if ln.resolved_at
            else {
                "site_staff": "on_site",
                "vendor_service": "service",
                "electrician": "service",
            }.get(ln.owner, "remote")
        )
        sections.setdefault(key, DigestSection(key)).lines.append(ln)
    return Digest(
        day=date(2026, 11, 19),
        timezone="Europe/Berlin",
        generated_at=now,
        has_data=True,
        headline=Headline(10000, 4000, 71.3, 74.0, 5000, 1000, 4000, 1667, 12),
        sections=list(sections.values()),
        phantoms=[PhantomGroup(f"Model <{i}>", "phantom", 30, 4, "A & B") for i in range(20)],
        unknown_codes=[
            UnknownCode("Acme <!here>", "X1", f"E{i:04d}`x`", "info & <b>", 3, 2, now)
            for i in range(60)
        ],
        sites=[SiteFigure(f"Site {i}", 33, 95.5, 96.0, 120.0, 30.0, 2) for i in range(300)],
    )


@pytest.mark.parametrize("per_section", [40, 5000])
def test_5000_charger_digest_stays_within_block_kit_limits(per_section: int) -> None:
    messages = render_digest_messages(
        big_digest(), ZoneInfo("Europe/Berlin"), lines_per_section=per_section
    )
    assert 1 <= len(messages) <= 4
    if per_section == 5000:  # every line wanted: split over messages, the rest summarised
        assert len(messages) == 4 and "more lines are not shown" in str(messages[-1].blocks)
    for m in messages:
        assert check(m) == [], check(m)[:3]
        assert m.text.strip()
        assert len(m.blocks) <= 50
    texts = [t for m in messages for t in [m.text, *mrkdwn_texts(m.blocks)]]
    assert_no_injection(texts)
    dump = "\n".join(texts)
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in dump
    if per_section == 40:
        assert "Acme &lt;!here&gt;" in dump
    assert "more" in dump  # the long sections are summarised, not dropped silently
