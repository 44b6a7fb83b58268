"""actions: the remote_actions audit table

Revision ID: actions_0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "actions_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("actions",)
depends_on: str | Sequence[str] | None = None

UTC = bot.store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "remote_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("charger", sa.String(200), nullable=False),
        sa.Column("connector", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", UTC(), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(80), nullable=True),
        sa.Column("answered_at", UTC(), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("outcome_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_actions")),
        sa.UniqueConstraint("request_key", name=op.f("uq_remote_actions_request_key")),
    )
    op.create_index(
        op.f("ix_remote_actions_incident_id"), "remote_actions", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_remote_actions_port", "remote_actions", ["charger", "connector", "requested_at"],
        unique=False,
    )
    op.create_index(
        "ix_remote_actions_outcome", "remote_actions", ["outcome", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_remote_actions_outcome", table_name="remote_actions")
    op.drop_index("ix_remote_actions_port", table_name="remote_actions")
    op.drop_index(op.f("ix_remote_actions_incident_id"), table_name="remote_actions")
    op.drop_table("remote_actions")
