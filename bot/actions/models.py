"""The audit table of remote actions: who asked for what, what the charger answered,
and whether it fixed the fault."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base

# status: refused (a limit said no), dry_run (first aid would have), sending, then
# accepted / rejected (the charger said no) / failed (no answer, CALLERROR, HTTP error)
# or sent (handed to a CSMS that answers later).
DONE = ("accepted", "rejected", "failed", "sent")
ATTEMPTED = ("sending", *DONE)


class RemoteAction(Base):
    __tablename__ = "remote_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Exactly once: a retried request (Slack re-sending a modal submission, first aid
    # running again) finds its row instead of acting twice.
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    charger: Mapped[str] = mapped_column(String(200))
    connector: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    requested_by: Mapped[str] = mapped_column(String(64))  # a Slack user id, or "first-aid"
    requested_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(16))  # tap, citrineos, none
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))  # why refused or not sent
    answer: Mapped[str | None] = mapped_column(Text)  # the charger's (or CSMS's) answer
    message_id: Mapped[str | None] = mapped_column(String(80))
    answered_at: Mapped[datetime | None]
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(16))  # fixed, not_fixed
    outcome_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_remote_actions_port", "charger", "connector", "requested_at"),
        Index("ix_remote_actions_outcome", "outcome", "status"),
    )
