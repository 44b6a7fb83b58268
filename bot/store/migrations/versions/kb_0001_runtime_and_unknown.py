"""kb: operator-taught entries and unknown-code sightings

Revision ID: kb_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision: str = "kb_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("kb",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_runtime_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=24), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("escalation", sa.Text(), nullable=True),
        sa.Column("taught_by", sa.String(length=64), nullable=False),
        sa.Column("taught_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_runtime_entries")),
        sa.UniqueConstraint(
            "vendor", "model", "code", name=op.f("uq_kb_runtime_entries_vendor_model_code")
        ),
    )
    op.create_table(
        "kb_unknown_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("firmware", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("info", sa.String(length=500), nullable=True),
        sa.Column("first_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_unknown_codes")),
        sa.UniqueConstraint(
            "vendor",
            "model",
            "firmware",
            "code",
            name=op.f("uq_kb_unknown_codes_vendor_model_firmware_code"),
        ),
    )
    op.create_index("ix_kb_unknown_codes_count", "kb_unknown_codes", ["count"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kb_unknown_codes_count", table_name="kb_unknown_codes")
    op.drop_table("kb_unknown_codes")
    op.drop_table("kb_runtime_entries")
