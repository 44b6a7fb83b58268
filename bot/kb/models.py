"""Knowledge tables: what operators taught, and which codes were seen but not known."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base
from bot.store.models import CHARGER_ID_LEN

CODE_KEY_LEN = 40  # sha1 hex of the (vendor, model, firmware, code) identity


class KBRuntimeEntry(Base):
    """A code an operator taught the bot (from Slack or `faultbot kb teach`), attributed.

    `model` is '' when the entry is for every model, so (vendor, model, code) can be
    unique on every backend (NULLs never collide in a unique constraint).
    """

    __tablename__ = "kb_runtime_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(24))
    meaning: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    escalation: Mapped[str | None] = mapped_column(Text)
    taught_by: Mapped[str] = mapped_column(String(64))
    taught_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("vendor", "model", "code"),)


class KBUnknownCode(Base):
    """A code seen in the field that the knowledge base could not explain, counted.

    '' stands for an unknown vendor/model/firmware (see KBRuntimeEntry on NULLs).
    """

    __tablename__ = "kb_unknown_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    firmware: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(String(200))
    info: Mapped[str | None] = mapped_column(String(500))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)
    # The identity above as one short key (links kb_unknown_chargers); see unknown_code_key.
    code_key: Mapped[str] = mapped_column(String(CODE_KEY_LEN), default="")
    chargers: Mapped[int] = mapped_column(Integer, default=0)  # distinct chargers seen sending it

    __table_args__ = (
        UniqueConstraint("vendor", "model", "firmware", "code"),
        Index("ix_kb_unknown_codes_count", "count"),
        Index("ix_kb_unknown_codes_code_key", "code_key"),
    )


class KBUnknownCharger(Base):
    """One charger seen sending one unknown code: the exact, cheap way to count distinct
    chargers per code (insert-ignore a pair per batch, count the pairs)."""

    __tablename__ = "kb_unknown_chargers"

    code_key: Mapped[str] = mapped_column(String(CODE_KEY_LEN), primary_key=True)
    charger: Mapped[str] = mapped_column(String(CHARGER_ID_LEN), primary_key=True)
    first_seen: Mapped[datetime]
