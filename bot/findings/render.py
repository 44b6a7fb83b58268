"""`faultbot findings` as terminal text or JSON (the words live in templates/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import jinja2

from bot.findings.connection import ConnectionFinding
from bot.findings.regressions import Regression
from bot.templating import terminal_env


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return terminal_env()


def render_findings(regressions: Sequence[Regression], *, chargers: int, until: datetime,
                    fmt: str = "text",
                    connection: Sequence[ConnectionFinding] = ()) -> str:
    rows = [r.to_json() for r in regressions]
    if fmt == "json":
        return json.dumps({"until": until.isoformat().replace("+00:00", "Z"),
                           "chargers": chargers, "regressions": rows,
                           "connection": [f.to_json() for f in connection]}, indent=2) + "\n"
    text = _env().get_template("cli/findings.j2").render(regressions=rows, chargers=chargers,
                                                          until=until)
    return text.rstrip("\n") + "\n\n" + render_connection_findings(connection)


def render_connection_findings(found: Sequence[ConnectionFinding]) -> str:
    """The connection-health findings as terminal text."""
    text = _env().get_template("cli/connection.j2").render(
        findings=[f.to_json() for f in found])
    return text.rstrip("\n") + "\n"
