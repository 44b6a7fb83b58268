"""Alert threads end to end: the incident manager's real changes -> AlertPublisher ->
outbox -> worker -> the local Slack stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents import manager as incidents
from bot.incidents.manager import Finding, IncidentManager
from bot.incidents.signals import Signal
from bot.slack.alerts import AlertPublisher
from bot.slack.models import SlackAlertMessage, SlackOutbox
from bot.slack.outbox import OutboxWorker
from bot.slack.render.budget import check
from bot.slack.stub import SlackStub
from bot.triage.diagnosis import Diagnosis
from bot.vocab import Category, Owner, Severity

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def diag(at: datetime, **kw: Any) -> Diagnosis:
    values: dict[str, Any] = {
        "charger": "CP-12",
        "connector": 1,
        "ts": at,
        "category": Category.EMERGENCY_STOP,
        "severity": Severity.OUTAGE,
        "owner": Owner.SITE_STAFF,
        "suppressed": False,
        "summary": "Emergency stop button 1 is pressed.",
        "action": "Release the emergency stop button, then reset the charger.",
        "confidence": 0.97,
        "rule": "estop_phrase",
        "evidence": ["vendorErrorCode F400 matched Acme manual entry F400 (score 100)"],
    }
    values.update(kw)
    return Diagnosis(**values)


class Harness:
    def __init__(self, engine: Engine, settings: Settings, client: WebClient, clock) -> None:
        self.engine, self.clock = engine, clock
        self.publisher = AlertPublisher(engine, settings, clock=clock)
        self.worker = OutboxWorker(engine, client, clock=clock, sleep=clock.sleep)

    def feed(self, *events: Finding | Signal, settle: datetime | None = None) -> list:
        with Session(self.engine) as s, s.begin():
            m = IncidentManager(s, site_of=lambda c: "Depot North")
            changes = m.apply(list(events))
            if settle is not None:
                changes += m.settle(settle)
            m.flush_rows()
            self.publisher.on_changes(s, changes)
        return changes

    def act(self, fn, *args: Any) -> None:
        with Session(self.engine) as s, s.begin():
            change = fn(s, *args)
            self.publisher.on_changes(s, [change])

    def deliver(self, after: float = 3.0) -> int:
        self.clock.advance(after)
        return self.worker.run_once()


def test_alert_thread_lifecycle(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    h = Harness(db_engine, settings, client, clock)
    changes = h.feed(Finding(diag(T0)))
    assert [c.kind for c in changes] == ["opened"]
    assert h.deliver() == 1
    (root,) = stub.ok_calls("chat.postMessage")
    assert root.params["channel"] == "CALERTS" and "thread_ts" not in root.params
    assert root.params["unfurl_links"] is False
    assert "Emergency stop" in root.params["text"] and not check(root.params)
    root_ts = root.response["ts"]
    incident_id = changes[0].incident_id

    # Two more occurrences: an "updated" and a "recurring:3" escalation. One edit.
    h.feed(Finding(diag(T0 + timedelta(minutes=1))), Finding(diag(T0 + timedelta(minutes=2))))
    assert h.deliver(after=0) == 1  # the reply goes out; the debounced edit waits
    assert h.deliver() == 1
    updates = stub.ok_calls("chat.update")
    assert len(updates) == 1 and updates[0].params["ts"] == root_ts
    assert "3 times" in str(updates[0].params["blocks"])
    (reply,) = [c for c in stub.ok_calls("chat.postMessage") if c.params.get("thread_ts")]
    assert reply.params["thread_ts"] == root_ts
    assert "Recurring: seen 3 times, still" in reply.params["text"], reply.params["text"]

    # Acknowledged by a person (twice: a double click) -> one reply naming them.
    h.act(incidents.acknowledge, incident_id, "U0ONCALL", clock())
    h.act(incidents.acknowledge, incident_id, "U0ONCALL", clock())
    h.deliver()
    acks = [c for c in stub.ok_calls("chat.postMessage") if "Acknowledged" in c.params["text"]]
    assert len(acks) == 1 and "<@U0ONCALL>" in acks[0].params["text"]
    last_root = stub.messages[("CALERTS", root_ts)]
    assert "Acknowledged by <@U0ONCALL>" in str(last_root.blocks)
    assert "incident_ack" not in str(last_root.blocks)  # no Acknowledge button any more

    # A safety-grade report escalates; the thread says so.
    h.feed(Finding(diag(T0 + timedelta(minutes=5), severity=Severity.SAFETY)))
    h.deliver()
    assert any("Safety" in c.params["text"] for c in stub.ok_calls("chat.postMessage")[1:])

    # The port recovers and stays healthy past the hold-down: resolved, with duration.
    healthy = Signal("CP-12", 1, T0 + timedelta(minutes=20), "healthy")
    h.feed(healthy, settle=T0 + timedelta(minutes=40))
    h.deliver()
    resolved = [c for c in stub.ok_calls("chat.postMessage") if "Resolved" in c.params["text"]]
    assert len(resolved) == 1 and "20 min" in resolved[0].params["text"]
    final = stub.messages[("CALERTS", root_ts)]
    assert "Resolved" in final.text and "incident_resolve" not in str(final.blocks)

    # Exactly one root message for the whole story, every edit on that root.
    roots = [c for c in stub.ok_calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(roots) == 1
    assert all(c.params["ts"] == root_ts for c in stub.ok_calls("chat.update"))
    for call in stub.ok_calls("chat.postMessage") + stub.ok_calls("chat.update"):
        assert not check(call.params), call.params


def test_restart_never_reposts_and_flap_reuses_the_root(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    h = Harness(db_engine, settings, client, clock)
    opened = h.feed(Finding(diag(T0)))
    h.deliver()
    # A restart: a new publisher and worker replay the same change.
    h2 = Harness(db_engine, settings, client, clock)
    with Session(db_engine) as s, s.begin():
        h2.publisher.on_changes(s, opened)
    assert h2.deliver() == 0

    # Recover, then fault again 20 minutes later: a new incident, the same thread.
    h.feed(
        Signal("CP-12", 1, T0 + timedelta(minutes=5), "healthy"),
        settle=T0 + timedelta(minutes=16),
    )
    clock.now = T0 + timedelta(minutes=36)
    again = h.feed(Finding(diag(T0 + timedelta(minutes=35))))
    assert [c.kind for c in again] == ["opened"] and again[0].incident_id != opened[0].incident_id
    h.deliver()
    roots = [c for c in stub.ok_calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(roots) == 1
    came_back = [c for c in stub.ok_calls("chat.postMessage") if "came back" in c.params["text"]]
    assert len(came_back) == 1 and came_back[0].params["thread_ts"] == roots[0].response["ts"]
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(SlackAlertMessage)) == 2
        assert (
            s.scalar(select(func.count()).select_from(SlackOutbox).where(SlackOutbox.ref == "root"))
            == 1
        )


def test_suppressed_and_minor_incidents_never_page(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    h = Harness(db_engine, settings, client, clock)
    h.feed(Finding(diag(T0, suppressed=True)))
    h.feed(Finding(diag(T0, charger="CP-13", severity=Severity.DEGRADED)))
    assert h.deliver() == 0
    assert stub.calls_to("chat.postMessage") == []


def test_alert_posted_while_slack_down_arrives_once_when_back(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    h = Harness(db_engine, settings, client, clock)
    stub.stop()
    opened = h.feed(Finding(diag(T0)))
    h.act(incidents.acknowledge, opened[0].incident_id, "U0ONCALL", clock())
    assert h.deliver() == 0
    stub.start()
    assert h.deliver(after=900) == 3  # root, edit, reply
    assert h.deliver(after=900) == 0
    texts = [c.params.get("thread_ts") is None for c in stub.ok_calls("chat.postMessage")]
    assert texts == [True, False]  # the root first, then the reply in its thread


def test_a_burst_of_occurrences_is_one_edit_and_few_statements(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock
) -> None:
    from sqlalchemy import event

    h = Harness(db_engine, settings, client, clock)
    h.feed(Finding(diag(T0)))
    h.deliver()
    findings = [Finding(diag(T0 + timedelta(seconds=10 * i))) for i in range(1, 60)]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with Session(db_engine) as s, s.begin():
        m = IncidentManager(s, site_of=lambda c: "Depot North")
        changes = m.apply(findings)
        m.flush_rows()
        assert len(changes) == 59
        event.listen(db_engine, "before_cursor_execute", count)
        try:
            h.publisher.on_changes(s, changes)
            s.flush()
        finally:
            event.remove(db_engine, "before_cursor_execute", count)
    # Loads, grouped counts and a handful of escalation replies: not one per change.
    replies = sum(1 for c in changes if c.kind == "escalated")
    assert len(statements) <= 8 + 2 * replies, len(statements)
    with Session(db_engine) as s:
        edits = s.scalars(select(SlackOutbox).where(SlackOutbox.method == "chat.update")).all()
    assert len(edits) == 1
