"""Rule sentences come from Jinja2 macros in templates/triage/, never from Python strings.

`Phrasebook.summary("site_wide_cause", site=..., ...)` calls the macro of that name in
templates/triage/summary.j2 (likewise action.j2 and evidence.j2) and returns one line
with whitespace collapsed. The templates are compiled once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from bot.templating import template_root, terminal_env


@lru_cache(maxsize=4)
def environment(root: str) -> jinja2.Environment:
    # Plain text: escaping for Slack/HTML is the display layer's job.
    env = terminal_env(root=Path(root))
    env.filters["duration"] = duration
    env.filters["kwh"] = lambda wh: f"{wh / 1000:.1f}"
    return env


def duration(seconds: float) -> str:
    """Compact human duration: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    m = s // 60
    if m < 120:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    return f"{d} d {h} h" if h else f"{d} d"


class Phrasebook:
    def __init__(self, root: Path | None = None) -> None:
        env = environment(str(root or template_root()))
        self._modules = {
            group: env.get_template(f"triage/{group}.j2").module
            for group in ("summary", "action", "evidence", "labels")
        }
        self._listing = env.get_template("triage/explain_line.j2")

    def _say(self, group: str, name: str, kw: dict[str, Any]) -> str:
        macro = getattr(self._modules[group], name)
        return " ".join(str(macro(**kw)).split())

    def summary(self, name: str, **kw: Any) -> str:
        return self._say("summary", name, kw)

    def action(self, name: str, **kw: Any) -> str:
        return self._say("action", name, kw)

    def evidence(self, name: str, **kw: Any) -> str:
        return self._say("evidence", name, kw)

    def label(self, name: str, **kw: Any) -> str:
        return self._say("labels", name, kw)

    def listing(self, diagnosis: dict[str, Any]) -> str:
        return " ".join(self._listing.render(d=diagnosis).split())


@lru_cache(maxsize=1)
def default_phrasebook() -> Phrasebook:
    return Phrasebook()
