"""The daily digest as data: what a site manager reads in five minutes.

Built by `bot.digest.build.build_digest`, rendered to text/markdown/json by
`bot.digest.render` and to Block Kit by the Slack stage. Every field is plain data
(strings, numbers, UTC datetimes); words live in the templates.

Layout, most urgent first:

- `headline`: ports down now, the day's uptime and its change against the day before,
  incidents opened/resolved on the day.
- `sections`: who must act, in this order (keys are stable, templates name them):
    "on_site"   someone on site (owner site_staff)
    "service"   vendor service, an electrician or the utility
    "remote"    remote steps first (remote operator, driver, vehicle maker); a charger
                dark for VISIT_AFTER_MIN or longer moves to "on_site" instead
    "recovered" incidents of the day that are over (recovered by themselves or resolved)
  Lines inside a section: severity (safety first), then oldest first.
- `phantoms`: faults the bot ignored, counted per charger model, with the reason.
- `unknown_codes`: vendor codes nobody knows yet (teach them to the bot).
- `sites`: per-site uptime with the excluded time and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from bot.incidents.view import IncidentView

SECTION_ORDER = ("on_site", "service", "remote", "recovered")
# A charger dark this long has had its remote chance: the digest asks for a visit.
VISIT_AFTER_MIN = 120


@dataclass(slots=True, kw_only=True)
class DigestLine(IncidentView):
    """One incident in a section: the shared incident view plus how long it was open."""

    duration_min: float  # open so far, or until resolved
    # A remote-owned outage (a dark charger) open past VISIT_AFTER_MIN: moved to "on_site",
    # because its own action says to send someone if it stays dark.
    visit_due: bool = False


@dataclass(slots=True)
class DigestSection:
    key: str  # one of SECTION_ORDER
    lines: list[DigestLine] = field(default_factory=list)


@dataclass(slots=True)
class PhantomGroup:
    model: str  # "unknown model" when the charger never said
    rule: str
    count: int  # diagnoses suppressed on the day
    chargers: int
    reason: str  # one example of the diagnosis' summary: why it was ignored


@dataclass(slots=True)
class FixRate:
    """How often a remote action fixed a category of fault on a model (last 30 days)."""

    model: str
    category: str
    kind: str
    fixed: int
    total: int


@dataclass(slots=True)
class UnknownCode:
    vendor: str | None
    model: str | None
    code: str
    info: str | None
    count: int
    chargers: int
    last_seen: datetime | None


@dataclass(slots=True)
class ExclusionLine:
    reason: str  # "utility", "vehicle", "maintenance"
    minutes: float
    ports: int


@dataclass(slots=True)
class SiteFigure:
    site: str
    ports: int
    uptime_pct: float
    previous_pct: float | None
    outage_min: float
    excluded_min: float
    ports_below_97: int
    exclusions: list[ExclusionLine] = field(default_factory=list)

    @property
    def change_pct(self) -> float | None:
        return None if self.previous_pct is None else self.uptime_pct - self.previous_pct


@dataclass(slots=True)
class Headline:
    ports_total: int
    ports_down_now: int
    uptime_pct: float | None  # mean port uptime on the digest day; None without ports
    previous_pct: float | None  # the day before
    opened: int  # incidents opened on the day
    resolved: int  # incidents resolved on the day
    open_now: int
    safety_open: int
    suspect_sessions: int  # charging sessions with a suspect energy reading on the day

    @property
    def change_pct(self) -> float | None:
        if self.uptime_pct is None or self.previous_pct is None:
            return None
        return self.uptime_pct - self.previous_pct


@dataclass(slots=True)
class Digest:
    day: date
    timezone: str
    generated_at: datetime
    has_data: bool
    headline: Headline
    sections: list[DigestSection]
    phantoms: list[PhantomGroup]
    unknown_codes: list[UnknownCode]
    sites: list[SiteFigure]
    # firmware/model regressions over the history up to the day's end (Regression.to_json)
    regressions: list[dict[str, Any]] = field(default_factory=list)
    # which remote actions fixed which faults, per model (bot.actions.stats.Rate)
    fixes: list[FixRate] = field(default_factory=list)

    def section(self, key: str) -> DigestSection:
        return next((s for s in self.sections if s.key == key), DigestSection(key))

    @property
    def phantom_total(self) -> int:
        return sum(p.count for p in self.phantoms)

    def to_json(self) -> dict[str, Any]:
        """A stable, JSON-ready dict (datetimes as ISO 8601 UTC with Z)."""
        raw = asdict(self)
        raw["headline"]["change_pct"] = _round(self.headline.change_pct)
        for fig, out in zip(self.sites, raw["sites"], strict=True):
            out["change_pct"] = _round(fig.change_pct)
        return _jsonable(raw)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 3)
    return value
