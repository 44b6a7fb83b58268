"""store: the log's direction, action and OCPP version as short codes

Each of the three columns becomes bytes: a word of the fixed vocabulary
(bot.store.compact._WORDS) as its one- or two-byte code, any other word as its UTF-8
(bot.store.compact.Word). Every row keeps its id; no frame is added or lost.

SQLite: the values are converted in place, by id, then the table is rebuilt with the new
column types. PostgreSQL: the column types change in place on the partitioned table
(USING a CASE over the vocabulary).

Revision ID: store_0005
Revises: store_0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection

from bot.store.compact import WORD_CODES, strict, word_from_db, word_to_db

revision: str = "store_0005"
down_revision: str | Sequence[str] | None = "store_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 5000
_COLUMNS = ("direction", "action", "ocpp_version")
_OLD_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "direction": sa.String(3), "action": sa.Text(), "ocpp_version": sa.String(8)}
_PG_OLD = {"direction": "varchar(3)", "action": "text", "ocpp_version": "varchar(8)"}


def _hex(code: bytes) -> str:
    return "'\\x" + code.hex() + "'::bytea"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        # the words are OCPP names (letters, digits, dots): safe as SQL literals
        whens = " ".join(f"WHEN '{w}' THEN {_hex(c)}" for w, c in WORD_CODES.items())
        op.execute("ALTER TABLE messages " + ", ".join(
            f"ALTER COLUMN {col} TYPE bytea USING (CASE {col} {whens} "
            f"ELSE convert_to({col}, 'UTF8') END)" for col in _COLUMNS))
        return
    _rewrite(conn, _to_codes)
    with op.batch_alter_table("messages", recreate="always") as batch:
        for col in _COLUMNS:
            batch.alter_column(col, existing_type=_OLD_TYPES[col], type_=sa.LargeBinary(),
                               existing_nullable=col == "action")
    _give_back(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        whens = " ".join(f"WHEN {_hex(c)} THEN '{w}'" for w, c in WORD_CODES.items())
        op.execute("ALTER TABLE messages " + ", ".join(
            f"ALTER COLUMN {col} TYPE {_PG_OLD[col]} USING (CASE {col} {whens} "
            f"ELSE convert_from({col}, 'UTF8') END)" for col in _COLUMNS))
        return
    _rewrite(conn, _to_words)
    with op.batch_alter_table("messages", recreate="always") as batch:
        for col in _COLUMNS:
            batch.alter_column(col, existing_type=sa.LargeBinary(), type_=_OLD_TYPES[col],
                               existing_nullable=col == "action")
    _give_back(conn)


# --- SQLite: rows converted in place, by id, a chunk at a time -------------------------
# (a BLOB stays a BLOB and a TEXT a TEXT through the rebuild's copy, whatever the
# declared type, so converting before the rebuild is enough both ways)

_Row = tuple[Any, Any, Any, Any]  # direction, action, ocpp_version, id


def _to_codes(row: _Row) -> _Row:
    *words, id_ = row
    return (*(word_to_db(w) if isinstance(w, str) else w for w in words), id_)


def _to_words(row: _Row) -> _Row:
    *codes, id_ = row
    # strict: a damaged code stops the downgrade rather than become U+FFFD for good
    return (*(strict(word_from_db(c)) if isinstance(c, bytes) else c for c in codes), id_)


def _rewrite(conn: Connection, convert: Callable[[_Row], _Row]) -> None:
    after = -1
    while True:
        rows = conn.exec_driver_sql(
            "SELECT direction, action, ocpp_version, id FROM messages WHERE id > ? "
            "ORDER BY id LIMIT ?", (after, _CHUNK)).fetchall()
        if not rows:
            return
        conn.exec_driver_sql(
            "UPDATE messages SET direction = ?, action = ?, ocpp_version = ? WHERE id = ?",
            [convert(tuple(r)) for r in rows])
        after = rows[-1][3]


def _give_back(conn: Connection) -> None:
    """Return the rebuilt table's freed pages to the file system (as store_0004)."""
    if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:
        return
    free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    for _ in range(free):
        conn.exec_driver_sql("PRAGMA incremental_vacuum")
