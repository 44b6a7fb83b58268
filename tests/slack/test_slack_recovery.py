"""Recovery in seconds: Retry-After honoured exactly and kept out of the error backoff,
a small capped backoff per row, lanes per incident, and a timed outage against the
stand-in.

The outage test runs on real time at the issue's own figures: a 30 s outage and a 10 s
target. FAULTBOT_OUTAGE_SCALE (default 1) compresses everything time-like together (the
phases, Slack's Retry-After, the worker's pacing and backoff) for a quicker local run,
e.g. 0.5: a 15 s outage and a 5 s target.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

from slack_helpers import make_incident
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.changes import IncidentChange
from bot.slack.alerts import AlertPublisher
from bot.slack.models import SlackOutbox
from bot.slack.outbox import BACKOFF_BASE, BACKOFF_CAP, OutboxWorker, enqueue
from bot.slack.render.budget import SlackMessage
from bot.slack.stub import Phase, Scripted, SlackStub

SCALE = float(os.environ.get("FAULTBOT_OUTAGE_SCALE", "1"))


def _rows(engine: Engine) -> list[SlackOutbox]:
    with Session(engine) as s:
        return list(s.scalars(select(SlackOutbox).order_by(SlackOutbox.id)))


def _queue(engine: Engine, clock, channel: str, text: str, **kw) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s, s.begin():
        enqueue(s, channel=channel, message=SlackMessage(text, []), now=clock(), **kw)


def test_429_waits_exactly_retry_after_and_does_not_feed_the_backoff(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    _queue(db_engine, clock, "C1", "hello")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    stub.script("chat.postMessage", *[Scripted(status=429, retry_after=3)] * 6)
    for _ in range(6):
        assert worker.run_once() == 0
        (row,) = _rows(db_engine)
        assert row.next_attempt_at == clock() + timedelta(seconds=3)  # exactly Retry-After
        clock.advance(2.9)
        assert worker.run_once() == 0  # not before
        clock.advance(0.1)
    (row,) = _rows(db_engine)
    assert (row.attempts, row.failures) == (6, 0)
    # One 5xx after six 429s waits the first backoff step, not 2**7 seconds.
    stub.script("chat.postMessage", Scripted(status=503))
    assert worker.run_once() == 0
    (row,) = _rows(db_engine)
    assert row.failures == 1
    assert row.next_attempt_at == clock() + timedelta(seconds=BACKOFF_BASE)
    clock.advance(BACKOFF_BASE)
    assert worker.run_once() == 1
    assert len(stub.ok_calls("chat.postMessage")) == 1


def test_backoff_is_capped(db_engine: Engine, stub: SlackStub, client: WebClient, clock) -> None:
    _queue(db_engine, clock, "C1", "hello")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep, pace=0)
    stub.script("chat.postMessage", *[Scripted(error="internal_error")] * 12)
    waits = []
    for _ in range(12):
        before = clock()
        worker.run_once()
        (row,) = _rows(db_engine)
        waits.append((row.next_attempt_at - before).total_seconds())
        clock.now = row.next_attempt_at
    assert waits[:3] == [0.5, 1.0, 2.0] and max(waits) == BACKOFF_CAP
    assert worker.run_once() == 1


def test_a_stuck_incident_does_not_hold_other_incidents(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    publisher = AlertPublisher(db_engine, settings, clock=clock)
    with Session(db_engine) as s, s.begin():
        a = make_incident(s, charger="CP-1", open_key="a")
        b = make_incident(s, charger="CP-2", open_key="b")
        publisher.on_changes(s, [IncidentChange(a.id, "opened", clock())])
        publisher.on_changes(s, [IncidentChange(b.id, "opened", clock())])
        a_id, b_id = a.id, b.id
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep, pace=0)
    # A's root keeps failing; B's root is behind it in the same channel.
    stuck = Scripted(error="internal_error", when=lambda p: "CP-1" in str(p.get("text")))
    stub.script("chat.postMessage", stuck, stuck, stuck)
    assert worker.run_once() == 1  # B went out in the same pass
    with Session(db_engine) as s, s.begin():
        publisher.on_changes(s, [IncidentChange(b_id, "escalated", clock(), "x->y")])
        publisher.on_changes(s, [IncidentChange(a_id, "escalated", clock(), "x->y")])
    clock.advance(0.1)
    assert worker.run_once() == 1  # B's reply too; A's reply waits for A's root
    texts = [c.params.get("thread_ts") for c in stub.ok_calls("chat.postMessage")]
    assert texts[0] is None and texts[1] is not None
    for _ in range(6):
        clock.advance(3)
        worker.run_once()
    roots = {m.ts: m for m in stub.messages.values() if not m.thread_ts}
    assert len(roots) == 2
    assert all(r.status == "sent" for r in _rows(db_engine))
    # Within A's thread the root came before the reply.
    a_root = next(m for m in roots.values() if m.metadata["event_payload"]["incident_id"] == a_id)
    a_reply = next(m for m in stub.messages.values() if m.thread_ts == a_root.ts)
    assert float(a_root.ts) < float(a_reply.ts)


def test_thirty_second_outage_every_alert_within_ten_seconds_of_recovery(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient
) -> None:
    started_wall = time.time()
    plan = stub.outage(
        Phase(8, "5xx"),  # refused before doing anything
        Phase(6, "lost"),  # posts land, answers are lost
        Phase(6, "down"),  # connections reset unanswered
        Phase(10, "429", retry_after=1),  # rate limited while Slack catches up
        scale=SCALE,
    )
    recovered_wall = started_wall + (plan.ends_at - plan.started)
    publisher = AlertPublisher(db_engine, settings, update_debounce=timedelta(seconds=SCALE))
    ids = []
    with Session(db_engine) as s, s.begin():
        for n in range(3):
            inc = make_incident(s, charger=f"CP-{n}", open_key=f"k{n}", at=datetime.now(UTC))
            ids.append(inc.id)
        publisher.on_changes(s, [IncidentChange(i, "opened", datetime.now(UTC)) for i in ids])
        now = datetime.now(UTC)
        publisher.on_changes(s, [IncidentChange(ids[0], "escalated", now, "a->b")])
        publisher.on_changes(s, [IncidentChange(ids[1], "escalated", now, "a->b")])
        publisher.on_changes(
            s, [IncidentChange(ids[0], "cause_changed", now + timedelta(seconds=1), "c->d")]
        )
    worker = OutboxWorker(
        db_engine,
        client,
        pace=1.0 * SCALE,
        backoff_base=0.5 * SCALE,
        backoff_cap=2.0 * SCALE,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.2 * SCALE), daemon=True)
    thread.start()
    try:
        deadline = recovered_wall + 10 * SCALE
        while time.time() < deadline + 1 and any(r.status != "sent" for r in _rows(db_engine)):
            time.sleep(0.05)
    finally:
        stop.set()
        worker.kick()
        thread.join(10)
    rows = _rows(db_engine)
    assert {r.status for r in rows} == {"sent"}, [(r.status, r.last_error) for r in rows]
    late = [
        (r.ref, r.sent_at.timestamp() - recovered_wall)
        for r in rows
        if r.sent_at is not None and r.sent_at.timestamp() > recovered_wall + 10 * SCALE
    ]
    assert late == []  # every alert within 10 s (scaled) of Slack recovering
    # None twice: one root per incident, one reply per queued reply.
    posts = [m for m in stub.messages.values() if m.channel == "CALERTS"]
    keys = [m.metadata["event_payload"]["key"] for m in posts if m.metadata]
    assert len(keys) == len(posts) == 6 and len(set(keys)) == 6
    roots = {m.metadata["event_payload"]["incident_id"]: m for m in posts if not m.thread_ts}
    assert sorted(roots) == sorted(ids)
    # Order per incident: root, then the replies in the order they were queued.
    a_thread = sorted(
        (m for m in posts if m.thread_ts == roots[ids[0]].ts), key=lambda m: float(m.ts)
    )
    assert [m.metadata["event_payload"]["key"].split(":")[2] for m in a_thread] == [
        "escalated",
        "cause_changed",
    ]
    assert all(float(m.ts) > float(roots[ids[0]].ts) for m in a_thread)
    # The outage really hit: every phase answered something.
    statuses = {c.status for c in stub.calls}
    assert {503, 500, 0, 429} <= statuses
