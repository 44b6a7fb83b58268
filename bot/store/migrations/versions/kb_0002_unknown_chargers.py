"""kb: distinct chargers per unknown code (kb_unknown_chargers, kb_unknown_codes.chargers)

Revision ID: kb_0002
Revises: kb_0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision: str = "kb_0002"
down_revision: str | Sequence[str] | None = "kb_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(vendor: str, model: str, firmware: str, code: str) -> str:
    # Frozen copy of bot.kb.runtime.unknown_code_key: a migration must not change with the code.
    return hashlib.sha1(
        "\x1f".join((vendor, model, firmware, code)).encode("utf-8"), usedforsecurity=False
    ).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("kb_unknown_codes") as batch:
        batch.add_column(
            sa.Column("code_key", sa.String(length=40), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("chargers", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    codes = sa.table(
        "kb_unknown_codes",
        sa.column("id", sa.Integer()),
        sa.column("vendor", sa.String()),
        sa.column("model", sa.String()),
        sa.column("firmware", sa.String()),
        sa.column("code", sa.String()),
        sa.column("code_key", sa.String()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(codes.c.id, codes.c.vendor, codes.c.model, codes.c.firmware, codes.c.code)
    ).all()
    if rows:  # rows seen before chargers were tracked keep chargers = 0 (not known)
        conn.execute(
            codes.update().where(codes.c.id == sa.bindparam("row_id")),
            [
                {"row_id": r.id, "code_key": _key(r.vendor, r.model, r.firmware, r.code)}
                for r in rows
            ],
        )
    op.create_index("ix_kb_unknown_codes_code_key", "kb_unknown_codes", ["code_key"])
    op.create_table(
        "kb_unknown_chargers",
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("charger", sa.String(length=200), nullable=False),
        sa.Column("first_seen", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "charger", name=op.f("pk_kb_unknown_chargers")),
    )


def downgrade() -> None:
    op.drop_table("kb_unknown_chargers")
    op.drop_index("ix_kb_unknown_codes_code_key", table_name="kb_unknown_codes")
    with op.batch_alter_table("kb_unknown_codes") as batch:
        batch.drop_column("chargers")
        batch.drop_column("code_key")
