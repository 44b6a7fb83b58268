"""SQLAlchemy Core tables for the read-only commands, without importing the ORM.

Every table is defined once, by its stage's declarative model; importing those models
pulls in `sqlalchemy.orm` and builds every mapper, which was a third of `faultbot why`'s
whole run. Readers that only SELECT (`why`, `status`) need just names and column types,
so this module keeps a column-only copy of the tables they read (no defaults, indexes
or constraints: these readers never write or create) in the per-user cache
(bot.diskcache), keyed by the source of the model modules and of SQLAlchemy's version.
The first run after an upgrade builds it from the models; later runs unpickle it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy
from sqlalchemy import Column, MetaData, Table

from bot import diskcache

# Table -> the module that declares it (names only: the store never imports a later
# stage at run time, as bot.store.all_models).
READ_TABLES = {
    "chargers": "bot.store.models",
    "connectors": "bot.store.models",
    "messages": "bot.store.models",
    "incidents": "bot.incidents.models",
    "diagnoses": "bot.incidents.models",
    "port_status": "bot.incidents.models",
    "remote_actions": "bot.actions.models",
    "fold_checkpoints": "bot.fold.models",
}
_BOT = Path(__file__).resolve().parents[1]
_lock = threading.Lock()
_tables: dict[str, Table] | None = None


def core_table(name: str) -> Table:
    """The Core table `name` (one of READ_TABLES), columns only."""
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = _load()
    return _tables[name]


def _sources() -> list[bytes | str]:
    parts: list[bytes | str] = [sqlalchemy.__version__]
    for module in sorted({*READ_TABLES.values(), "bot.store.base", "bot.store.types",
                          "bot.store.compact"}):  # the log's column types
        path = _BOT.parent / (module.replace(".", "/") + ".py")
        parts += [module, path.read_bytes()]
    return parts


def _load() -> dict[str, Table]:
    try:
        key: str | None = diskcache.key_of("tables", _sources())
    except OSError:  # sources unreadable (a zipped install): build, do not cache
        key = None
    metadata = diskcache.pickled(key, _from_models, lambda m: (
        isinstance(m, MetaData) and set(m.tables) == set(READ_TABLES)))
    return dict(metadata.tables)


def _from_models() -> MetaData:
    """Column-only copies of the declared tables (imports the ORM models)."""
    import importlib

    from bot.store.base import Base

    for module in set(READ_TABLES.values()):
        importlib.import_module(module)
    metadata = MetaData()
    for name in READ_TABLES:
        declared = Base.metadata.tables[name]
        Table(name, metadata, *[
            Column(c.name, c.type, key=c.key, primary_key=c.primary_key, nullable=c.nullable)
            for c in declared.columns
        ])
    return metadata
