"""Where every stage declares its tables, for tooling that needs the whole schema
(alembic's environment, the schema test). Names only: the store never imports a later
stage at run time."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "bot.store.models",
    "bot.kb.models",
    "bot.incidents.models",
    "bot.slack.models",
    "bot.feeds.models",
    "bot.fold.models",
    "bot.actions.models",
)


def load_all_models() -> None:
    """Import every stage's model module so its tables are on Base.metadata."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a stage not installed has no tables
            if exc.name != name:
                raise
