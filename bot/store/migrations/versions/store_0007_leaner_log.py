"""store: a leaner log: no unique_id, no empty violations, sources interned

- unique_id goes: it repeated the frame's second element, which `raw` keeps (nothing
  read the column: readers parse raw again).
- violations is NULL when the frame has none (most frames) instead of the text "[]";
  readers get [] for both (bot.store.compact.Violations).
- source: each distinct text is one row of the new `log_sources`; the log keeps its id
  (`source_id`), readers the text (bot.store.models.MessageRow.source).

Every row keeps its id; no frame is added or lost.

SQLite: the table is rebuilt. PostgreSQL: in place on the partitioned table, with one
UPDATE of every row (filling source_id), whose new row versions leave out the unique
id, the source text and an empty list; the old versions' space is reused once
autovacuum has passed (a large log: run it in a quiet hour, then VACUUM).

Downgrade: unique_id is read back out of each frame (the same text the store wrote:
the frame's second element, bot.ocpp.cleaning.storable), the sources and the empty
lists restored.

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
    op.create_table(
        "log_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_log_sources_name")),
    )
    # in order of first use, as the store would have added them
    op.execute("INSERT INTO log_sources (name) "
               "SELECT source FROM messages GROUP BY source ORDER BY min(id)")
    op.add_column("messages", sa.Column("source_id", sa.Integer(), nullable=True))
    if conn.dialect.name == "postgresql":
        # the one rewrite of every row leaves out all three (unique_id dropped first)
        op.execute("ALTER TABLE messages DROP COLUMN unique_id, "
                   "ALTER COLUMN source DROP NOT NULL, ALTER COLUMN violations DROP NOT NULL")
        op.execute("UPDATE messages SET source_id = "
                   "(SELECT s.id FROM log_sources s WHERE s.name = messages.source), "
                   "source = NULL, violations = CASE WHEN violations::text = '[]' THEN NULL "
                   "ELSE violations END")
        op.execute("ALTER TABLE messages DROP COLUMN source, "
                   "ALTER COLUMN source_id SET NOT NULL")
        return
    op.execute("UPDATE messages SET source_id = "
               "(SELECT s.id FROM log_sources s WHERE s.name = messages.source)")
    op.execute(f"DROP INDEX {_INDEX}")  # the rebuild cannot copy an expression index
    with op.batch_alter_table("messages", recreate="always") as batch:
        batch.drop_column("unique_id")
        batch.drop_column("source")
        batch.alter_column("source_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("violations", existing_type=sa.JSON(), nullable=True)
    op.execute("UPDATE messages SET violations = NULL WHERE violations = '[]'")
    op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, {_OCCURRED})")
    _give_back(conn)


def downgrade() -> None:
    conn = op.get_bind()
    op.add_column("messages", sa.Column("unique_id", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("source", sa.Text(), nullable=True))
    _fill_unique_ids(conn)
    op.execute("UPDATE messages SET violations = '[]' WHERE violations IS NULL")
    op.execute("UPDATE messages SET source = "
               "(SELECT s.name FROM log_sources s WHERE s.id = messages.source_id)")
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE messages DROP COLUMN source_id, "
                   "ALTER COLUMN unique_id SET NOT NULL, ALTER COLUMN source SET NOT NULL, "
                   "ALTER COLUMN violations SET NOT NULL")
    else:
        op.execute(f"DROP INDEX {_INDEX}")
        with op.batch_alter_table("messages", recreate="always") as batch:
            batch.drop_column("source_id")
            batch.alter_column("unique_id", existing_type=sa.Text(), nullable=False)
            batch.alter_column("source", existing_type=sa.Text(), nullable=False)
            batch.alter_column("violations", existing_type=sa.JSON(), nullable=False)
        op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, {_OCCURRED})")
        _give_back(conn)
    op.drop_table("log_sources")


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
