"""The paging policy (FAULTBOT_PAGING): whom an alert mentions, whom it re-notifies when
nobody acknowledges, and which channel it goes to.

    groups:                        # names for the targets below
      oncall: {usergroup: S0ONCALL}
      leads: {users: [U0LEAD1, U0LEAD2]}
    pages:                         # first match wins; a key left out matches anything
      - severity: safety           # severity, category, owner: one value or a list
        mention: safety            # mentioned in the alert root (pages at once)
        renotify:                  # thread replies while nobody acknowledged
          - {after: 5m, mention: safety}
      - severity: outage
        mention: oncall
        renotify: [{after: 15m, mention: leads}]
    site_groups:
      berlin: [Depot North, Depot South]
    routes:                        # first match wins; else FAULTBOT_ALERT_CHANNEL
      - {site: Depot North, channel: C0DEPOT}
      - {site_group: berlin, channel: C0BERLIN}
      - {owner: vendor_service, channel: C0VENDOR}

Mentions are built only from ids checked here, through bot.slack.escape, never from
incident or vendor text. A bad file raises PagingError naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.slack.escape import Mrkdwn, user_mention, usergroup_mention
from bot.vocab import Category, Owner, Severity

_DURATION = re.compile(r"^(\d{1,5})\s*([smh])$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_USERGROUP = re.compile(r"^S[A-Z0-9]{2,20}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,20}$")
_UNITS = {"s": 1, "m": 60, "h": 3600}


class PagingError(ValueError):
    """A paging file that cannot be used; str() names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Target:
    """People to mention: Slack user groups and users, ids only."""

    name: str
    usergroups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def mention(self) -> Mrkdwn:
        parts = [usergroup_mention(g) for g in self.usergroups]
        parts += [user_mention(u) for u in self.users]
        return Mrkdwn(" ".join(parts))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "usergroups": list(self.usergroups), "users": list(self.users)}

    @classmethod
    def from_json(cls, data: Any) -> Target:
        """From a stored escalation row; ids are re-checked, anything else is dropped."""
        data = data if isinstance(data, dict) else {}
        groups = [g for g in data.get("usergroups") or [] if isinstance(g, str)]
        users = [u for u in data.get("users") or [] if isinstance(u, str)]
        return cls(
            str(data.get("name") or ""),
            tuple(g for g in groups if _USERGROUP.match(g)),
            tuple(u for u in users if _USER.match(u)),
        )


@dataclass(frozen=True, slots=True)
class Step:
    after: timedelta
    target: Target


@dataclass(frozen=True, slots=True)
class PageRule:
    number: int  # 1-based, as listed
    severity: frozenset[str] | None
    category: frozenset[str] | None
    owner: frozenset[str] | None
    target: Target | None
    steps: tuple[Step, ...]

    def matches(self, severity: str, category: str, owner: str) -> bool:
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.severity, severity),
                (self.category, category),
                (self.owner, owner),
            )
        )


@dataclass(frozen=True, slots=True)
class Route:
    number: int
    channel: str
    site: str | None = None
    site_group: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class PagingPolicy:
    rules: tuple[PageRule, ...] = ()
    routes: tuple[Route, ...] = ()
    site_groups: Mapping[str, frozenset[str]] | None = None
    source: str = ""

    def rule_for(self, severity: str, category: str, owner: str) -> PageRule | None:
        return next((r for r in self.rules if r.matches(severity, category, owner)), None)

    def channel_for(self, site: str, owner: str, default: str | None) -> str | None:
        groups = self.site_groups or {}
        for route in self.routes:
            if route.site is not None and route.site != site:
                continue
            if route.site_group is not None and site not in groups.get(route.site_group, ()):
                continue
            if route.owner is not None and route.owner != owner:
                continue
            return route.channel
        return default


NO_PAGING = PagingPolicy()


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# --- loading ------------------------------------------------------------------------


def load_paging(path: Path | None) -> PagingPolicy:
    """The policy in `path`; no file: nobody is mentioned and every alert goes to the
    alert channel."""
    if path is None:
        return NO_PAGING
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PagingError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PagingError(f"{path}: not YAML: {exc}") from None
    return parse_paging(data, str(path))


def parse_paging(data: Any, source: str = "paging") -> PagingPolicy:
    if data is None:
        return PagingPolicy(source=source)
    top = _mapping(f"{source}: the file", data, {"groups", "pages", "routes", "site_groups"})
    groups = {
        name: _target(f"{source}: groups.{name}", name, value)
        for name, value in _mapping(f"{source}: groups", top.get("groups") or {}).items()
    }
    site_groups = {
        str(name): frozenset(_names(f"{source}: site_groups.{name}", value))
        for name, value in _mapping(f"{source}: site_groups", top.get("site_groups") or {}).items()
    }
    rules = tuple(
        _rule(f"{source}: pages[{n}]", n, item, groups)
        for n, item in enumerate(_list(f"{source}: pages", top.get("pages")), start=1)
    )
    routes = tuple(
        _route(f"{source}: routes[{n}]", n, item, site_groups)
        for n, item in enumerate(_list(f"{source}: routes", top.get("routes")), start=1)
    )
    return PagingPolicy(rules, routes, site_groups, source)


