"""store: the log drops unique_id and stores no violations as NULL

unique_id repeated the frame's second element, which `raw` keeps (nothing read the
column: readers parse raw again). violations is NULL when the frame has none (most
frames) instead of the text "[]"; readers get [] for both (bot.store.compact.Violations).
Every row keeps its id; no frame is added or lost.

SQLite: the empty lists are set NULL and the table is rebuilt without the column.
PostgreSQL: the column is dropped and violations made nullable in place on the
partitioned table; existing rows keep their "[]" (read the same) and the dropped
column's bytes until they age out with retention, as store_0006 did (rewriting every
row of a large log for a few bytes is not worth it); new rows are stored without them.

Downgrade: unique_id is read back out of each frame (the same text the store wrote:
the frame's second element, bot.ocpp.cleaning.storable) and the empty lists restored.

Revision ID: store_0007
Revises: store_0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

from bot.ocpp.cleaning import storable
from bot.store.compact import unpack_raw

revision: str = "store_0007"
down_revision: str | Sequence[str] | None = "store_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 5000
_INDEX = "ix_messages_charger_occurred"
_OCCURRED = "coalesce(occurred_at, ts)"  # as bot.store.models.OCCURRED_SQL


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE messages DROP COLUMN unique_id, "
                   "ALTER COLUMN violations DROP NOT NULL")
        return
    op.execute(f"DROP INDEX {_INDEX}")  # the rebuild cannot copy an expression index
    with op.batch_alter_table("messages", recreate="always") as batch:
        batch.drop_column("unique_id")
        batch.alter_column("violations", existing_type=sa.JSON(), nullable=True)
    op.execute("UPDATE messages SET violations = NULL WHERE violations = '[]'")
    op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, {_OCCURRED})")
    _give_back(conn)


def downgrade() -> None:
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    op.add_column("messages", sa.Column("unique_id", sa.Text(), nullable=True))
    _fill_unique_ids(conn)
    op.execute("UPDATE messages SET violations = '[]' WHERE violations IS NULL")
    if pg:
        op.execute("ALTER TABLE messages ALTER COLUMN unique_id SET NOT NULL, "
                   "ALTER COLUMN violations SET NOT NULL")
        return
    op.execute(f"DROP INDEX {_INDEX}")
    with op.batch_alter_table("messages", recreate="always") as batch:
        batch.alter_column("unique_id", existing_type=sa.Text(), nullable=False)
        batch.alter_column("violations", existing_type=sa.JSON(), nullable=False)
    op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, {_OCCURRED})")
    _give_back(conn)


def unique_id_of(raw: bytes | str) -> str:
    """What the store wrote as unique_id: the stored frame's second element (the parser
    stores only frames whose second element is a non-empty string)."""
    return storable(json.loads(unpack_raw(raw))[1])


def _fill_unique_ids(conn: Connection) -> None:
    """By id, a chunk at a time (PostgreSQL: also by ts, the partition key)."""
    after = -1
    while True:
        rows = conn.execute(text(
            "SELECT id, ts, raw FROM messages WHERE id > :a ORDER BY id LIMIT :n"),
            {"a": after, "n": _CHUNK}).fetchall()
        if not rows:
            return
        conn.execute(text("UPDATE messages SET unique_id = :u WHERE id = :id AND ts = :ts"),
                     [{"id": r[0], "ts": r[1], "u": unique_id_of(r[2])} for r in rows])
        after = rows[-1][0]


def _give_back(conn: Connection) -> None:
    """Return the rebuilt table's freed pages to the file system (as store_0004)."""
    if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:
        return
    free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    for _ in range(free):
        conn.exec_driver_sql("PRAGMA incremental_vacuum")
