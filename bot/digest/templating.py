"""The Jinja2 environment for the digest and the answers (templates/digest, /answers).

Output is plain text or Markdown, never HTML, so autoescape stays off; vendor text is
made harmless per format by the `md` filter (Markdown) and `clean` (control characters,
length). Templates are compiled once per process.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from bot.templating import terminal_env
from bot.text import clean as text_clean

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~])")


def clean(value: Any, limit: int = 300) -> str:
    """Vendor/hostile text (bot.text.clean), with the longer default reports allow."""
    return text_clean(value, limit)


def md(value: Any, limit: int = 300) -> str:
    return _MD_SPECIAL.sub(r"\\\1", clean(value, limit))


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "?"
    if minutes < 1:  # an honest figure for blips, never "0 min"
        seconds = round(minutes * 60)
        return f"{seconds} s" if seconds else "under 1 s"
    m = round(minutes)
    if m < 60:
        return f"{m} min"
    if m < 24 * 60:
        return f"{m // 60} h {m % 60:02d} min"
    return f"{m // 1440} d {(m % 1440) // 60} h"


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} %"


def signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f} pts"


def local_time(value: datetime | None, tz: ZoneInfo | str, day: date | None = None) -> str:
    """`07:42` on the reference day, `Nov 19 22:10` otherwise, in the given zone."""
    if value is None:
        return "?"
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = value.astimezone(zone)
    if day is not None and local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%b %d %H:%M").replace(" 0", " ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = terminal_env()
    env.filters.update(clean=clean, md=md, duration=duration, pct=pct, signed=signed,
                       local=local_time)
    return env


def render(template: str, **context: Any) -> str:
    text = environment().get_template(template).render(**context)
    # collapse the blank-line runs conditional blocks leave behind
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
