"""Exactly once when Slack's reply is lost: the post landed, the answer did not arrive
(a 500 after the post, a reset connection). The outbox looks the post's metadata key
up in the channel (or thread) and adopts it instead of posting again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_helpers import make_incident
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.changes import IncidentChange
from bot.slack.alerts import AlertPublisher
from bot.slack.digest_job import DigestScheduler
from bot.slack.models import SlackAlertMessage, SlackOutbox
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import RESET, Scripted, SlackStub

NOW = datetime(2026, 11, 20, 6, 31, tzinfo=UTC)  # 07:31 in Berlin, after the digest time


def _worker(engine: Engine, client: WebClient, clock) -> OutboxWorker:
    return OutboxWorker(engine, client, clock=clock, sleep=clock.sleep, pace=0)


def _deliver_all(worker: OutboxWorker, clock, rounds: int = 10) -> None:
    for _ in range(rounds):
        worker.run_once()
        clock.advance(5)


def _open_alert(engine: Engine, settings: Settings, clock) -> int:
    publisher = AlertPublisher(engine, settings, clock=clock)
    with Session(engine) as s, s.begin():
        incident = make_incident(s, at=clock())
        publisher.on_changes(s, [IncidentChange(incident.id, "opened", clock())])
        return incident.id


@pytest.mark.parametrize("lost", [500, 502, RESET])
def test_lost_reply_after_landed_digest_posts_it_once(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock, lost: int
) -> None:
    clock.now = NOW
    worker = _worker(db_engine, client, clock)
    stub.lose_replies("chat.postMessage", lost)
    sched = DigestScheduler(db_engine, settings, client, clock=clock, worker=worker)
    (result,) = sched.run_due(NOW)
    assert result.posted and result.messages >= 1
    _deliver_all(worker, clock)
    landed = [m for m in stub.messages.values() if m.channel == "CDIGEST"]
    assert len(landed) == result.messages  # not one more
    keys = [m.metadata["event_payload"]["key"] for m in landed if m.metadata]
    assert len(set(keys)) == len(landed)
    assert landed[0].metadata is not None
    assert landed[0].metadata["event_type"] == "faultbot_digest"
    assert landed[0].metadata["event_payload"]["day"] == "2026-11-20"
    # The lookup happened and the row took the ts of the message that had landed.
    assert stub.calls_to("conversations.history")
    with Session(db_engine) as s:
        rows = list(s.scalars(select(SlackOutbox)))
    assert {r.status for r in rows} == {"sent"}
    assert {r.result_ts for r in rows} == {m.ts for m in landed}


def test_lost_reply_after_landed_alert_root_and_reply(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    worker = _worker(db_engine, client, clock)
    incident_id = _open_alert(db_engine, settings, clock)
    stub.lose_replies("chat.postMessage", 500)
    _deliver_all(worker, clock)
    roots = [m for m in stub.messages.values() if m.channel == "CALERTS" and not m.thread_ts]
    assert len(roots) == 1
    assert roots[0].metadata == {
        "event_type": "faultbot_alert",
        "event_payload": {"key": f"alert-root:{incident_id}", "incident_id": incident_id},
    }
    with Session(db_engine) as s:
        anchor = s.scalars(select(SlackAlertMessage)).one()
    assert anchor.ts == roots[0].ts  # the adopted ts anchors the thread

    # A thread reply whose answer is lost: looked up in the thread, not posted twice.
    publisher = AlertPublisher(db_engine, settings, clock=clock)
    with Session(db_engine) as s, s.begin():
        publisher.on_changes(s, [IncidentChange(incident_id, "escalated", clock(), "a->b")])
    stub.lose_replies("chat.postMessage", RESET)
    _deliver_all(worker, clock)
    replies = [m for m in stub.messages.values() if m.thread_ts == roots[0].ts]
    assert len(replies) == 1
    assert stub.calls_to("conversations.replies")


def test_a_post_that_did_not_land_is_sent_after_the_lookup(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    worker = _worker(db_engine, client, clock)
    _open_alert(db_engine, settings, clock)
    stub.script("chat.postMessage", Scripted(status=503))  # refused before it ran
    _deliver_all(worker, clock)
    assert len([m for m in stub.messages.values() if not m.thread_ts]) == 1
    assert len(stub.calls_to("conversations.history")) == 1  # looked, found none, posted


def test_lookup_failing_holds_the_post_back(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    worker = _worker(db_engine, client, clock)
    _open_alert(db_engine, settings, clock)
    stub.lose_replies("chat.postMessage", 500)
    stub.script("conversations.history", Scripted(status=500), Scripted(status=500))
    for _ in range(3):
        worker.run_once()
        clock.advance(5)
        # While the lookup fails, no second copy is posted.
        assert len([m for m in stub.messages.values() if not m.thread_ts]) == 1
    _deliver_all(worker, clock)
    assert len(stub.ok_calls("conversations.history")) == 1
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_worker_dying_mid_send_is_recovered_by_lookup(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    worker = _worker(db_engine, client, clock)
    _open_alert(db_engine, settings, clock)
    worker.run_once()
    # As if the worker had died after Slack took the post but before the row was saved.
    with Session(db_engine) as s, s.begin():
        row = s.scalars(select(SlackOutbox)).one()
        row.status, row.claimed_at, row.result_ts = "sending", clock(), None
    clock.advance(600)
    _deliver_all(worker, clock)
    assert len(stub.calls_to("chat.postMessage")) == 1
    with Session(db_engine) as s:
        assert s.scalars(select(SlackOutbox)).one().status == "sent"
