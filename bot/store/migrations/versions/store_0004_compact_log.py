"""store: the message log stored compactly (bot.store.compact)

fingerprint: 16 bytes instead of 32 hex characters; raw: bytes (UTF-8, or 0xFF +
dictionary DEFLATE); on SQLite ts and occurred_at become integer microseconds instead
of 26-character text. Every row keeps its id; no frame is added or lost.

SQLite: every row is converted (raw compressed too) and the table rebuilt.
PostgreSQL: the column types change in place on the partitioned table (USING ...);
existing raw frames become their UTF-8 bytes, uncompressed (rewriting every row of a
large log twice to compress it is not worth it: new frames are compressed, and the old
ones age out with retention).

Revision ID: store_0004
Revises: store_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

from bot.store.compact import (
    fp_from_db,
    fp_to_db,
    from_micros,
    pack_raw,
    strict,
    to_micros,
    unpack_raw,
)
from bot.store.types import UTCDateTime

revision: str = "store_0004"
down_revision: str | Sequence[str] | None = "store_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 5000
_Row = tuple[Any, Any, Any, Any, Any]  # fingerprint, ts, occurred_at, raw, id


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE messages "
            "ALTER COLUMN fingerprint TYPE bytea USING (CASE "
            "WHEN fingerprint ~ '^[0-9a-f]{32}$' THEN decode(fingerprint, 'hex') "
            "WHEN octet_length(fingerprint) = 15 "
            "THEN '\\xffff'::bytea || convert_to(fingerprint, 'UTF8') "
            "ELSE '\\xff'::bytea || convert_to(fingerprint, 'UTF8') END), "
            "ALTER COLUMN raw TYPE bytea USING convert_to(raw, 'UTF8')"
        )
        return
    _rewrite(conn, _forward)
    with op.batch_alter_table("messages", recreate="always") as batch:
        batch.alter_column("fingerprint", existing_type=sa.String(64), type_=sa.LargeBinary(),
                           existing_nullable=False)
        for name in ("ts", "occurred_at"):
            batch.alter_column(name, existing_type=UTCDateTime(), type_=sa.BigInteger(),
                               existing_nullable=False)
        batch.alter_column("raw", existing_type=sa.Text(), type_=sa.LargeBinary(),
                           existing_nullable=False)
    _give_back(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _inflate_pg(conn)
        op.execute(
            "ALTER TABLE messages "
            "ALTER COLUMN fingerprint TYPE varchar(64) USING (CASE "
            "WHEN octet_length(fingerprint) = 16 THEN encode(fingerprint, 'hex') "
            "ELSE convert_from(ltrim(fingerprint, '\\xff'::bytea), 'UTF8') END), "
            "ALTER COLUMN raw TYPE text USING convert_from(raw, 'UTF8')"
        )
        return
    _rewrite(conn, _back_bytes)
    with op.batch_alter_table("messages", recreate="always") as batch:
        batch.alter_column("fingerprint", existing_type=sa.LargeBinary(), type_=sa.String(64),
                           existing_nullable=False)
        for name in ("ts", "occurred_at"):
            batch.alter_column(name, existing_type=sa.BigInteger(), type_=UTCDateTime(),
                               existing_nullable=False)
        batch.alter_column("raw", existing_type=sa.LargeBinary(), type_=sa.Text(),
                           existing_nullable=False)
    _rewrite(conn, _back_times)


# --- SQLite: rows converted in place, by id, a chunk at a time -------------------------


def _old_time(value: str) -> datetime:
    # SQLAlchemy's SQLite DateTime text: "YYYY-MM-DD HH:MM:SS.ffffff", UTC, no zone
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _old_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


# The table rebuild (batch) CASTs a column whose type affinity changes: CAST of the old
# time text to an integer would give the year, CAST of hash bytes to text garbage. So
# every value is converted where the CAST leaves it alone: all of them before the
# rebuild on upgrade; on downgrade fingerprints and frames before, times after.


def _forward(row: _Row) -> _Row:
    fp, ts, occurred, raw, id_ = row
    return (fp_to_db(fp) if isinstance(fp, str) else fp,
            to_micros(_old_time(ts)) if isinstance(ts, str) else ts,
            to_micros(_old_time(occurred)) if isinstance(occurred, str) else occurred,
            pack_raw(raw) if isinstance(raw, str) else raw, id_)


def _back_bytes(row: _Row) -> _Row:
    fp, ts, occurred, raw, id_ = row
    # strict: a damaged value stops the downgrade rather than become U+FFFD for good
    return (strict(fp_from_db(fp)) if isinstance(fp, bytes) else fp, ts, occurred,
            strict(unpack_raw(raw)), id_)


def _back_times(row: _Row) -> _Row:
    fp, ts, occurred, raw, id_ = row
    return (fp, _old_text(from_micros(ts)) if isinstance(ts, int) else ts,
            _old_text(from_micros(occurred)) if isinstance(occurred, int) else occurred,
            raw, id_)


def _rewrite(conn: Connection, convert: Callable[[_Row], _Row]) -> None:
    after = -1
    while True:
        rows = conn.exec_driver_sql(
            "SELECT fingerprint, ts, occurred_at, raw, id FROM messages WHERE id > ? "
            "ORDER BY id LIMIT ?", (after, _CHUNK)).fetchall()
        if not rows:
            return
        conn.exec_driver_sql(
            "UPDATE messages SET fingerprint = ?, ts = ?, occurred_at = ?, raw = ? "
            "WHERE id = ?", [convert(tuple(r)) for r in rows])
        after = rows[-1][4]


def _give_back(conn: Connection) -> None:
    """The rebuild leaves the old table's pages free: give them back to the file system
    when the file is in incremental mode (every file bot.store.db creates), one page a
    step (Python's sqlite3 steps a statement without result columns once)."""
    if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:
        return
    free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    for _ in range(free):
        conn.exec_driver_sql("PRAGMA incremental_vacuum")


def _inflate_pg(conn: Connection) -> None:
    """PostgreSQL downgrade: compressed frames back to UTF-8 before the type changes."""
    after = -1
    while True:
        rows = conn.execute(text(
            "SELECT id, ts, raw FROM messages WHERE id > :a "
            "AND substring(raw FROM 1 FOR 1) = '\\xff'::bytea "
            "ORDER BY id LIMIT :n"), {"a": after, "n": _CHUNK}).fetchall()
        if not rows:
            return
        conn.execute(text("UPDATE messages SET raw = :raw WHERE id = :id AND ts = :ts"),
                     [{"id": r[0], "ts": r[1], "raw": strict(unpack_raw(r[2])).encode()}
                      for r in rows])
        after = rows[-1][0]
