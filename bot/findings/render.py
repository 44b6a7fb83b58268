"""`faultbot findings` as terminal text or JSON (the words live in templates/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import jinja2

from bot.findings.regressions import Regression
from bot.templating import terminal_env


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return terminal_env()


def render_findings(regressions: Sequence[Regression], *, chargers: int, until: datetime,
                    fmt: str = "text") -> str:
    rows = [r.to_json() for r in regressions]
    if fmt == "json":
        return json.dumps({"until": until.isoformat().replace("+00:00", "Z"),
                           "chargers": chargers, "regressions": rows}, indent=2) + "\n"
    text = _env().get_template("cli/findings.j2").render(regressions=rows, chargers=chargers,
                                                          until=until)
    return text.rstrip("\n") + "\n"
