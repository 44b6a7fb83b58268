"""Automatic first aid: deterministic rules from knowledge/first_aid.yaml, off unless
FAULTBOT_FIRST_AID says dry-run (only record and post what it would do) or live.

A rule names a category, the action, how long the port must still be faulted after
the incident opened, and optionally that it must be the first such fault on the port
for a while. First aid never acts on a safety fault (the policy refuses safety
categories, the runner skips safety incidents), and every action it takes passes the
same limits as a person's (one reset per port per hour, never a reset for a repeated
safety fault). Each rule acts at most once per incident (its request key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.actions.channels import Channels
from bot.actions.kinds import Kind, kind_of
from bot.actions.models import RemoteAction
from bot.actions.outcomes import DEFAULT_WINDOW
from bot.actions.perform import request_action
from bot.incidents.models import Incident
from bot.kb.loader import Problem
from bot.vocab import Category

WHO = "first-aid"
SAFETY_CATEGORIES = frozenset({
    "emergency_stop", "ground_fault", "isolation_fault", "overcurrent", "over_voltage",
    "high_temperature", "door_or_tamper", "surge_protection",
})
RULE_KEYS = frozenset({"id", "category", "action", "after_minutes", "first_on_port_hours"})
TOP_KEYS = frozenset({"fixed_within_minutes", "rules"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    action: Kind
    after: timedelta
    first_on_port: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    fixed_within: timedelta = DEFAULT_WINDOW


class PolicyError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def default_path() -> Path:
    from bot.kb.loader import default_root

    return default_root() / "first_aid.yaml"


def _lines(text: str) -> list[int]:
    """The line of each rule in the file, for problems that say where."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _minutes(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def parse_policy(text: str, name: str = "first_aid.yaml") -> tuple[Policy, list[Problem]]:
    """The policy and every problem in it (file:line: problem)."""
    problems: list[Problem] = []
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        return Policy(), [Problem(name, line, f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return Policy(), [Problem(name, 1, "expected a mapping with `rules`")]
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(Problem(name, 1, f"unknown key {key!r}"))
    window = _minutes(data.get("fixed_within_minutes", DEFAULT_WINDOW.total_seconds() / 60))
    if not window:
        problems.append(Problem(name, 1, "fixed_within_minutes must be a positive number"))
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        return Policy(), [*problems, Problem(name, 1, "rules must be a list")]
    lines = _lines(text)
    rules: list[Rule] = []
    seen: set[str] = set()
    categories = {c.value for c in Category}
    for n, raw in enumerate(raw_rules):
        line = lines[n] if n < len(lines) else 1
        where = len(problems)
        if not isinstance(raw, dict):
            problems.append(Problem(name, line, "a rule must be a mapping"))
            continue
        for key in sorted(set(raw) - RULE_KEYS):
            problems.append(Problem(name, line, f"unknown key {key!r} in a rule"))
        rule_id = str(raw.get("id") or "")
        if not rule_id:
            problems.append(Problem(name, line, "a rule needs an id"))
        elif rule_id in seen:
            problems.append(Problem(name, line, f"duplicate rule id {rule_id!r}"))
        seen.add(rule_id)
        category = str(raw.get("category") or "")
        if category not in categories:
            problems.append(Problem(name, line, f"unknown category {category!r}"))
        elif category in SAFETY_CATEGORIES:
            problems.append(Problem(name, line,
                                    f"first aid never acts on a safety category ({category})"))
        kind = kind_of(raw.get("action"))
        if kind is None:
            problems.append(Problem(name, line, f"unknown action {raw.get('action')!r} "
                                    f"(one of {', '.join(k.value for k in Kind)})"))
        after = _minutes(raw.get("after_minutes", 0))
        if after is None:
            problems.append(Problem(name, line, "after_minutes must be a number >= 0"))
        first = raw.get("first_on_port_hours")
        first_hours = None if first is None else _minutes(first)
        if first is not None and not first_hours:
            problems.append(Problem(name, line, "first_on_port_hours must be a positive number"))
        if len(problems) == where and kind is not None and after is not None:
            rules.append(Rule(rule_id, category, kind, timedelta(minutes=after),
                              timedelta(hours=first_hours) if first_hours else None))
    return Policy(tuple(rules), timedelta(minutes=window or 15)), problems


def lint_policy(path: Path) -> list[Problem]:
    if not path.is_file():
        return []
    return parse_policy(path.read_text(encoding="utf-8"), path.name)[1]


def load_policy(path: Path | None = None) -> Policy:
    path = path or default_path()
    if not path.is_file():
        return Policy()
    policy, problems = parse_policy(path.read_text(encoding="utf-8"), path.name)
    if problems:
        raise PolicyError(problems)
    return policy


def _earlier_on_port(session: Session, incident: Incident, since: datetime) -> bool:
    return bool(session.scalar(
        select(func.count()).select_from(Incident).where(
            Incident.id != incident.id, Incident.charger == incident.charger,
            Incident.connector == incident.connector, Incident.category == incident.category,
            Incident.opened_at >= since, Incident.opened_at < incident.opened_at,
        )
    ))


def due(session: Session, policy: Policy, now: datetime) -> list[tuple[Rule, int]]:
    """(rule, incident id) pairs whose time has come and that have not acted yet."""
    categories = {r.category for r in policy.rules}
    if not categories:
        return []
    incidents = session.scalars(
        select(Incident).where(
            Incident.resolved_at.is_(None), Incident.suppressed.is_(False),
            Incident.charger.is_not(None), Incident.category.in_(categories),
            Incident.severity != "safety",
        ).order_by(Incident.id)
    ).all()
    found: list[tuple[Rule, int]] = []
    for incident in incidents:
        if incident.recovering_since is not None:
            continue  # the port is already back: nothing to aid
        for rule in policy.rules:
            if rule.category != incident.category or incident.opened_at + rule.after > now:
                continue
            if rule.first_on_port is not None and _earlier_on_port(
                session, incident, incident.opened_at - rule.first_on_port
            ):
                continue
            key = request_key(rule, incident.id)
            done = session.scalar(select(RemoteAction.id).where(RemoteAction.request_key == key))
            if done is None:
                found.append((rule, incident.id))
    return found


def request_key(rule: Rule, incident_id: int) -> str:
    return f"first-aid:{incident_id}:{rule.id}"


def run_first_aid(
    engine: Engine, policy: Policy, channels: Channels, now: datetime, *, mode: str
) -> list[tuple[Rule, RemoteAction]]:
    """Act (or, in dry-run, record what it would do) for every due rule."""
    if mode not in ("dry-run", "live"):
        return []
    with Session(engine) as s:
        todo = due(s, policy, now)
    done: list[tuple[Rule, RemoteAction]] = []
    for rule, incident_id in todo:
        row = request_action(engine, incident_id, rule.action, WHO, channels, now,
                             request_key(rule, incident_id), dry_run=mode == "dry-run")
        if row is not None:
            done.append((rule, row))
    return done


def describe(policy: Policy) -> list[dict[str, Any]]:
    return [{"id": r.id, "category": r.category, "action": r.action.value} for r in policy.rules]
