"""The weekly report's words: one ReportText (title, summary, sections of sentences)
made from the WeeklyReport by templates/report/lines.j2, printed by the terminal
template and packed into Block Kit by the Slack stage. Both show the same sentences,
so they cannot disagree on a figure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import jinja2

from bot.report.model import WeeklyReport
from bot.templating import terminal_env
from bot.text import clean

MAX_LINES = {"uptime": 30, "causes": 8, "owners": 8, "chronic": 5, "visits": 1,
             "regressions": 10, "connection": 15, "unknown": 10}
CHARTS = ("uptime", "owners")


@dataclass(slots=True)
class ReportSection:
    key: str
    title: str
    lines: list[str]


@dataclass(slots=True)
class ReportText:
    title: str
    summary: str
    sections: list[ReportSection]
    charts: dict[str, str] = field(default_factory=dict)  # name -> alt text
    labels: dict[str, str] = field(default_factory=dict)  # chart titles and axes


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return terminal_env()


def _t(x: Any, limit: int = 300) -> str:
    return clean(x, limit)


def report_text(report: WeeklyReport) -> ReportText:
    m: Any = _env().get_template("report/lines.j2").module
    r = _jsonable(report)
    lines: dict[str, list[str]] = {
        "uptime": [str(m.site(s, _t)) for s in report.sites],
        "causes": [str(m.cause(c)) for c in report.causes],
        "owners": [str(m.owner(o)) for o in report.owners],
        "chronic": [str(m.chronic(p, _t)) for p in report.chronic],
        "visits": [str(m.visits(report.visits))] if report.incidents else [],
        "regressions": [str(m.regression(x, _t)) for x in report.regressions],
        "connection": [str(m.connection(x, _t)) for x in report.connection],
        "unknown": [str(m.unknown(u, _t)) for u in report.unknown_codes],
    }
    sections = []
    for key, items in lines.items():
        shown = items[:MAX_LINES[key]] or [str(m.empty[key])]
        if key == "unknown" and report.unknown_total > len(report.unknown_codes):
            shown.append(str(m.more_unknown(report.unknown_total - len(report.unknown_codes))))
        elif len(items) > MAX_LINES[key]:
            shown.append(str(m.more_unknown(len(items) - MAX_LINES[key])))
        sections.append(ReportSection(key, str(m.titles[key]), shown))
    charts = {name: str(m.chart_alt(name, r)) for name in CHARTS} if report.sites else {}
    return ReportText(str(m.title(report)), str(m.summary(report)), sections, charts,
                      dict(m.labels))


def render_report(report: WeeklyReport) -> str:
    """The report as terminal text."""
    text = _env().get_template("report/weekly.j2").render(text=report_text(report))
    return text.rstrip("\n") + "\n"


def chart_pngs(report: WeeklyReport) -> dict[str, bytes]:
    """The charts as PNG bytes, by name (none without sites)."""
    if not report.sites:
        return {}
    from bot.report.charts import owners_chart, uptime_chart

    m: Any = _env().get_template("report/lines.j2").module
    words: Any = _env().get_template("digest/_words.j2").module
    labels = dict(m.labels)
    labels.update({"category:" + k: v for k, v in dict(words.categories).items()})
    return {"uptime": uptime_chart(report, labels),
            "owners": owners_chart(report, labels, dict(words.owners))}


def _jsonable(report: WeeklyReport) -> dict[str, Any]:
    return asdict(report)
