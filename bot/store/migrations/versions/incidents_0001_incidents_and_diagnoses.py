"""incidents: the incidents, diagnoses and port_status tables

Revision ID: incidents_0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.base

revision: str = "incidents_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("incidents",)
depends_on: str | Sequence[str] | None = None


def _utc() -> bot.store.base.UTCDateTime:
    return bot.store.base.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("charger", sa.String(length=200), nullable=True),
        sa.Column("connector", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=24), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("diagnosis", sa.JSON(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("acked_by", sa.String(length=64), nullable=True),
        sa.Column("acked_at", _utc(), nullable=True),
        sa.Column("snoozed_until", _utc(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("recovering_since", _utc(), nullable=True),
        sa.Column("flaps", sa.Integer(), nullable=False),
        sa.Column("ports", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("open_key", name=op.f("uq_incidents_open_key")),
    )
    op.create_index("ix_incidents_open", "incidents", ["resolved_at", "severity"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])
    op.create_index(op.f("ix_incidents_site"), "incidents", ["site"])
    op.create_index(op.f("ix_incidents_charger"), "incidents", ["charger"])

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("charger", sa.String(length=200), nullable=False),
        sa.Column("connector", sa.Integer(), nullable=True),
        sa.Column("ts", _utc(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=24), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
        sa.UniqueConstraint("message_fingerprint", "rule", name="uq_diagnoses_message_rule"),
    )
    op.create_index("ix_diagnoses_charger_ts", "diagnoses", ["charger", "ts"])
    op.create_index("ix_diagnoses_ts", "diagnoses", ["ts"])
    op.create_index(op.f("ix_diagnoses_incident_id"), "diagnoses", ["incident_id"])

    op.create_table(
        "port_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charger", sa.String(length=200), nullable=False),
        sa.Column("connector", sa.Integer(), nullable=False),
        sa.Column("ts", _utc(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("message_fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_status")),
        sa.UniqueConstraint(
            "message_fingerprint", name=op.f("uq_port_status_message_fingerprint")
        ),
    )
    op.create_index("ix_port_status_ts", "port_status", ["ts"])
    op.create_index("ix_port_status_port_ts", "port_status", ["charger", "connector", "ts"])


def downgrade() -> None:
    op.drop_table("port_status")
    op.drop_table("diagnoses")
    op.drop_table("incidents")
