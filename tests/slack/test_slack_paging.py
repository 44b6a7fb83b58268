"""Paging: who an alert mentions, re-notifying when nobody acknowledges, and routing.

Driven end to end: OCPP lines through the Pipeline, the AlertPublisher, the outbox and
the Slack stand-in; clicks are signed requests on the real HTTP route. Time is the
injected clock (FakeClock): the escalator is asked what is due at a given moment, so
nothing sleeps. A "restart" is a new app, worker, publisher and escalator on the same
database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from slack_helpers import serve, with_
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_slack_app import World, _button, boot, faulted

from bot.config import Settings
from bot.incidents.models import Incident
from bot.pipeline import Pipeline
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.escalations import Escalator
from bot.slack.inbound import ocpp_line
from bot.slack.models import SlackEscalation
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import SlackStub
from bot.store.sites import Site, SiteMap

PAGING = """
groups:
  oncall: {usergroup: S0ONCALL}
  leads: {users: [U0LEAD1, U0LEAD2]}
  safety: {usergroup: S0SAFETY}
pages:
  - severity: safety
    mention: safety
    renotify:
      - {after: 5m, mention: [safety, leads]}
  - severity: outage
    mention: oncall
    renotify:
      - {after: 15m, mention: leads}
site_groups:
  harbour: [Harbour West, Harbour East]
routes:
  - {site_group: harbour, channel: C0HARBOUR}
"""
SITES = SiteMap(
    [
        Site("Depot North", chargers=["CP-12", "CP-9"]),
        Site("Harbour West", chargers=["CP-7"]),
    ]
)
ONCALL_GROUP, SAFETY_GROUP, LEADS = "<!subteam^S0ONCALL>", "<!subteam^S0SAFETY>", "<@U0LEAD1>"


def keba_boot(ts: str, charger: str) -> str:
    model = {"chargePointVendor": "KEBA", "chargePointModel": "KC-P30-ES240022-E00"}
    return ocpp_line(ts, charger, "BootNotification", model)


def ground_fault(ts: str, charger: str) -> str:
    """KEBA 8005: residual current. Once is an outage; twice is a safety fault."""
    return ocpp_line(ts, charger, "StatusNotification", {
        "connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted",
        "vendorId": "KEBA", "vendorErrorCode": "8005", "timestamp": ts,
    })


@pytest.fixture
def paged_settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "paging.yaml"
    path.write_text(PAGING)
    return with_(settings, paging_file=path)


@contextmanager
def running(engine: Engine, settings: Settings, stub: SlackStub, client: WebClient,
            clock: Any) -> Iterator[World]:
    """One faultbot process: app, outbox worker, publisher, escalator, pipeline."""
    worker = OutboxWorker(engine, client, clock=clock, sleep=clock.sleep, pace=0)
    app = build_app(settings, engine, client=client, authorize=static_authorize("xoxb-test"),
                    worker=worker, clock=clock)
    pipeline = Pipeline(engine, sites=SITES, listeners=[services_of(app).publisher.on_changes])
    with serve(app) as url:
        yield World(engine, stub, url, app, pipeline)


def escalator(world: World) -> Escalator:
    return services_of(world.app).publisher.escalator  # type: ignore[no-any-return]


def tick(world: World) -> int:
    """One pass of the escalation job at the clock's time, then delivery."""
    fired = escalator(world).run_due()
    services = services_of(world.app)
    services.deliver()
    deadline = time.monotonic() + 5  # a click's own delivery pass may hold the queue
    while services.worker.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
        services.deliver()
    return fired


def roots(stub: SlackStub) -> list[Any]:
    return [c for c in stub.ok_calls("chat.postMessage") if not c.params.get("thread_ts")]


def pages(stub: SlackStub) -> list[Any]:
    return [
        c for c in stub.ok_calls("chat.postMessage")
        if c.params.get("thread_ts") and c.params["text"].startswith(":loudspeaker:")
    ]


def root_message(stub: SlackStub, channel: str = "CALERTS") -> dict[str, Any]:
    (root,) = [c for c in roots(stub) if c.params["channel"] == channel]
    return {"ts": root.response["ts"], "blocks": root.params["blocks"]}


