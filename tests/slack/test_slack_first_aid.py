"""Automatic first aid and the limits every remote action passes, against the Slack
stand-in and a CitrineOS stand-in that follows CitrineOS's HTTP message API (each
request body is validated against the OCPP schema of its action)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from citrineos_standin import CitrineStandIn, Sent
from click.testing import CliRunner
from slack_helpers import make_incident
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.actions.channels import Channels, CitrineChannel
from bot.actions.first_aid import Policy, Rule, load_policy, parse_policy, run_first_aid
from bot.actions.kinds import Kind, ocpp_call
from bot.actions.models import RemoteAction
from bot.actions.perform import request_action
from bot.actions.wiring import stored_versions
from bot.answers.render import render_why as render_why_text
from bot.answers.why import why
from bot.cli.main import cli
from bot.config import Settings
from bot.digest.build import build_digest
from bot.digest.render import render_digest
from bot.incidents.models import Incident
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.slack.actions_first_aid import FirstAidJob
from bot.slack.actions_thread import ActionOffers
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.inbound import ocpp_line
from bot.slack.outbox import OutboxWorker
from bot.slack.render.answers import render_why
from bot.slack.render.digest import digest_blocks
from bot.slack.stub import SlackStub

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CP = "CP-FA"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat().replace("+00:00", "Z")


def status(minutes: float, error: str, state: str) -> str:
    return ocpp_line(iso(minutes), CP, "StatusNotification", {
        "connectorId": 1, "errorCode": error, "status": state, "timestamp": iso(minutes)})


@dataclass
class World:
    engine: Engine
    stub: SlackStub
    citrine: CitrineStandIn
    clock: Any
    pipeline: Pipeline
    job: FirstAidJob
    app: Any
    channels: Channels

    def feed(self, *lines: str) -> None:
        self.pipeline.process(read_lines(list(lines), source="test"))
        self.deliver()

    def deliver(self) -> None:
        services_of(self.app).deliver()

    def first_aid(self, minutes: float) -> int:
        self.clock.now = at(minutes)
        done = self.job.run_once()
        self.deliver()
        return done

    def actions(self) -> list[RemoteAction]:
        with Session(self.engine) as s:
            return list(s.scalars(select(RemoteAction).order_by(RemoteAction.id)))

    def thread(self) -> list[str]:
        root = self.root_ts()
        return [str(c.params.get("text")) for c in self.stub.ok_calls("chat.postMessage")
                if c.params.get("thread_ts") == root]

    def root_ts(self) -> str:
        (root,) = [c for c in self.stub.ok_calls("chat.postMessage")
                   if c.params["channel"] == "CALERTS" and not c.params.get("thread_ts")]
        return str(root.response["ts"])


@contextmanager
def first_aid_world(
    engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any,
    mode: str, policy: Policy | None = None,
) -> Iterator[World]:
    settings = replace(settings, first_aid=mode)
    with CitrineStandIn() as citrine:
        channels = Channels(CitrineChannel(citrine.url, "7", versions=stored_versions(engine)))
        worker = OutboxWorker(engine, client, clock=clock, sleep=clock.sleep, pace=0)
        app = build_app(settings, engine, client=client, authorize=static_authorize("xoxb-test"),
                        worker=worker, clock=clock, remote=channels)
        offers = ActionOffers(settings, lambda: channels, clock=clock)
        pipeline = Pipeline(engine, listeners=[services_of(app).publisher.on_changes,
                                               offers.on_changes])
        job = FirstAidJob(engine, settings, lambda: channels, policy or load_policy(),
                          clock=clock)
        clock.now = at(0)
        world = World(engine, stub, citrine, clock, pipeline, job, app, channels)
        world.feed(
            ocpp_line(iso(-10), CP, "BootNotification",
                      {"chargePointVendor": "Acme", "chargePointModel": "MaxiChargerAC"}),
            status(0, "InternalError", "Faulted"),
        )
        yield world


def test_first_aid_is_off_by_default(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    assert Settings().first_aid == "off"
    with first_aid_world(db_engine, settings, stub, client, clock, "off") as w:
        assert w.first_aid(30) == 0
        assert w.actions() == [] and w.citrine.calls == []


def test_first_aid_dry_run_only_posts_what_it_would_do(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with first_aid_world(db_engine, settings, stub, client, clock, "dry-run") as w:
        assert w.first_aid(2.9) == 0  # not yet faulted for 3 minutes
        assert w.first_aid(3) == 1
        assert w.first_aid(4) == 0  # once per incident and rule
        (row,) = w.actions()
        assert (row.kind, row.status, row.requested_by) == ("soft_reset", "dry_run", "first-aid")
        assert w.citrine.calls == []  # nothing was sent
        (line,) = [t for t in w.thread() if "First aid" in t]
        assert "dry run" in line and "would have asked for a soft reset of" in line
        assert "first-internal-error-soft-reset" in line


def test_first_aid_live_resets_once_through_citrineos_and_learns_it_worked(
    db_engine: Engine, db_url: str, settings: Settings, stub: SlackStub, client: WebClient,
    clock: Any,
) -> None:
    with first_aid_world(db_engine, settings, stub, client, clock, "live") as w:
        assert w.first_aid(3) == 1
        assert w.first_aid(3.5) == 0
        assert w.citrine.calls == [Sent("1.6", "Reset", [CP], 7, {"type": "Soft"})]
        (row,) = w.actions()
        assert (row.status, row.via) == ("sent", "citrineos")
        (line,) = [t for t in w.thread() if "First aid" in t]
        assert "asked for a soft reset" in line and "CitrineOS" in line
        clock.now = at(5)
        w.feed(status(5, "NoError", "Available"))  # back up 2 minutes after the reset
        (row,) = w.actions()
        assert (row.outcome, row.outcome_at) == ("fixed", at(5))
        assert any("worked" in t for t in w.thread())
        learned_from(w, db_url)


def learned_from(w: World, db_url: str) -> None:
    """The fix is counted where people look: the why-answer next to its advice, the
    digest (text and Slack), and `faultbot kb outcomes`."""
    said = "fixed 1 of 1 internal error fault on MaxiChargerAC"
    # A new InternalError on the port: its why-answer quotes what worked before.
    w.clock.now = at(90)
    w.feed(status(90, "InternalError", "Faulted"))
    with Session(w.engine) as s:
        answer = why(s, CP, 1, at(91))
        slack_text = json.dumps(render_why(answer, ZoneInfo("UTC")).blocks)
        terminal = render_why_text(answer)
        digest = build_digest(s, at(0).date(), ZoneInfo("UTC"), None, at(24 * 60))
        before = build_digest(s, (at(0) - timedelta(days=1)).date(), ZoneInfo("UTC"), None,
                              at(24 * 60))
    assert f"Soft reset {said}" in slack_text and "What worked before" in slack_text
    assert f"soft reset {said}" in terminal
    assert [(f.kind, f.fixed, f.total) for f in digest.fixes] == [("soft_reset", 1, 1)]
    assert before.fixes == []  # a past day's digest does not count later fixes
    assert f"soft reset {said}" in render_digest(digest)
    assert f"Soft reset {said}" in json.dumps(digest_blocks(digest, ZoneInfo("UTC")))
    result = CliRunner().invoke(cli, ["kb", "outcomes", "--days", "0", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert f"100%  soft reset {said}" in result.output
    result = CliRunner().invoke(cli, ["kb", "outcomes", "--days", "0", "--json",
                                      "--database-url", db_url])
    assert json.loads(result.output) == {"model": "MaxiChargerAC", "category": "internal_error",
                                         "action": "soft_reset", "fixed": 1, "total": 1}


def test_one_reset_per_port_per_hour_for_people_and_first_aid_alike(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    policy = Policy((Rule("again", "internal_error", Kind.SOFT_RESET, timedelta(minutes=3)),
                     Rule("hard", "internal_error", Kind.HARD_RESET, timedelta(minutes=20))))
    with first_aid_world(db_engine, settings, stub, client, clock, "live", policy) as w:
        assert w.first_aid(3) == 1
        incident_id = w.actions()[0].incident_id
        assert incident_id is not None
        # A person, 20 minutes later: refused, and so is first aid's own second rule.
        manual = request_action(w.engine, incident_id, Kind.HARD_RESET, "U0ONCALL", w.channels,
                                at(23), "slack:V1")
        assert manual is not None and (manual.status, manual.reason) == ("refused", "rate_limited")
        assert w.first_aid(24) == 1
        assert [(a.kind, a.status, a.reason) for a in w.actions()] == [
            ("soft_reset", "sent", None), ("hard_reset", "refused", "rate_limited"),
            ("hard_reset", "refused", "rate_limited")]
        assert len(w.citrine.calls) == 1
        assert any("already reset in the last hour" in t for t in w.thread())
        # Other actions are not limited; and after the hour a reset may go again.
        status_refresh = request_action(w.engine, incident_id, Kind.TRIGGER_STATUS, "U0ONCALL",
                                        w.channels, at(25), "slack:V2")
        assert status_refresh is not None and status_refresh.status == "sent"
        later = request_action(w.engine, incident_id, Kind.SOFT_RESET, "U0ONCALL", w.channels,
                               at(64), "slack:V3")
        assert later is not None and later.status == "sent"
        assert [c.action for c in w.citrine.calls] == ["Reset", "TriggerMessage", "Reset"]


def test_never_a_reset_for_a_repeated_safety_fault(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with CitrineStandIn() as citrine:
        channels = Channels(CitrineChannel(citrine.url, "1"))
        with Session(db_engine) as s, s.begin():
            inc = make_incident(s, charger="CP-S", category="ground_fault", severity="safety",
                                action="Reset the charger remotely; if it comes back, call an "
                                       "electrician.", occurrences=2, at=T0)
            once = make_incident(s, charger="CP-T", category="ground_fault", severity="safety",
                                 open_key="port|x|CP-T|1|ground_fault",
                                 action="Reset the charger remotely.", at=T0)
            ids = inc.id, once.id
        refused = request_action(db_engine, ids[0], Kind.SOFT_RESET, "UADMIN", channels, at(1),
                                 "slack:V1")
        assert refused is not None and (refused.status, refused.reason) == (
            "refused", "repeated_safety")
        allowed = request_action(db_engine, ids[1], Kind.SOFT_RESET, "UADMIN", channels, at(1),
                                 "slack:V2")
        assert allowed is not None and allowed.status == "sent"  # the first time, a person may
        # First aid never acts on a safety fault, even with a rule that names it.
        risky = Policy((Rule("risky", "ground_fault", Kind.SOFT_RESET, timedelta(0)),))
        assert run_first_aid(db_engine, risky, channels, at(30), mode="live") == []
        assert [c.identifier for c in citrine.calls] == [["CP-T"]]
    _, problems = parse_policy("rules:\n  - id: risky\n    category: ground_fault\n"
                               "    action: soft_reset\n")
    assert [(p.line, "safety category" in p.message) for p in problems] == [(2, True)]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_every_action_follows_citrineos_routes_and_ocpp_schemas(
    version: str, db_engine: Engine
) -> None:
    with CitrineStandIn() as citrine:
        channel = CitrineChannel(citrine.url, "3", versions=lambda charger: version)
        for kind in Kind:
            action, payload = ocpp_call(kind, version, 2)
            assert channel.send("CP/1 x", action, payload).status == "sent", (kind, payload)
        assert [(c.version, c.identifier, c.tenant) for c in citrine.calls] == [
            (version, ["CP/1 x"], 3)] * len(Kind)
        citrine.refuse = True  # CitrineOS cannot reach the station
        assert channel.send("CP-1", *ocpp_call(Kind.SOFT_RESET, version, 0)).status == "rejected"
        # A body that breaks the OCPP schema is refused with 400, never "sent".
        bad = {"type": "Soft"} if version == "2.0.1" else {"type": "Immediate"}
        assert channel.send("CP-1", "Reset", bad).status == "failed"
    down = CitrineChannel(citrine.url, "3")  # the stand-in has stopped
    assert down.send("CP-1", "Reset", {"type": "Soft"}).status == "failed"


def test_the_policy_file_is_linted_like_the_knowledge_base() -> None:
    assert load_policy().rules  # the bundled policy loads cleanly
    text = ("fixed_within_minutes: 0\nextra: 1\nrules:\n"
            "  - id: a\n    category: internal_error\n    action: soft_reset\n"
            "  - id: a\n    category: nonsense\n    action: explode\n    after_minutes: -1\n"
            "    colour: red\n")
    _, problems = parse_policy(text)
    got = [(p.line, p.message) for p in problems]
    assert (1, "unknown key 'extra'") in got
    assert (1, "fixed_within_minutes must be a positive number") in got
    assert {line for line, _ in got if line != 1} == {7}
    messages = " | ".join(m for _, m in got)
    for bit in ("duplicate rule id", "unknown category 'nonsense'", "unknown action 'explode'",
                "after_minutes", "unknown key 'colour'"):
        assert bit in messages, messages


def test_dry_run_reports_the_limits_it_would_meet(
    db_engine: Engine, settings: Settings, stub: SlackStub, client: WebClient, clock: Any
) -> None:
    with first_aid_world(db_engine, settings, stub, client, clock, "dry-run") as w:
        with Session(w.engine) as s:
            incident_id = s.scalars(select(Incident.id)).one()
        manual = request_action(w.engine, incident_id, Kind.SOFT_RESET, "U0ONCALL", w.channels,
                                at(1), "slack:V1")
        assert manual is not None and manual.status == "sent"
        assert w.first_aid(3) == 1
        assert [(a.requested_by, a.status, a.reason) for a in w.actions()] == [
            ("U0ONCALL", "sent", None), ("first-aid", "refused", "rate_limited")]
        (line,) = [t for t in w.thread() if "First aid" in t]
        assert "dry run" in line and "already reset in the last hour" in line
        assert len(w.citrine.calls) == 1  # only the person's reset went out
        # A safety fault is never first aid's, in dry-run either.
        with Session(w.engine) as s, s.begin():
            make_incident(s, charger="CP-S", category="internal_error", severity="safety",
                          action="Send a soft reset.", at=T0)
        assert run_first_aid(w.engine, load_policy(), w.channels, at(30), mode="dry-run") == []
