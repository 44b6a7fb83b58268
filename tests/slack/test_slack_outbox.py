"""The persisted outbox against the local Slack stand-in: outages, 429s, permanent
errors, ordering, pacing and single delivery with two workers."""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.slack.models import SlackOutbox
from bot.slack.outbox import OutboxWorker, enqueue
from bot.slack.render.budget import SlackMessage
from bot.slack.stub import Scripted, SlackStub


def _queue(engine: Engine, clock, channel: str, *texts: str, dedupe: bool = False) -> None:
    with Session(engine) as s, s.begin():
        for t in texts:
            enqueue(
                s,
                channel=channel,
                message=SlackMessage(t, []),
                dedupe_key=f"k:{channel}:{t}" if dedupe else None,
                now=clock(),
            )


def _rows(engine: Engine) -> list[SlackOutbox]:
    with Session(engine) as s:
        return list(s.scalars(select(SlackOutbox).order_by(SlackOutbox.id)))


def test_outage_500_then_429_then_recovery_delivers_once_in_order(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    _queue(db_engine, clock, "C1", "first", "second", "third")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    stub.script("chat.postMessage", Scripted(status=500), Scripted(status=429, retry_after=7))

    assert worker.run_once() == 0  # 500: the head waits, nothing overtakes it
    assert [c.params["text"] for c in stub.calls_to("chat.postMessage")] == ["first"]
    assert worker.run_once() == 0  # still in backoff: Slack is not called again
    assert len(stub.calls_to("chat.postMessage")) == 1

    clock.advance(2)
    assert worker.run_once() == 0  # 429 with Retry-After: 7
    row = _rows(db_engine)[0]
    assert row.status == "pending" and "ratelimited" in (row.last_error or "")
    clock.advance(6)
    assert worker.run_once() == 0  # Retry-After not over yet
    assert len(stub.calls_to("chat.postMessage")) == 2

    clock.advance(1)
    assert worker.run_once() == 3
    sent = [c.params["text"] for c in stub.ok_calls("chat.postMessage")]
    assert sent == ["first", "second", "third"]
    assert clock.slept == [1.0, 1.0]  # paced at one message per second per channel
    assert worker.run_once() == 0
    assert [r.status for r in _rows(db_engine)] == ["sent"] * 3
    assert all(r.result_ts for r in _rows(db_engine))


def test_slack_unreachable_then_back_delivers_exactly_once(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    stub.stop()  # connection refused from now on
    _queue(db_engine, clock, "CALERTS", "charger CP-1 is down", dedupe=True)
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    assert worker.run_once() == 0
    (row,) = _rows(db_engine)
    assert row.status == "pending" and row.attempts == 1
    assert (row.last_error or "").startswith("network:")

    # The producer retries too (a restart replays the change): the dedupe key holds.
    _queue(db_engine, clock, "CALERTS", "charger CP-1 is down", dedupe=True)
    stub.start()  # Slack is back on the same address
    clock.advance(600)
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert [c.params["text"] for c in stub.calls_to("chat.postMessage")] == ["charger CP-1 is down"]


def test_permanent_error_fails_row_with_reason_and_other_channels_go_on(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    stub.missing_channels.add("CGONE")
    _queue(db_engine, clock, "CGONE", "lost")
    _queue(db_engine, clock, "COK", "fine")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    assert worker.run_once() == 1
    gone, ok = _rows(db_engine)
    assert (gone.status, gone.last_error) == ("failed", "channel_not_found")
    assert ok.status == "sent"


def test_ok_false_retryable_errors_are_retried(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    stub.script("chat.postMessage", Scripted(error="message_limit_exceeded"))
    _queue(db_engine, clock, "C1", "hello")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    assert worker.run_once() == 0
    assert _rows(db_engine)[0].last_error == "message_limit_exceeded"
    clock.advance(60)
    assert worker.run_once() == 1


def test_invalid_blocks_is_permanent_and_goes_out_as_text_only(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    stub.script("chat.postMessage", Scripted(error="invalid_blocks"))
    _queue(db_engine, clock, "C1", "bad", "good")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    assert worker.run_once() == 2
    assert [(r.status, r.last_error, r.error_class) for r in _rows(db_engine)] == [
        ("sent", "invalid_blocks", "permanent"),  # delivered, but the error is kept
        ("sent", None, None),
    ]
    first_try, text_only, good = stub.calls_to("chat.postMessage")
    assert "blocks" in first_try.params and "blocks" not in text_only.params
    assert text_only.params["text"] == "bad" and good.params["text"] == "good"


def test_two_workers_never_send_a_row_twice(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    _queue(db_engine, clock, "C1", "only once")
    gate = stub.gate("chat.postMessage")  # worker A's call stays in flight
    a = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    b = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    results: list[int] = []
    t = threading.Thread(target=lambda: results.append(a.run_once()))
    t.start()
    assert gate.entered.wait(5)
    assert b.run_once() == 0  # the row is claimed by A: B must not send it
    gate.release()
    t.join(5)
    assert results == [1]
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_text_only_fallback_that_meets_an_outage_is_retried_as_text_only(
    db_engine: Engine, stub: SlackStub, client: WebClient, clock
) -> None:
    # Blocks refused for good, then the plain-text copy meets a 500 (it may have landed,
    # so it is looked up first) and next a 429: the row stays pending and goes out once,
    # as text only, when Slack is back; it is never marked failed for a passing outage.
    stub.script(
        "chat.postMessage",
        Scripted(error="invalid_blocks"),
        Scripted(status=500),
        Scripted(status=429, retry_after=3),
    )
    _queue(db_engine, clock, "C1", "bad")
    worker = OutboxWorker(db_engine, client, clock=clock, sleep=clock.sleep)
    assert worker.run_once() == 0
    (row,) = _rows(db_engine)
    assert (row.status, row.last_error) == ("pending", "internal_error")
    assert "blocks" not in row.payload  # the retry sends the text-only copy
    clock.advance(60)
    assert worker.run_once() == 0  # 429
    assert _rows(db_engine)[0].status == "pending"
    clock.advance(3)
    assert worker.run_once() == 1
    (row,) = _rows(db_engine)
    assert row.status == "sent" and row.error_class == "permanent"
    assert "sent as text only" in (row.error_detail or "")
    delivered = stub.ok_calls("chat.postMessage")
    assert [("blocks" in c.params, c.params["text"]) for c in delivered] == [(False, "bad")]
