"""Time phrases -> windows, in the site's own zone, relative to a given "now" (the log's
clock in the terminal, the bot's clock in Slack): the same words, the same hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ask.cues import Cues, load_cues
from bot.ask.model import TimeRef


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # UTC
    end: datetime  # UTC, never after "now"
    ref: TimeRef
    tz: str

    @property
    def day(self) -> date:
        """The local day the window is about (for the digest)."""
        return self.start.astimezone(ZoneInfo(self.tz)).date()


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    if hour >= 24:
        day, hour = day + timedelta(days=hour // 24), hour % 24
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def window(ref: TimeRef, now: datetime, tz: ZoneInfo, cues: Cues | None = None) -> Window:
    spec = (cues or load_cues()).times.get(ref.key, {})
    today = now.astimezone(tz).date()
    start, end = now - timedelta(hours=24), now
    if ref.key in ("last_night", "this_morning", "this_afternoon", "this_evening"):
        from_hour, to_hour = int(spec.get("from_hour", 0)), int(spec.get("to_hour", 24))
        first = today - timedelta(days=1) if from_hour > to_hour else today
        start = _at(first, from_hour, tz)
        end = _at(today, to_hour, tz)
    elif ref.key == "today":
        start, end = _at(today, 0, tz), now
    elif ref.key in ("yesterday", "day_before_yesterday"):
        back = 1 if ref.key == "yesterday" else 2
        day = today - timedelta(days=back)
        start, end = _at(day, 0, tz), _at(day, 24, tz)
    elif ref.key == "weekday" and ref.weekday is not None:
        day = today - timedelta(days=(today.weekday() - ref.weekday) % 7)
        start, end = _at(day, 0, tz), _at(day, 24, tz)
    elif ref.key == "date" and ref.day is not None:
        start, end = _at(ref.day, 0, tz), _at(ref.day, 24, tz)
    elif ref.key == "last_hours":
        start = now - timedelta(hours=ref.hours or 1)
    elif ref.key == "this_week":
        start = now - timedelta(days=7)
    end = min(end, now)
    start = min(start, end)
    return Window(start, end, ref, str(tz))
