"""Firmware and model regressions: fault rates per port-day, compared with a rate-ratio test.

Firmware: for each model, the chargers that changed to firmware F are compared with
themselves before the change, fault category by category ("since firmware F on model
Y, ground faults are 3.4x as frequent"). Model: within one site, each model is compared
with the other models there. A comparison is reported only when it is big enough
(events, port-days and ports on both sides), the rate went up by at least
`min_ratio`, and the exact conditional binomial test clears `alpha` split over every
comparison made (Bonferroni), so a fleet whose rates did not change reports nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.findings.history import ChargerHistory, FleetHistory
from bot.findings.stats import rate_ratio_p

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class RegressionConfig:
    min_events: int = 5  # faults on the worse side
    min_port_days: float = 100.0  # exposure on each side
    min_ports: int = 5  # ports on each side
    min_ratio: float = 1.5  # smaller rises are not worth a report
    alpha: float = 0.001  # family-wise, split over every comparison made


@dataclass(frozen=True, slots=True)
class Regression:
    kind: Literal["firmware", "model"]
    category: str
    vendor: str | None
    model: str
    firmware: str | None  # firmware: the new version
    baseline: tuple[str, ...]  # firmware: earlier versions; model: the site's other models
    site: str | None  # model comparisons only
    since: datetime | None  # firmware: the first change to it
    events: int
    port_days: float
    ports: int
    events_before: int
    port_days_before: float
    ports_before: int
    p_value: float

    @property
    def rate(self) -> float:
        """Faults per 1,000 port-days."""
        return 1000.0 * self.events / self.port_days

    @property
    def rate_before(self) -> float:
        return 1000.0 * self.events_before / self.port_days_before

    @property
    def ratio(self) -> float:
        return self.rate / self.rate_before if self.events_before else float("inf")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "vendor": self.vendor,
            "model": self.model,
            "firmware": self.firmware,
            "baseline": list(self.baseline),
            "site": self.site,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
            "ratio": round(self.ratio, 2) if self.events_before else None,
            "per_1000_port_days": round(self.rate, 2),
            "per_1000_port_days_before": round(self.rate_before, 2),
            "events": self.events,
            "events_before": self.events_before,
            "port_days": round(self.port_days, 1),
            "port_days_before": round(self.port_days_before, 1),
            "ports": self.ports,
            "ports_before": self.ports_before,
            "p_value": float(f"{self.p_value:.3g}"),
        }


@dataclass(slots=True)
class _Side:
    """One side of a comparison: exposure (port-days), ports, and faults per category."""

    port_days: float = 0.0
    ports: int = 0
    events: dict[str, int] | None = None

    def add(self, ports: int, start: datetime, end: datetime, faults: Iterable[Any]) -> None:
        self.port_days += ports * (end - start).total_seconds() / DAY_S
        counts = self.events if self.events is not None else {}
        for f in faults:
            if start <= f.ts < end:
                counts[f.category] = counts.get(f.category, 0) + 1
        self.events = counts


@dataclass(slots=True)
class _Comparison:
    kind: Literal["firmware", "model"]
    vendor: str | None
    model: str
    firmware: str | None
    baseline: tuple[str, ...]
    site: str | None
    since: datetime | None
    after: _Side
    before: _Side


def find_regressions(history: FleetHistory,
                     cfg: RegressionConfig | None = None) -> list[Regression]:
    """Every regression the history shows, most certain first."""
    cfg = cfg or RegressionConfig()
    faults: dict[str, list[Any]] = defaultdict(list)
    for f in history.faults:
        faults[f.charger].append(f)
    comparisons = [*_firmware_comparisons(history, faults), *_model_comparisons(history, faults)]
    tests: list[tuple[_Comparison, str, int, int, float]] = []
    for c in comparisons:
        a, b = c.after, c.before
        if (a.port_days < cfg.min_port_days or b.port_days < cfg.min_port_days
                or a.ports < cfg.min_ports or b.ports < cfg.min_ports):
            continue
        for category in sorted(set(a.events or {}) | set(b.events or {})):
            k1, k0 = (a.events or {}).get(category, 0), (b.events or {}).get(category, 0)
            if k1 < cfg.min_events:
                continue  # too few to say anything, whichever way
            tests.append((c, category, k1, k0, rate_ratio_p(k1, a.port_days, k0, b.port_days)))
    threshold = cfg.alpha / max(1, len(tests))
    out: list[Regression] = []
    for c, category, k1, k0, p in tests:
        ratio = (k1 / c.after.port_days) / (k0 / c.before.port_days) if k0 else float("inf")
        if p >= threshold or ratio < cfg.min_ratio:
            continue
        out.append(Regression(
            kind=c.kind, category=category, vendor=c.vendor, model=c.model,
            firmware=c.firmware, baseline=c.baseline, site=c.site, since=c.since,
            events=k1, port_days=c.after.port_days, ports=c.after.ports,
            events_before=k0, port_days_before=c.before.port_days, ports_before=c.before.ports,
            p_value=p))
    out.sort(key=lambda r: (r.p_value, r.kind, r.model, r.firmware or "", r.site or "",
                            r.category))
    return out


def _firmware_comparisons(history: FleetHistory,
                          faults: dict[str, list[Any]]) -> list[_Comparison]:
    """Per model and new firmware: the chargers that changed to it, after vs before."""
    groups: dict[tuple[str | None, str, str], list[ChargerHistory]] = defaultdict(list)
    for ch in history.chargers.values():
        for prev, span in zip(ch.spans, ch.spans[1:], strict=False):
            if span.firmware and prev.firmware != span.firmware:
                groups[(ch.vendor, ch.model, span.firmware)].append(ch)
    out = []
    for (vendor, model, firmware), members in sorted(groups.items(), key=lambda kv: (
            kv[0][0] or "", kv[0][1], kv[0][2])):
        after, before = _Side(), _Side()
        earlier: set[str] = set()
        since: datetime | None = None
        for ch in {c.charger: c for c in members}.values():
            first = next(i for i, s in enumerate(ch.spans)
                         if i > 0 and s.firmware == firmware)
            since = min(since, ch.spans[first].start) if since else ch.spans[first].start
            mine = faults.get(ch.charger, ())
            for s in ch.spans[:first]:
                before.add(ch.ports, s.start, s.end, mine)
                if s.firmware:
                    earlier.add(s.firmware)
            for s in ch.spans[first:]:
                if s.firmware == firmware:
                    after.add(ch.ports, s.start, s.end, mine)
            after.ports += ch.ports
            before.ports += ch.ports
        out.append(_Comparison("firmware", vendor, model, firmware, tuple(sorted(earlier)),
                               None, since, after, before))
    return out


def _model_comparisons(history: FleetHistory,
                       faults: dict[str, list[Any]]) -> list[_Comparison]:
    """Per site with several models: each model against the others there."""
    by_site: dict[str, dict[tuple[str | None, str], list[ChargerHistory]]] = defaultdict(
        lambda: defaultdict(list))
    for ch in history.chargers.values():
        by_site[ch.site][(ch.vendor, ch.model)].append(ch)
    out = []
    for site in sorted(by_site):
        models = by_site[site]
        if len(models) < 2:
            continue
        sides: dict[tuple[str | None, str], _Side] = {}
        for key, members in models.items():
            side = _Side(events={})
            for ch in members:
                side.add(ch.ports, ch.spans[0].start, ch.spans[-1].end, faults.get(ch.charger, ()))
                side.ports += ch.ports
            sides[key] = side
        for key in sorted(models, key=lambda k: (k[0] or "", k[1])):
            rest = _Side(events={})
            for other, side in sides.items():
                if other == key:
                    continue
                rest.port_days += side.port_days
                rest.ports += side.ports
                for cat, n in (side.events or {}).items():
                    assert rest.events is not None
                    rest.events[cat] = rest.events.get(cat, 0) + n
            others = tuple(sorted(m for v, m in models if (v, m) != key))
            out.append(_Comparison("model", key[0], key[1], None, others, site, None,
                                   sides[key], rest))
    return out
