"""The store's tables: the append-only message log and the state derived from it.

`messages` is the source of truth (every frame verbatim, once, keyed by fingerprint).
`chargers`, `connectors` and `charging_sessions` are the current picture built from the
log by `bot.store.ingest`; they can be rebuilt by replaying the log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from bot.store.base import Base
from bot.store.compact import LOG_TIME, Fingerprint, RawFrame, Violations, Word

OCCURRED_SQL = "coalesce(occurred_at, ts)"  # the log index's expression, as SQL renders it

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
BigId = BigInteger().with_variant(Integer(), "sqlite")

CHARGER_ID_LEN = 200


class Charger(Base):
    """One charge point, as it describes itself and as last heard from."""

    __tablename__ = "chargers"

    id: Mapped[str] = mapped_column(String(CHARGER_ID_LEN), primary_key=True)
    vendor: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    serial: Mapped[str | None] = mapped_column(Text)
    firmware: Mapped[str | None] = mapped_column(Text)
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[datetime | None]  # any frame, either direction
    last_seen: Mapped[datetime | None]  # latest inbound frame (charger -> CSMS)
    last_boot_at: Mapped[datetime | None]  # latest BootNotification
    boot_status: Mapped[str | None] = mapped_column(String(32))
    boot_reply_at: Mapped[datetime | None]  # when boot_status was given (order-robustness)
    heartbeat_interval_s: Mapped[int | None] = mapped_column(Integer)


class Connector(Base):
    """Current state of one port; connector 0 is the whole charger.

    `connector_id` is the port number: the connectorId on 1.6, the evseId on 2.x (whose
    connectorId counts within the EVSE), the same numbering incidents use.
    """

    __tablename__ = "connectors"

    charger_id: Mapped[str] = mapped_column(String(CHARGER_ID_LEN), primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    evse_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    vendor_id: Mapped[str | None] = mapped_column(Text)
    vendor_error_code: Mapped[str | None] = mapped_column(Text)
    info: Mapped[str | None] = mapped_column(Text)
    status_since: Mapped[datetime]  # when the current status began
    updated_at: Mapped[datetime]  # occurred_at of the report that set this state
    last_message_fp: Mapped[str | None] = mapped_column(String(64))


class LogSource(Base):
    """Where frames came from (a file, a feed's queue), once each: the log stores the id
    (store_0007), not the text again on every frame. Rows are only ever added."""

    __tablename__ = "log_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class MessageRow(Base):
    """The append-only message log: every frame once, as sent.

    Stored compactly (bot.store.compact): the fingerprint as 16 bytes, the raw frame as
    UTF-8 or dictionary-DEFLATE, the times as integers on SQLite, direction, action and
    OCPP version as one- or two-byte codes, no violations as NULL, the source as the id
    of its `log_sources` row. The frame's unique id is not a column (store_0007): it is
    the frame's second element, in `raw`."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(Fingerprint, unique=True)
    charger_id: Mapped[str] = mapped_column(String(CHARGER_ID_LEN))
    ts: Mapped[datetime] = mapped_column(LOG_TIME)  # when the CSMS saw it
    # the payload's time when sane and not ts, else NULL (8 bytes a frame less; most
    # frames carry no time of their own): read `occurred_at`, never this column
    occurred_stored: Mapped[datetime | None] = mapped_column("occurred_at", LOG_TIME)
    direction: Mapped[str] = mapped_column(Word)
    message_type: Mapped[int] = mapped_column(SmallInteger)
    action: Mapped[str | None] = mapped_column(Word)
    ocpp_version: Mapped[str] = mapped_column(Word)
    version_inferred: Mapped[bool] = mapped_column(Boolean)
    connector_id: Mapped[int | None] = mapped_column(Integer)  # from the fact, when it has one
    fault_bearing: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[str] = mapped_column(RawFrame)
    violations: Mapped[list[Any]] = mapped_column(Violations, nullable=True)  # [] if NULL
    source_id: Mapped[int] = mapped_column(Integer)  # log_sources.id: read `source`

    # where the frame came from, as given when it was stored
    source: Mapped[str] = column_property(  # labelled: a Core row has it as `.source`
        select(LogSource.name).where(LogSource.id == source_id).scalar_subquery()
        .label("source"))

    # when it happened: payload time when sane, else ts. Filter and order by this very
    # expression: the index below is on it.
    occurred_at: Mapped[datetime] = column_property(
        type_coerce(func.coalesce(occurred_stored, ts), LOG_TIME))

    @property
    def unique_id(self) -> str:
        """The frame's unique id, its second element (not a column: store_0007)."""
        return str(json.loads(self.raw)[1])

    __table_args__ = (
        # history of one charger in time order: `faultbot log`, triage replay
        Index("ix_messages_charger_occurred", "charger_id", text(OCCURRED_SQL)),
    )


class ChargingSession(Base):
    """One charging transaction, folded from Start/Stop/TransactionEvent/MeterValues."""

    __tablename__ = "charging_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charger_id: Mapped[str] = mapped_column(String(CHARGER_ID_LEN))
    connector_id: Mapped[int | None] = mapped_column(Integer)
    transaction_id: Mapped[str] = mapped_column(Text)
    id_tag: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    meter_start_wh: Mapped[float | None] = mapped_column(Float)
    last_energy_wh: Mapped[float | None] = mapped_column(Float)
    last_meter_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(Text)
    energy_suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    energy_suspect_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("charger_id", "transaction_id"),
        Index("ix_charging_sessions_open", "charger_id", "connector_id", "stopped_at"),
    )


class LogRetention(Base):
    """What retention has removed from the message log (one row, `name` = "messages").

    Frames received before `pruned_before` may be gone; a frame from before then that
    arrives again (an old file re-ingested) is not stored, because folding it now would
    change answers that were settled when it was first stored."""

    __tablename__ = "log_retention"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    pruned_before: Mapped[datetime]
    pruned_through_id: Mapped[int] = mapped_column(BigInteger)
    pruned_at: Mapped[datetime]
    removed: Mapped[int] = mapped_column(BigInteger, default=0)  # frames removed, all runs
