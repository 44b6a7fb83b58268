"""store: the log keeps occurred_at only when it is not ts

Most frames carry no time of their own, so their occurred_at was ts a second time (8
bytes). The column becomes nullable, NULL meaning "the same as ts", and the history
index is on coalesce(occurred_at, ts), the expression the readers filter and order by
(bot.store.models.MessageRow.occurred_at). Every row keeps its id and its time.

SQLite: the table is rebuilt nullable and the repeated times are set NULL.
PostgreSQL: the constraint is dropped and the index replaced; existing rows keep their
repeated time (coalesce reads them the same; rewriting every row of a large log for 8
bytes is not worth it; they age out with retention), new rows are stored without it.

Revision ID: store_0006
Revises: store_0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "store_0006"
down_revision: str | Sequence[str] | None = "store_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_messages_charger_occurred"
_OCCURRED = "coalesce(occurred_at, ts)"  # as bot.store.models.OCCURRED_SQL


def upgrade() -> None:
    conn = op.get_bind()
    op.execute(f"DROP INDEX {_INDEX}")
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN occurred_at DROP NOT NULL")
    else:
        with op.batch_alter_table("messages", recreate="always") as batch:
            batch.alter_column("occurred_at", existing_type=sa.BigInteger(), nullable=True)
        op.execute("UPDATE messages SET occurred_at = NULL WHERE occurred_at = ts")
    op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, {_OCCURRED})")
    if conn.dialect.name == "sqlite":
        _give_back(conn)


def downgrade() -> None:
    conn = op.get_bind()
    op.execute(f"DROP INDEX {_INDEX}")
    op.execute("UPDATE messages SET occurred_at = ts WHERE occurred_at IS NULL")
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN occurred_at SET NOT NULL")
    else:
        with op.batch_alter_table("messages", recreate="always") as batch:
            batch.alter_column("occurred_at", existing_type=sa.BigInteger(), nullable=False)
    op.execute(f"CREATE INDEX {_INDEX} ON messages (charger_id, occurred_at)")


def _give_back(conn: sa.Connection) -> None:
    """Return the rebuilt table's freed pages to the file system (as store_0004)."""
    if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:
        return
    free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    for _ in range(free):
        conn.exec_driver_sql("PRAGMA incremental_vacuum")
