"""The thread reply that pages people again (bot.slack.escalations)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.incidents.models import Incident
from bot.slack.escape import Mrkdwn, render_blocks
from bot.slack.render.budget import SlackMessage, section
from bot.slack.render.incident import view_of


def render_page(
    incident: Incident,
    tz: ZoneInfo,
    now: datetime,
    *,
    mention: Mrkdwn,
    after: str,
    first: bool = False,
) -> SlackMessage:
    parts = render_blocks(
        "page.j2", i=view_of(incident, tz, now), mention=mention, after=after, first=first
    )
    text = parts["text"]
    return SlackMessage(text, [section(text)])
