"""Save and load the fold's context (see bot.fold): one row per fold name.

The state is pickled: it is the rules' own data (dataclasses, bounded maps), written and
read only by faultbot in its own database. A row from another code version, or one that
cannot be read, is ignored with a warning and the log is replayed from the start, which
gives the same context, only slower.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from bot.store.core_tables import core_table

log = logging.getLogger(__name__)
# bot.fold.models.FoldCheckpoint's table as Core (every value is written explicitly), so
# that `log_time` costs read-only commands no ORM import.
TABLE = core_table("fold_checkpoints")

# The modules whose classes are inside the pickled state: any change to them is a new
# state version (a restart then replays the log instead of loading an old shape).
_STATE_SOURCES = ("triage/state.py", "triage/views.py", "triage/diagnosis.py", "vocab.py",
                  "ocpp/events.py", "fold/clock.py")


def _state_version() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for name in _STATE_SOURCES:
        path = root / name
        digest.update(path.read_bytes() if path.exists() else name.encode())
    return digest.hexdigest()[:32]


STATE_VERSION = _state_version()


@dataclass(slots=True)
class Snapshot:
    last_message_id: int  # every stored message up to this id is folded into `state`
    feed_time: datetime | None
    state: dict[str, Any]


def load(conn: Connection, name: str) -> Snapshot | None:
    row = conn.execute(select(TABLE).where(TABLE.c.name == name)).one_or_none()
    if row is None:
        return None
    if row.version != STATE_VERSION:
        log.warning("fold checkpoint %r is from another code version: replaying the log", name)
        return None
    try:
        state = pickle.loads(zlib.decompress(row.state))
    except Exception as exc:  # a damaged row must not stop the worker: replay instead
        log.warning("fold checkpoint %r unreadable (%s): replaying the log", name, exc)
        return None
    return Snapshot(row.last_message_id, row.feed_time, state)


def save(conn: Connection, name: str, snapshot: Snapshot) -> int:
    """Replace the fold's checkpoint inside the caller's transaction; returns its size."""
    blob = _compressed_pickle(snapshot.state)
    conn.execute(delete(TABLE).where(TABLE.c.name == name))
    conn.execute(
        insert(TABLE).values(
            name=name,
            last_message_id=snapshot.last_message_id,
            feed_time=snapshot.feed_time,
            version=STATE_VERSION,
            state=blob,
            saved_at=datetime.now(UTC),
        )
    )
    return len(blob)


class _Deflater:
    """A write-only file for pickle.dump that compresses as it goes: the whole pickle
    (tens of MB for 10,000 chargers) is never in memory at once, only its compressed form."""

    __slots__ = ("_z", "parts")

    def __init__(self) -> None:
        self._z = zlib.compressobj(1)
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        out = self._z.compress(data)
        if out:
            self.parts.append(out)
        return len(data)

    def finish(self) -> bytes:
        self.parts.append(self._z.flush())
        return b"".join(self.parts)


def _compressed_pickle(state: Any) -> bytes:
    """zlib.compress(pickle.dumps(state), 1), the same bytes, written piece by piece."""
    out = _Deflater()
    pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return out.finish()


def log_time(conn: Connection) -> datetime | None:
    """The log's own clock: the newest CSMS time folded (from the checkpoints), or the
    newest stored message's when no fold has checkpointed yet. Answers and digests use
    it as "now" so that they are a function of the stored messages, not of the wall."""
    newest = conn.execute(select(func.max(TABLE.c.feed_time))).scalar()
    if newest is None:
        newest = conn.execute(select(func.max(core_table("messages").c.ts))).scalar()
    return newest
