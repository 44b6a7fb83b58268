"""Incident tables: one open incident per port (or site) and cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base


class Incident(Base):
    """A fault on a port (connector) or a whole site, from first sighting to recovery.

    `open_key` is set while the incident is open and cleared (NULL) when it resolves;
    its unique constraint is what stops two workers opening two incidents for one
    fault. Scope: connector incidents have charger+connector; charger-wide ones have
    connector 0; site-level causes have scope "site" and charger NULL.
    """

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # "port", "charger" or "site"
    site: Mapped[str] = mapped_column(String(200), index=True)
    charger: Mapped[str | None] = mapped_column(String(200), index=True)
    connector: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(24))
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(60))
    diagnosis: Mapped[dict[str, Any]] = mapped_column()  # the latest contract-2 object
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    acked_by: Mapped[str | None] = mapped_column(String(64))
    acked_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))  # a user id, or "recovered"
    # Added by the incident stage (all optional, so existing readers are unaffected):
    # when the port last looked healthy; resolution waits out a hold-down from here so a
    # flapping port keeps one incident instead of resolving and reopening on every flap.
    recovering_since: Mapped[datetime | None]
    flaps: Mapped[int] = mapped_column(Integer, default=0)  # faulted again while recovering
    ports: Mapped[list[Any]] = mapped_column(default=list)  # [[charger, connector], ...]
    model: Mapped[str | None] = mapped_column(String(100))  # charger model, when known
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)  # escalated as flapping

    __table_args__ = (
        Index("ix_incidents_open", "resolved_at", "severity"),
        Index("ix_incidents_opened_at", "opened_at"),
    )


class DiagnosisRow(Base):
    """Every diagnosis made, in order; the audit trail behind incidents and `why`."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_fingerprint: Mapped[str] = mapped_column(String(64))
    charger: Mapped[str] = mapped_column(String(200))
    connector: Mapped[int | None] = mapped_column(Integer)
    ts: Mapped[datetime]
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(24))
    suppressed: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str] = mapped_column(String(60))
    confidence: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column()  # the contract-2 object
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    model: Mapped[str | None] = mapped_column(String(100))  # charger model, when known

    __table_args__ = (
        UniqueConstraint("message_fingerprint", "rule", name="uq_diagnoses_message_rule"),
        Index("ix_diagnoses_charger_ts", "charger", "ts"),
        Index("ix_diagnoses_ts", "ts"),
    )


class PortStatus(Base):
    """A port's status as reported, written by the pipeline when it changes.

    The raw reports live in the store's message log; this compact, time-indexed history
    is what uptime reads, so a day's figures for a whole fleet come from one range scan
    instead of re-parsing every StatusNotification.
    """

    __tablename__ = "port_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charger: Mapped[str] = mapped_column(String(200))
    connector: Mapped[int] = mapped_column(Integer)  # 0 = the whole charger
    ts: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))
    up: Mapped[bool] = mapped_column(Boolean)  # able to charge in this status
    message_fingerprint: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_port_status_ts", "ts"),
        Index("ix_port_status_port_ts", "charger", "connector", "ts"),
    )