def _mapping(where: str, value: Any, keys: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PagingError(f"{where}: expected a mapping")
    if keys is not None:
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise PagingError(
                f"{where}: unknown key {unknown[0]!r} (expected {', '.join(sorted(keys))})"
            )
    return {str(k): v for k, v in value.items()}


def _list(where: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PagingError(f"{where}: expected a list")
    return value


def _names(where: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise PagingError(f"{where}: expected a name or a list of names")
    return [i.strip() for i in items]


def _target(where: str, name: str, value: Any) -> Target:
    if not isinstance(value, dict) or not value:
        raise PagingError(f"{where}: expected usergroup and/or users")
    unknown = sorted(str(k) for k in value if k not in ("usergroup", "usergroups", "users"))
    if unknown:
        raise PagingError(f"{where}: unknown key {unknown[0]!r} (expected usergroup, users)")
    raw_groups = value.get("usergroup") or value.get("usergroups")
    groups = _names(where, raw_groups) if raw_groups else []
    users = _names(where, value["users"]) if value.get("users") else []
    for group in groups:
        if not _USERGROUP.match(group):
            raise PagingError(f"{where}: {group!r} is not a Slack user group id (S…)")
    for user in users:
        if not _USER.match(user):
            raise PagingError(f"{where}: {user!r} is not a Slack user id (U…)")
    if not groups and not users:
        raise PagingError(f"{where}: expected usergroup and/or users")
    return Target(name, tuple(groups), tuple(users))


def _mention(where: str, value: Any, groups: Mapping[str, Target]) -> Target:
    names = _names(where, value)
    missing = [n for n in names if n not in groups]
    if missing:
        known = ", ".join(sorted(groups)) or "none defined"
        raise PagingError(f"{where}: no group named {missing[0]!r} (groups: {known})")
    found = [groups[n] for n in names]
    return Target(
        "+".join(names),
        tuple(dict.fromkeys(g for t in found for g in t.usergroups)),
        tuple(dict.fromkeys(u for t in found for u in t.users)),
    )


def _vocab(where: str, value: Any, allowed: Iterable[str]) -> frozenset[str] | None:
    if value is None:
        return None
    allowed = list(allowed)
    names = _names(where, value)
    for name in names:
        if name not in allowed:
            raise PagingError(f"{where}: {name!r} is not one of {', '.join(allowed)}")
    return frozenset(names)


def _duration(where: str, value: Any) -> timedelta:
    if value == 0 or value == "0":
        return timedelta(0)
    m = _DURATION.match(str(value).strip())
    if not m or isinstance(value, bool):
        raise PagingError(f"{where}: expected a duration like 90s, 5m or 1h, got {value!r}")
    return timedelta(seconds=int(m[1]) * _UNITS[m[2]])


def _rule(where: str, n: int, item: Any, groups: Mapping[str, Target]) -> PageRule:
    d = _mapping(where, item, {"severity", "category", "owner", "mention", "renotify"})
    steps: list[Step] = []
    for k, raw in enumerate(_list(f"{where}.renotify", d.get("renotify")), start=1):
        at = f"{where}.renotify[{k}]"
        step = _mapping(at, raw, {"after", "mention"})
        if "after" not in step or "mention" not in step:
            raise PagingError(f"{at}: needs both after and mention")
        after = _duration(f"{at}.after", step["after"])
        if steps and after <= steps[-1].after:
            raise PagingError(f"{at}.after: steps must come later and later")
        steps.append(Step(after, _mention(f"{at}.mention", step["mention"], groups)))
    target = _mention(f"{where}.mention", d["mention"], groups) if d.get("mention") else None
    if target is None and not steps:
        raise PagingError(f"{where}: needs a mention or renotify steps")
    return PageRule(
        n,
        _vocab(f"{where}.severity", d.get("severity"), (s.value for s in Severity)),
        _vocab(f"{where}.category", d.get("category"), (c.value for c in Category)),
        _vocab(f"{where}.owner", d.get("owner"), (o.value for o in Owner)),
        target,
        tuple(steps),
    )


def _route(where: str, n: int, item: Any, site_groups: Mapping[str, frozenset[str]]) -> Route:
    d = _mapping(where, item, {"site", "site_group", "owner", "channel"})
    channel = str(d.get("channel") or "")
    if not _CHANNEL.match(channel):
        raise PagingError(f"{where}.channel: expected a channel id like C0123ABCD")
    if not any(d.get(k) for k in ("site", "site_group", "owner")):
        raise PagingError(f"{where}: needs a site, site_group or owner")
    group = d.get("site_group")
    if group is not None and str(group) not in site_groups:
        known = ", ".join(sorted(site_groups)) or "none defined"
        raise PagingError(
            f"{where}.site_group: no site group named {group!r} (site_groups: {known})"
        )
    owner = d.get("owner")
    if owner is not None:
        _vocab(f"{where}.owner", owner, (o.value for o in Owner))
    return Route(
        n,
        channel,
        site=str(d["site"]) if d.get("site") else None,
        site_group=str(group) if group is not None else None,
        owner=str(owner) if owner is not None else None,
    )
