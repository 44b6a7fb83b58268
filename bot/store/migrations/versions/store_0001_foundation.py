"""store foundation: message log, chargers, connectors, charging sessions

Revision ID: store_0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision: str = "store_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("store",)
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chargers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("serial", sa.Text(), nullable=True),
        sa.Column("firmware", sa.Text(), nullable=True),
        sa.Column("ocpp_version", sa.String(length=8), nullable=True),
        sa.Column("first_seen", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_boot_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("boot_status", sa.String(length=32), nullable=True),
        sa.Column("boot_reply_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_interval_s", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chargers")),
    )
    op.create_table(
        "connectors",
        sa.Column("charger_id", sa.String(length=200), nullable=False),
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("vendor_id", sa.Text(), nullable=True),
        sa.Column("vendor_error_code", sa.Text(), nullable=True),
        sa.Column("info", sa.Text(), nullable=True),
        sa.Column("status_since", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_message_fp", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("charger_id", "connector_id", name=op.f("pk_connectors")),
    )
    op.create_table(
        "messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("charger_id", sa.String(length=200), nullable=False),
        sa.Column("ts", UTCDateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.SmallInteger(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("ocpp_version", sa.String(length=8), nullable=False),
        sa.Column("version_inferred", sa.Boolean(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("fault_bearing", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_messages_fingerprint")),
    )
    op.create_index(
        "ix_messages_charger_occurred", "messages", ["charger_id", "occurred_at"], unique=False
    )
    op.create_table(
        "charging_sessions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("charger_id", sa.String(length=200), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=False),
        sa.Column("id_tag", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("meter_start_wh", sa.Float(), nullable=True),
        sa.Column("last_energy_wh", sa.Float(), nullable=True),
        sa.Column("last_meter_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("energy_suspect", sa.Boolean(), nullable=False),
        sa.Column("energy_suspect_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_sessions")),
        sa.UniqueConstraint(
            "charger_id",
            "transaction_id",
            name=op.f("uq_charging_sessions_charger_id_transaction_id"),
        ),
    )
    op.create_index(
        "ix_charging_sessions_open",
        "charging_sessions",
        ["charger_id", "connector_id", "stopped_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_charging_sessions_open", table_name="charging_sessions")
    op.drop_table("charging_sessions")
    op.drop_index("ix_messages_charger_occurred", table_name="messages")
    op.drop_table("messages")
    op.drop_table("connectors")
    op.drop_table("chargers")