def steps(engine: Engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as s:
        rows = s.scalars(select(SlackEscalation).order_by(SlackEscalation.id)).all()
        return [(r.step, r.status, r.note) for r in rows]


OUTAGE = (
    boot("2026-11-20T07:50:00Z", "CP-12"),
    faulted("2026-11-20T08:00:00Z", "CP-12", "F400", "EMERGENCY_STOP_BUTTON_1"),
)


def test_an_unacknowledged_outage_renotifies_once_at_the_configured_time(
    db_engine: Engine, paged_settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, paged_settings, stub, client, clock) as world:
        world.feed(*OUTAGE)
        (root,) = roots(stub)
        assert root.params["channel"] == "CALERTS"
        assert ONCALL_GROUP in root.params["text"]  # the fallback text notifies
        assert any(ONCALL_GROUP in b.get("text", {}).get("text", "")
                   for b in root.params["blocks"])
        clock.advance(15 * 60 - 1)
        assert tick(world) == 0 and pages(stub) == []
        clock.advance(1)
        assert tick(world) == 1
        (page,) = pages(stub)
        assert page.params["channel"] == "CALERTS"
        assert page.params["thread_ts"] == root.response["ts"]
        assert LEADS in page.params["text"] and "<@U0LEAD2>" in page.params["text"]
        assert "not acknowledged after 15m" in page.params["text"]
        for _ in range(3):
            clock.advance(15 * 60)
            assert tick(world) == 0
        assert len(pages(stub)) == 1
    assert steps(db_engine) == [("outage/1", "sent", None)]


def test_the_renotify_survives_a_restart_and_is_not_repeated_after_one(
    db_engine: Engine, paged_settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, paged_settings, stub, client, clock) as first:
        first.feed(*OUTAGE)
        clock.advance(10 * 60)
        assert tick(first) == 0
    # The process that planned the page is gone; the next one fires it, on time.
    clock.advance(5 * 60)
    with running(db_engine, paged_settings, stub, client, clock) as second:
        assert tick(second) == 1
        assert len(pages(stub)) == 1
    clock.advance(60 * 60)
    with running(db_engine, paged_settings, stub, client, clock) as third:
        third.feed(*OUTAGE)  # a replayed feed after the restart: nothing new is planned
        assert tick(third) == 0
    assert len(pages(stub)) == 1 and len(roots(stub)) == 1
    assert steps(db_engine) == [("outage/1", "sent", None)]


def test_acknowledging_stops_the_renotify(
    db_engine: Engine, paged_settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, paged_settings, stub, client, clock) as world:
        world.feed(*OUTAGE)
        message = root_message(stub)
        clock.advance(5 * 60)
        assert world.click(_button(message, "incident_ack"), user="U0ONCALL",
                           message=message) == 200
        stub.wait_for("chat.update", 1)
        clock.advance(30 * 60)
        assert tick(world) == 0
        assert pages(stub) == []
        # The root says who acknowledged, and no longer pages anyone.
        update = stub.ok_calls("chat.update")[-1]
        assert "Acknowledged by <@U0ONCALL>" in str(update.params["blocks"])
        assert ONCALL_GROUP not in update.params["text"]
    assert steps(db_engine) == [("outage/1", "cancelled", "acknowledged")]


def test_a_safety_fault_pages_at_once_and_again_after_five_minutes(
    db_engine: Engine, paged_settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, paged_settings, stub, client, clock) as world:
        world.feed(keba_boot("2026-11-20T07:50:00Z", "CP-9"),
                   ground_fault("2026-11-20T08:00:00Z", "CP-9"))
        (root,) = roots(stub)
        assert ONCALL_GROUP in root.params["text"]  # once: an outage
        clock.advance(60)
        world.feed(ground_fault("2026-11-20T08:01:00Z", "CP-9"))  # again: safety
        with Session(db_engine) as s:
            assert s.scalars(select(Incident.severity)).one() == "safety"
        assert tick(world) == 1  # at once
        (first,) = pages(stub)
        assert SAFETY_GROUP in first.params["text"] and LEADS not in first.params["text"]
        assert first.params["thread_ts"] == root.response["ts"]
        clock.advance(5 * 60 - 1)
        assert tick(world) == 0
        clock.advance(1)
        assert tick(world) == 1  # and again after 5 minutes
        second = pages(stub)[1]
        assert SAFETY_GROUP in second.params["text"] and LEADS in second.params["text"]
        clock.advance(5 * 60)
        assert tick(world) == 0
        assert len(pages(stub)) == 2
        # The root now pages the safety group (an edit, which does not notify).
        assert SAFETY_GROUP in stub.ok_calls("chat.update")[-1].params["text"]


def test_routing_sends_a_sites_alerts_to_its_channel(
    db_engine: Engine, paged_settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, paged_settings, stub, client, clock) as world:
        world.feed(*OUTAGE, boot("2026-11-20T07:50:00Z", "CP-7"),
                   faulted("2026-11-20T08:00:00Z", "CP-7", "F400", "EMERGENCY_STOP_BUTTON_1"))
        channels = sorted(c.params["channel"] for c in roots(stub))
        assert channels == ["C0HARBOUR", "CALERTS"]
        harbour = root_message(stub, "C0HARBOUR")
        assert "CP-7" in str(harbour["blocks"])
        # Its buttons work where it lives, and its page goes to its own thread.
        assert world.click(_button(harbour, "incident_why"), user="U0ONCALL",
                           message=harbour, channel="C0HARBOUR") == 200
        clock.advance(15 * 60)
        assert tick(world) == 2
        by_channel = {c.params["channel"]: c.params["thread_ts"] for c in pages(stub)}
        assert by_channel["C0HARBOUR"] == harbour["ts"]
        assert by_channel["CALERTS"] == root_message(stub)["ts"]


def test_without_a_paging_file_nobody_is_mentioned_and_nothing_is_planned(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with running(db_engine, settings, stub, client, clock) as world:
        world.feed(*OUTAGE)
        (root,) = roots(stub)
        assert "<!subteam" not in root.params["text"]
        clock.advance(3600)
        assert tick(world) == 0
    assert steps(db_engine) == []
