"""The log's sources, interned (store_0007): each distinct source text (a file, a feed's
queue) is one `log_sources` row, and a frame stores only its id; readers see the text
(bot.store.models.MessageRow.source). A worker's source is the same on every frame, so
a text of 20-60 characters a frame becomes 0-4 bytes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.ocpp.cleaning import storable
from bot.store.base import table_of
from bot.store.models import LogSource

SOURCES = table_of(LogSource)
_LIMIT = 10_000  # texts remembered; more (one per file ingested, for years) starts afresh


class SourceIds:
    """Source text -> its `log_sources` id, remembered per process.

    An id found or added inside a transaction is remembered only once that transaction
    commits (`learn`): one it added and then rolled back may be given to another text
    later (SQLite reuses the largest rowid). Rows are added with ON CONFLICT DO NOTHING
    in the caller's transaction, so two workers adding the same new text agree on one
    id (the second waits for the first to commit)."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def ids(self, conn: Connection, names: set[str]) -> tuple[dict[str, int], dict[str, int]]:
        """The ids of `names` (the new ones added), and the part of them to `learn`
        once `conn`'s transaction has committed."""
        known = self._known
        missing = {n: storable(n) for n in names if n not in known}
        if not missing:
            return {n: known[n] for n in names}, {}
        texts = set(missing.values())
        found = _lookup(conn, texts)
        absent = texts - found.keys()
        if absent:
            insert: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(insert(SOURCES).on_conflict_do_nothing(index_elements=["name"]),
                         [{"name": t} for t in sorted(absent)])
            found.update(_lookup(conn, absent))
        learned = {n: found[t] for n, t in missing.items()}
        return {n: known[n] if n in known else learned[n] for n in names}, learned

    def learn(self, learned: dict[str, int]) -> None:
        if len(self._known) + len(learned) > _LIMIT:
            self._known.clear()
        self._known.update(learned)


def _lookup(conn: Connection, texts: set[str]) -> dict[str, int]:
    rows = conn.execute(select(SOURCES.c.name, SOURCES.c.id).where(SOURCES.c.name.in_(texts)))
    return {name: id_ for name, id_ in rows}
