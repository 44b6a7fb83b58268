"""Slack stage tables: outbox, alert anchors, digest runs, seen events.

Revision ID: slack_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "slack_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("slack",)
depends_on: str | Sequence[str] | None = None

UTC = bot.store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "slack_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("coalesce_key", sa.String(200), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(16), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("claimed_at", UTC(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("result_ts", sa.String(40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_slack_outbox_dedupe_key")),
    )
    op.create_index(
        op.f("ix_slack_outbox_coalesce_key"), "slack_outbox", ["coalesce_key"], unique=False
    )
    op.create_index("ix_slack_outbox_status_id", "slack_outbox", ["status", "id"], unique=False)

    op.create_table(
        "slack_alert_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("root_incident_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("ts", sa.String(40), nullable=True),
        sa.Column("flap_key", sa.String(300), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("posted_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_alert_messages")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_slack_alert_messages_incident_id")),
    )
    op.create_index(
        op.f("ix_slack_alert_messages_root_incident_id"),
        "slack_alert_messages",
        ["root_incident_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_slack_alert_messages_flap_key"), "slack_alert_messages", ["flap_key"], unique=False
    )

    op.create_table(
        "slack_digest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("claimed_at", UTC(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_digest_runs")),
    )
    op.create_index(
        "uq_slack_digest_runs_channel_local_date",
        "slack_digest_runs",
        ["channel", "local_date"],
        unique=True,
    )

    op.create_table(
        "slack_seen_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(80), nullable=False),
        sa.Column("seen_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_seen_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_slack_seen_events_event_id")),
    )


def downgrade() -> None:
    op.drop_table("slack_seen_events")
    op.drop_index("uq_slack_digest_runs_channel_local_date", table_name="slack_digest_runs")
    op.drop_table("slack_digest_runs")
    op.drop_index(op.f("ix_slack_alert_messages_flap_key"), table_name="slack_alert_messages")
    op.drop_index(
        op.f("ix_slack_alert_messages_root_incident_id"), table_name="slack_alert_messages"
    )
    op.drop_table("slack_alert_messages")
    op.drop_index("ix_slack_outbox_status_id", table_name="slack_outbox")
    op.drop_index(op.f("ix_slack_outbox_coalesce_key"), table_name="slack_outbox")
    op.drop_table("slack_outbox")
