"""The matcher's evidence sentences: words live in templates/kb/evidence.j2, not in Python.

`say("vendor_exact", code=..., vendor=..., entry=...)` calls the macro of that name and
returns its text exactly as rendered (no whitespace folding: evidence is what "Why?"
shows and what the tests pin byte for byte). The templates are compiled once per
templates folder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from bot.templating import template_root, terminal_env

SHOW = 60  # longest piece of charger-sent text quoted back in evidence


def show(text: str) -> str:
    """Charger-sent text as quoted in evidence: short, one line."""
    return text if len(text) <= SHOW else text[: SHOW - 1] + "…"


@lru_cache(maxsize=4)
def _macros(override: str) -> dict[str, Any]:
    # Keyed by FAULTBOT_TEMPLATES_DIR, so a replacement tree set later is picked up.
    env = terminal_env(root=template_root())
    env.filters["show"] = show
    env.filters["repr"] = repr
    module = env.get_template("kb/evidence.j2").module
    return {name: value for name, value in vars(module).items() if callable(value)}


def say(name: str, /, **values: object) -> str:
    """The evidence sentence `name` with these values."""
    macros = _macros(os.environ.get("FAULTBOT_TEMPLATES_DIR", ""))
    return str(macros[name](**values))
