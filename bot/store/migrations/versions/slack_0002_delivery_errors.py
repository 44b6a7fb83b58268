"""slack: outbox error class and detail, error count, unsure-since for lookups

Revision ID: slack_0002
Revises: slack_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "slack_0002"
down_revision: str | Sequence[str] | None = "slack_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.store.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("slack_outbox") as batch:
        batch.add_column(sa.Column("error_class", sa.String(16), nullable=True))
        batch.add_column(sa.Column("error_detail", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("unsure_since", UTC(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_outbox") as batch:
        batch.drop_column("unsure_since")
        batch.drop_column("failures")
        batch.drop_column("error_detail")
        batch.drop_column("error_class")
