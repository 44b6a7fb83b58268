"""store: the log_retention table (what pruning removed from the message log)

Revision ID: store_0002
Revises: store_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision: str = "store_0002"
down_revision: str | Sequence[str] | None = "store_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_retention",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("pruned_before", UTCDateTime(), nullable=False),
        sa.Column("pruned_through_id", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", UTCDateTime(), nullable=False),
        sa.Column("removed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_log_retention")),
    )


def downgrade() -> None:
    op.drop_table("log_retention")
