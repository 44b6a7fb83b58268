"""Flapping, recurrence and recovery have one definition (bot.triage.policy.FaultPolicy),
and the pipeline hands the same object to triage and to the incident stage."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_pipeline_flow import T0, boot, feed, heartbeat, status

from bot.incidents.models import Incident
from bot.pipeline import Pipeline
from bot.triage.config import TriageConfig
from bot.triage.policy import DEFAULT_POLICY, FaultPolicy


def test_triage_and_incidents_read_the_same_policy_object(db_engine: Engine) -> None:
    policy = FaultPolicy(hold_down_s=120.0)
    pipe = Pipeline(db_engine, triage_config=TriageConfig(policy=policy))
    assert pipe.policy is policy
    assert pipe.triage.cfg.policy is policy


def test_default_policy_is_the_documented_one(db_engine: Engine) -> None:
    pipe = Pipeline(db_engine)
    assert pipe.policy is DEFAULT_POLICY and pipe.triage.cfg.policy is DEFAULT_POLICY
    assert DEFAULT_POLICY.hold_down == timedelta(minutes=10)


def test_hold_down_shorthand_changes_the_shared_policy_only(db_engine: Engine) -> None:
    pipe = Pipeline(db_engine, hold_down=timedelta(minutes=2))
    assert pipe.policy == replace(DEFAULT_POLICY, hold_down_s=120.0)
    assert pipe.triage.cfg.policy is pipe.policy


def _recovered_after(db_engine: Engine, policy: FaultPolicy) -> Incident:
    pipe = Pipeline(db_engine, triage_config=TriageConfig(policy=policy))
    # fault at 5, healthy at 6, the feed clock reaches 10 (4 min after recovery)
    feed(pipe, [boot(0), status(0.1, "Available"),
                status(5, "Faulted", error="PowerSwitchFailure"),
                status(6, "Available"), heartbeat(10)])
    with Session(db_engine) as s:
        return s.scalars(select(Incident)).one()


def test_the_incident_stage_resolves_by_the_pipelines_hold_down(db_engine: Engine) -> None:
    inc = _recovered_after(db_engine, FaultPolicy(hold_down_s=180.0))
    # 3 min hold-down: over by minute 9; resolved_at is the moment it recovered
    assert inc.resolved_at == T0 + timedelta(minutes=6)


def test_the_default_hold_down_keeps_the_same_feed_open(db_engine: Engine) -> None:
    inc = _recovered_after(db_engine, DEFAULT_POLICY)
    assert inc.resolved_at is None  # 10 min hold-down: still recovering at minute 10
    assert inc.recovering_since is not None


def _flapped_twice(db_engine: Engine, policy: FaultPolicy) -> Incident:
    pipe = Pipeline(db_engine, triage_config=TriageConfig(policy=policy))
    # three faults, each back within a minute (inside the hold-down): two flaps of one
    # incident; three cycles stay below triage's own flapping threshold (4)
    lines = [boot(0), status(0.1, "Available")]
    for k in range(3):
        lines += [status(5 + 2 * k, "Faulted", error="PowerSwitchFailure"),
                  status(6 + 2 * k, "Available")]
    feed(pipe, lines)
    with Session(db_engine) as s:
        return s.scalars(select(Incident)).one()


def test_the_incident_stage_escalates_flapping_by_the_pipelines_policy(db_engine: Engine) -> None:
    inc = _flapped_twice(db_engine, replace(DEFAULT_POLICY, flaps_to_escalate=2))
    assert (inc.flaps, inc.flapping) == (2, True)


def test_the_default_policy_does_not_call_two_flaps_flapping(db_engine: Engine) -> None:
    inc = _flapped_twice(db_engine, DEFAULT_POLICY)
    assert (inc.flaps, inc.flapping) == (2, False)
