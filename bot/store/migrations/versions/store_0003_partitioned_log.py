"""store: PostgreSQL's message log partitioned by day (bot.store.partitions)

The table is rebuilt as `PARTITION BY RANGE (ts)` with a DEFAULT partition and one
partition per day that holds frames (plus a few days ahead). Every row is copied with
its id, and the id sequence carries on, so checkpoints (last message ids) stay valid.
A unique key on a partitioned table must contain the partition key: the fingerprint's
becomes (fingerprint, ts), and the insert looks the fingerprint up across partitions
(bot.store.ingest). SQLite is unchanged.

Revision ID: store_0003
Revises: store_0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from bot.store.partitions import DEFAULT, ensure_ahead, ensure_days

revision: str = "store_0003"
down_revision: str | Sequence[str] | None = "store_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "messages_unpartitioned"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    seq = conn.execute(text("SELECT pg_get_serial_sequence('messages', 'id')")).scalar()
    op.execute(f"ALTER TABLE messages RENAME TO {OLD}")
    op.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT pk_messages TO pk_{OLD}")
    op.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT uq_messages_fingerprint "
               f"TO uq_{OLD}_fingerprint")
    op.execute(f"ALTER INDEX ix_messages_charger_occurred RENAME TO ix_{OLD}_charger_occurred")
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    op.execute(
        f"CREATE TABLE messages (LIKE {OLD} INCLUDING DEFAULTS, "
        "CONSTRAINT pk_messages PRIMARY KEY (id, ts), "
        "CONSTRAINT uq_messages_fingerprint_ts UNIQUE (fingerprint, ts)) "
        "PARTITION BY RANGE (ts)"
    )
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY messages.id")
    op.execute("CREATE INDEX ix_messages_charger_occurred ON messages (charger_id, occurred_at)")
    op.execute(f"CREATE TABLE {DEFAULT} PARTITION OF messages DEFAULT")
    days = conn.execute(text(
        f"SELECT DISTINCT CAST(timezone('UTC', ts) AS date) FROM {OLD}")).scalars()
    ensure_days(conn, list(days))
    ensure_ahead(conn, datetime.now(UTC).date())
    op.execute(f"INSERT INTO messages SELECT * FROM {OLD}")
    op.execute(f"DROP TABLE {OLD}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    seq = conn.execute(text("SELECT pg_get_serial_sequence('messages', 'id')")).scalar()
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    op.execute("ALTER TABLE messages RENAME TO messages_partitioned")
    op.execute("ALTER TABLE messages_partitioned RENAME CONSTRAINT pk_messages "
               "TO pk_messages_partitioned")
    op.execute("ALTER TABLE messages_partitioned RENAME CONSTRAINT uq_messages_fingerprint_ts "
               "TO uq_messages_partitioned_fingerprint_ts")
    op.execute("ALTER INDEX ix_messages_charger_occurred "
               "RENAME TO ix_messages_partitioned_charger_occurred")
    op.execute(
        "CREATE TABLE messages (LIKE messages_partitioned INCLUDING DEFAULTS, "
        "CONSTRAINT pk_messages PRIMARY KEY (id), "
        "CONSTRAINT uq_messages_fingerprint UNIQUE (fingerprint))"
    )
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY messages.id")
    op.execute("CREATE INDEX ix_messages_charger_occurred ON messages (charger_id, occurred_at)")
    op.execute("INSERT INTO messages SELECT * FROM messages_partitioned")
    op.execute("DROP TABLE messages_partitioned")  # its partitions go with it
