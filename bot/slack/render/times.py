"""Times shown in Slack: a `<!date^…>` token (each reader sees their own zone) with a
fallback in the configured zone for clients that cannot render it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.slack.escape import Mrkdwn


def local_text(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def slack_date(
    dt: datetime | None, tz: ZoneInfo, fmt: str = "{date_short_pretty} {time}"
) -> Mrkdwn:
    if dt is None:
        return Mrkdwn("")
    return Mrkdwn(f"<!date^{int(dt.timestamp())}^{fmt}|{local_text(dt, tz)}>")
