"""The CLI's own messages (templates/cli/*.j2) as text.

Kept apart from the commands so that a command which only needs to print (`explain`)
does not import the store's commands and SQLAlchemy with them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from bot.templating import terminal_env
from bot.text import clean


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = terminal_env("cli")
    env.filters["clean"] = lambda value, limit=120: clean(value, limit)
    return env


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context).rstrip("\n")
