"""slack: paging escalations, and who snoozed an alert

Revision ID: slack_0003
Revises: slack_0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "slack_0003"
down_revision: str | Sequence[str] | None = "slack_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "slack_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("due_at", UTC(), nullable=False),
        sa.Column("mention", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.String(40), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("fired_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_escalations")),
    )
    op.create_index(
        "uq_slack_escalations_incident_id_step",
        "slack_escalations",
        ["incident_id", "step"],
        unique=True,
    )
    op.create_index(
        "ix_slack_escalations_status_due_at", "slack_escalations", ["status", "due_at"]
    )
    with op.batch_alter_table("slack_alert_messages") as batch:
        batch.add_column(sa.Column("snoozed_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_alert_messages") as batch:
        batch.drop_column("snoozed_by")
    op.drop_index("ix_slack_escalations_status_due_at", table_name="slack_escalations")
    op.drop_index("uq_slack_escalations_incident_id_step", table_name="slack_escalations")
    op.drop_table("slack_escalations")
