"""slack: weekly reports posted, for the digest's link to the latest

Revision ID: slack_0004
Revises: slack_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "slack_0004"
down_revision: str | Sequence[str] | None = "slack_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "slack_report_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("posted_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_report_posts")),
    )
    op.create_index(
        "uq_slack_report_posts_channel_ts", "slack_report_posts", ["channel", "ts"], unique=True
    )
    op.create_index("ix_slack_report_posts_posted_at", "slack_report_posts", ["posted_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_report_posts_posted_at", table_name="slack_report_posts")
    op.drop_index("uq_slack_report_posts_channel_ts", table_name="slack_report_posts")
    op.drop_table("slack_report_posts")
