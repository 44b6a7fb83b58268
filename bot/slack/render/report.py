"""The weekly report as one Slack message within Block Kit limits. The sentences are
the terminal's (bot.report.render.ReportText), escaped here; the charts go to the
thread as files (bot.slack.report_post)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.report.render import ReportText
from bot.slack.escape import environment
from bot.slack.render.budget import (
    FALLBACK_TEXT,
    SlackMessage,
    clip,
    context,
    divider,
    header,
    pack_sections,
    section,
)


@lru_cache(maxsize=1)
def _macros() -> Any:
    return environment().get_template("report.j2").module


def report_message(text: ReportText) -> SlackMessage:
    m = _macros()
    blocks: list[dict[str, Any]] = [header(str(m.header(text))), section(str(m.summary(text)))]
    for s in text.sections:
        blocks.append(divider())
        lines = [str(m.section_title(s))] + [str(m.line(x)) for x in s.lines]
        blocks.extend(section(chunk) for chunk in pack_sections(lines))
    if text.charts:
        blocks.append(context(str(m.charts_note(text))))
    return SlackMessage(clip(str(m.fallback(text)), FALLBACK_TEXT), blocks)


def chart_title(name: str) -> str:
    return str(_macros().chart_title(name))


def upload_comment(text: ReportText) -> str:
    return str(_macros().upload_comment(text))
