"""fold: the fold_checkpoints table (triage context saved with the last folded message)

Revision ID: fold_0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "fold_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("fold",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fold_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("feed_time", bot.store.base.UTCDateTime(), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("saved_at", bot.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fold_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("fold_checkpoints")
