"""The weekly report as plain data; words live in the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.digest.model import UnknownCode

TREND_DAYS = 30
WEEK_DAYS = 7
# Owners whose faults are cleared without a vendor's truck roll (on site, remotely,
# by the driver), and owners whose faults are a service visit.
CLEARED_WITHOUT_VISIT = frozenset({"site_staff", "remote_operator", "driver", "vehicle_oem",
                                   "none"})
SERVICE_VISIT = frozenset({"vendor_service", "electrician"})


@dataclass(frozen=True, slots=True)
class SiteTrend:
    site: str
    ports: int
    days: tuple[float | None, ...]  # uptime % per day, oldest first (None: no ports yet)
    week_pct: float  # mean of the last WEEK_DAYS
    previous_week_pct: float | None  # the week before

    @property
    def change_pct(self) -> float | None:
        return None if self.previous_week_pct is None else self.week_pct - self.previous_week_pct


@dataclass(frozen=True, slots=True)
class CauseRow:
    category: str
    owner: str
    incidents: int
    downtime_min: float


@dataclass(frozen=True, slots=True)
class OwnerRow:
    owner: str
    incidents: int
    downtime_min: float


@dataclass(frozen=True, slots=True)
class ChronicPort:
    charger: str
    connector: int  # 0: the whole charger
    site: str
    downtime_min: float
    incidents: int
    top_category: str


@dataclass(frozen=True, slots=True)
class Visits:
    cleared_without_visit: int  # resolved by site staff, remotely, or by themselves
    recovered_by_themselves: int  # of those: nobody had to do anything
    service_visits: int  # vendor service or an electrician had to come


@dataclass(slots=True)
class WeeklyReport:
    generated_at: datetime
    timezone: str
    days: tuple[date, ...]  # the trend's days, oldest first; the week is the last WEEK_DAYS
    incidents: int  # opened in the week (not suppressed)
    sites: list[SiteTrend]
    causes: list[CauseRow]
    owners: list[OwnerRow]
    chronic: list[ChronicPort]
    visits: Visits
    regressions: list[dict[str, Any]]  # Regression.to_json()
    connection: list[dict[str, Any]]  # ConnectionFinding.to_json()
    unknown_codes: list[UnknownCode]
    unknown_total: int = 0  # unknown codes waiting (the list shows the most frequent)
    charts: dict[str, str] = field(default_factory=dict)  # name -> alt text, filled on render

    @property
    def week(self) -> tuple[date, ...]:
        return self.days[-WEEK_DAYS:]

    def figures(self) -> dict[str, Any]:
        """The numbers every rendering shows (tests compare the terminal's and Slack's)."""
        return {
            "incidents": self.incidents,
            "sites": {s.site: round(s.week_pct, 1) for s in self.sites},
            "causes": [(c.category, c.owner, c.incidents) for c in self.causes],
            "owners": [(o.owner, o.incidents) for o in self.owners],
            "chronic": [(p.charger, p.connector, p.incidents) for p in self.chronic],
            "visits": (self.visits.cleared_without_visit, self.visits.recovered_by_themselves,
                       self.visits.service_visits),
            "regressions": len(self.regressions),
            "connection": len(self.connection),
            "unknown_codes": self.unknown_total,
        }
