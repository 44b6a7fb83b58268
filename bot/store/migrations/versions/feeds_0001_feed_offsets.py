"""feeds: the feed_offsets table (positions of polling feeds)

Revision ID: feeds_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "feeds_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("feeds",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_offsets",
        sa.Column("feed", sa.String(length=200), nullable=False),
        sa.Column("position_ts", bot.store.base.UTCDateTime(), nullable=True),
        sa.Column("position_key", sa.String(length=200), nullable=False),
        sa.Column("updated_at", bot.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_feed_offsets")),
    )


def downgrade() -> None:
    op.drop_table("feed_offsets")
