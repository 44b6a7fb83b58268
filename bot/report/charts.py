"""The report's charts as PNG bytes: uptime trend per site, and the week's incidents
by who had to act. matplotlib loads only when a chart is drawn (with the Agg backend:
no display, thread-safe enough for one figure at a time), and each chart has a text
equivalent in the report itself for screen readers and the terminal.

Labels are taken from the caller (words live in templates); the same report gives
the same bytes (no timestamps in the PNG metadata)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from bot.report.model import WeeklyReport

MAX_SITES = 8  # lines on the trend chart: the worst sites, the rest are in the text


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight",
                metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def uptime_chart(report: WeeklyReport, labels: Mapping[str, str]) -> bytes:
    """Daily uptime % per site over the trend's days (the worst MAX_SITES sites)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    x = list(report.days)
    for trend in report.sites[:MAX_SITES]:
        ax.plot(x, [v if v is not None else float("nan") for v in trend.days],
                marker=".", label=trend.site[:40])
    ax.set_title(labels["uptime_title"])
    ax.set_ylabel(labels["uptime_axis"])
    ax.axhline(97.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylim(top=100.5)
    if report.sites:
        ax.legend(fontsize="small", loc="lower left")
    if x:
        ax.set_xlim(x[0], x[-1])
    fig.autofmt_xdate()
    return _png(fig)


def owners_chart(report: WeeklyReport, labels: Mapping[str, str],
                 owner_names: Mapping[str, str]) -> bytes:
    """The week's incidents by who had to act first, stacked by cause."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    owners = [o.owner for o in report.owners]
    left = [0] * len(owners)
    for cause in sorted({c.category for c in report.causes}):
        widths = [next((c.incidents for c in report.causes
                        if c.category == cause and c.owner == o), 0) for o in owners]
        ax.barh([owner_names.get(o, o) for o in owners], widths, left=left,
                label=labels.get("category:" + cause, cause))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    rest = [o.incidents - done for o, done in zip(report.owners, left, strict=True)]
    if any(rest):
        ax.barh([owner_names.get(o, o) for o in owners], rest, left=left,
                label=labels["other_causes"], color="lightgrey")
    ax.set_title(labels["owners_title"])
    ax.set_xlabel(labels["owners_axis"])
    ax.invert_yaxis()
    if owners:
        ax.legend(fontsize="small", loc="lower right")
    return _png(fig)
