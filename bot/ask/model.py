"""What a question was understood to be: the kind, its target and its time window.

`Command` is what the Slack handlers, `faultbot ask` and the answering code pass
around; it round-trips through JSON (button values, message metadata, --json).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Literal, get_args

Kind = Literal[
    "why", "site", "code", "digest", "unknown_codes", "teach", "help", "unknown", "clarify"
]
KINDS: frozenset[str] = frozenset(get_args(Kind))
_MAX_FIELD = 200  # a value from a button or metadata is never longer than this


@dataclass(frozen=True, slots=True)
class TimeRef:
    """A time phrase as typed; turned into a window at answer time (bot.ask.when), so
    the same words mean the same hours for the log's clock and the site's zone."""

    key: str  # last_night, this_morning, yesterday, today, weekday, date, last_hours, ...
    word: str  # what was typed, for the answer's wording
    day: date | None = None  # key == "date"
    weekday: int | None = None  # key == "weekday": Monday = 0
    hours: int | None = None  # key == "last_hours"


@dataclass(frozen=True, slots=True)
class Option:
    """One reading offered back when a question is ambiguous."""

    kind: Literal["charger", "site"]
    name: str


@dataclass(frozen=True, slots=True)
class Command:
    kind: Kind
    charger: str | None = None
    connector: int | None = None
    site: str | None = None
    code: str | None = None
    vendor: str | None = None
    model: str | None = None
    day: date | None = None
    word: str | None = None  # the day word ("today", "yesterday", or what was mistyped)
    suggestion: str | None = None  # "did you mean" for a mistyped subcommand
    problem: str | None = None  # no_charger, no_site, no_code, bad_date (templates word it)
    when: TimeRef | None = None
    options: tuple[Option, ...] = field(default=())  # kind == "clarify": the readings
    intent: str | None = None  # clarify: what would be answered once a reading is chosen
    raw: str = ""

    @property
    def has_target(self) -> bool:
        return bool(self.charger or self.site or self.code)

    def choose(self, option: Option) -> Command:
        """The command once the person picked one of the offered readings."""
        if option.kind == "charger":
            return replace(self, kind="why", charger=option.name, site=None, options=())
        return replace(self, kind="site", site=option.name, charger=None, connector=None,
                       options=())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["day"] = self.day.isoformat() if self.day else None
        if self.when is not None:
            data["when"]["day"] = self.when.day.isoformat() if self.when.day else None
        return {k: v for k, v in data.items() if v not in (None, (), [], "")}

    @classmethod
    def from_dict(cls, data: Any) -> Command | None:
        """From JSON we wrote earlier (a button value, message metadata); None when it
        is not one of ours or does not make sense."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            return None
        try:
            when = _time_ref(data.get("when"))
            options = tuple(
                Option(o["kind"], _text(o["name"]) or "")
                for o in data.get("options") or ()
                if isinstance(o, dict) and o.get("kind") in ("charger", "site") and o.get("name")
            )
            connector = data.get("connector")
            if connector is not None and not (isinstance(connector, int) and 0 <= connector < 1000):
                return None
            return cls(
                kind=data["kind"],
                charger=_text(data.get("charger")),
                connector=connector,
                site=_text(data.get("site")),
                code=_text(data.get("code")),
                vendor=_text(data.get("vendor")),
                model=_text(data.get("model")),
                day=date.fromisoformat(data["day"]) if data.get("day") else None,
                word=_text(data.get("word")),
                when=when,
                options=options,
                intent=_text(data.get("intent")),
                raw=_text(data.get("raw")) or "",
            )
        except (KeyError, TypeError, ValueError):
            return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("not text")
    return value[:_MAX_FIELD] or None


def _time_ref(data: Any) -> TimeRef | None:
    if not data:
        return None
    if not isinstance(data, dict):
        raise TypeError("not a time")
    hours = data.get("hours")
    weekday = data.get("weekday")
    if hours is not None and not (isinstance(hours, int) and 0 < hours <= 24 * 31):
        raise ValueError("hours")
    if weekday is not None and not (isinstance(weekday, int) and 0 <= weekday <= 6):
        raise ValueError("weekday")
    return TimeRef(
        key=_text(data.get("key")) or "",
        word=_text(data.get("word")) or "",
        day=date.fromisoformat(data["day"]) if data.get("day") else None,
        weekday=weekday,
        hours=hours,
    )
