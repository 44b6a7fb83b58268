"""SteVe feed: poll SteVe's MySQL/MariaDB `connector_status` and `charge_box` tables.

SteVe keeps no raw frames in its database, but it inserts one `connector_status` row
per StatusNotification (status, error_code, error_info, vendor_id,
vendor_error_code). Each new row becomes a synthetic OCPP 1.6 StatusNotification
Record (source "steve-db"; its message id is derived from the row, so re-reading a
row yields the same fingerprint and the store keeps it once).

Two schemas exist and are detected at start:
* SteVe <= 3.12: connector_status.connector_pk -> connector(charge_box_id, connector_id)
* SteVe >= 3.13 (migration V1_1_4): connector_status.evse_pk -> evse(charge_box_id, evse_id)

The table has no row id and no insert time; `status_timestamp` is the charger's own
clock, so rows can arrive late. The poller pages forward by (status_timestamp, key)
and, on every poll, re-reads an overlap window before its position to catch late
rows (remembering which rows of that window it already sent). Rows whose
status_timestamp is NULL cannot be placed: skipped, counted as rejected at start.
The position is saved in faultbot's `feed_offsets` table only after the sink stored
the rows.

Charger identity: SteVe writes the vendor, model, serial number and firmware of each
BootNotification into `charge_box` (the same columns in both schemas) but keeps no
frame. Each poll reads them first and, for a charger whose identity is new or changed,
sends a synthetic 1.6 BootNotification (its id derived from the identity, so an
unchanged identity is stored once, also across restarts), stamped with the time it
was read and a note saying where it came from. Triage and `why` then know the vendor
and model, as they would from the charger's own BootNotification.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, Row, inspect, select, text

from bot.feeds.health import FeedHealth
from bot.feeds.models import FeedOffset
from bot.feeds.sink import FrameSink
from bot.ocpp.events import TABLE_SOURCE, Record
from bot.ocpp.reasons import RejectReason
from bot.store.base import table_of
from bot.store.db import make_engine

log = logging.getLogger(__name__)

Schema = Literal["connector", "evse"]
SOURCE = TABLE_SOURCE  # identity boots are not counted as boots by triage
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COLUMNS = (
    "cs.{key} AS pk, cs.status_timestamp AS ts, cs.status, cs.error_code, cs.error_info, "
    "cs.vendor_id, cs.vendor_error_code, p.charge_box_id AS charger, p.{port} AS port "
    "FROM connector_status cs JOIN {table} p ON p.{key} = cs.{key} "
)
_SHAPES: dict[Schema, dict[str, str]] = {
    "connector": {"key": "connector_pk", "table": "connector", "port": "connector_id"},
    "evse": {"key": "evse_pk", "table": "evse", "port": "evse_id"},
}


def _queries(schema: Schema) -> tuple[Any, Any]:
    cols = _COLUMNS.format(**_SHAPES[schema])
    key = _SHAPES[schema]["key"]
    forward = text(
        f"SELECT {cols} WHERE cs.status_timestamp > :ts "
        f"OR (cs.status_timestamp = :ts AND cs.{key} >= :pk) "
        f"ORDER BY cs.status_timestamp, cs.{key} LIMIT :page"
    )
    window = text(
        f"SELECT {cols} WHERE cs.status_timestamp >= :since AND cs.status_timestamp <= :ts "
        f"ORDER BY cs.status_timestamp, cs.{key}"
    )
    return forward, window


_IDENTITY = text(
    "SELECT charge_box_id AS charger, charge_point_vendor AS vendor, "
    "charge_point_model AS model, charge_point_serial_number AS serial, "
    "fw_version AS firmware FROM charge_box "
    "WHERE charge_point_vendor IS NOT NULL OR charge_point_model IS NOT NULL "
    "ORDER BY charge_box_id"
)
IDENTITY_NOTE = "charger identity read from SteVe's charge_box table (no BootNotification frame)"


def detect_schema(engine: Engine) -> Schema:
    """Which SteVe schema this database has (raises ValueError when it is not SteVe)."""
    columns = {c["name"] for c in inspect(engine).get_columns("connector_status")}
    if "evse_pk" in columns:
        return "evse"
    if "connector_pk" in columns:
        return "connector"
    raise ValueError("connector_status has neither connector_pk nor evse_pk: not a SteVe schema")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row_key(row: Row[Any]) -> tuple[Any, ...]:
    return (row.pk, row.ts, row.status, row.error_code, row.error_info, row.vendor_error_code)


def row_record(row: Row[Any]) -> Record:
    """One connector_status row -> a synthetic 1.6 StatusNotification CALL."""
    ts = _utc(row.ts)
    digest = hashlib.sha1(repr(_row_key(row)).encode()).hexdigest()[:20]
    payload: dict[str, Any] = {
        "connectorId": row.port,
        "errorCode": row.error_code or "NoError",
        "status": row.status,
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
    }
    for field, value in (
        ("info", row.error_info),
        ("vendorId", row.vendor_id),
        ("vendorErrorCode", row.vendor_error_code),
    ):
        if value is not None:
            payload[field] = value
    return Record(
        ts=ts,
        charger=str(row.charger),
        direction="in",
        frame=[2, f"steve-{digest}", "StatusNotification", payload],
        ocpp="1.6",
        source=SOURCE,
    )


def _identity(row: Row[Any]) -> tuple[str, str, str | None, str | None]:
    return (row.vendor or "", row.model or "", row.serial or None, row.firmware or None)


def identity_record(row: Row[Any], seen_at: datetime) -> Record:
    """One charge_box row -> the 1.6 BootNotification CALL the charger sent SteVe."""
    vendor, model, serial, firmware = _identity(row)
    digest = hashlib.sha1(repr((row.charger, vendor, model, serial, firmware)).encode())
    payload: dict[str, Any] = {"chargePointVendor": vendor, "chargePointModel": model}
    if serial is not None:
        payload["chargePointSerialNumber"] = serial
    if firmware is not None:
        payload["firmwareVersion"] = firmware
    return Record(
        ts=seen_at,
        charger=str(row.charger),
        direction="in",
        frame=[2, f"steve-boot-{digest.hexdigest()[:20]}", "BootNotification", payload],
        ocpp="1.6",
        source=SOURCE,
        notes=(IDENTITY_NOTE,),
    )


class SteVePoller:
    """Polls a SteVe database into a sink; keeps its position in `state_engine`."""

    def __init__(
        self,
        db_url: str,
        sink: FrameSink,
        *,
        state_engine: Engine,
        interval: float = 10.0,
        name: str = "steve",
        overlap: timedelta = timedelta(minutes=2),
        page: int = 5000,
        health: FeedHealth | None = None,
    ) -> None:
        if db_url.startswith("mysql://"):
            db_url = "mysql+pymysql://" + db_url.removeprefix("mysql://")
        connect_args: dict[str, Any] = {}
        if db_url.startswith("mysql+pymysql"):
            # status_timestamp is a TIMESTAMP: read it in UTC whatever the server zone.
            connect_args = {"init_command": "SET time_zone = '+00:00'", "connect_timeout": 10}
        self.source = make_engine(db_url, connect_args=connect_args, pool_pre_ping=True)
        self.sink = sink
        self.state_engine = state_engine
        self.interval, self.name, self.overlap, self.page = interval, name, overlap, page
        self.health = health or FeedHealth(f"steve:{name}")
        self.schema: Schema | None = None
        self._queries: tuple[Any, Any] | None = None
        self._position: tuple[datetime, int] | None = None
        self._seen: dict[tuple[Any, ...], datetime] = {}  # rows sent inside the window
        self._has_charge_box = False
        self._identities: dict[str, tuple[Any, ...]] = {}  # identity last sent per charger

    # --- position -----------------------------------------------------------------------

    def _load_position(self) -> tuple[datetime, int]:
        with self.state_engine.connect() as conn:
            row = conn.execute(
                select(FeedOffset.position_ts, FeedOffset.position_key).where(
                    FeedOffset.feed == self.name
                )
            ).first()
        if row is None or row.position_ts is None:
            return EPOCH, 0
        return row.position_ts, int(row.position_key or 0)

    def _save_position(self, ts: datetime, pk: int) -> None:
        now = datetime.now(UTC)
        with self.state_engine.begin() as conn:
            updated = conn.execute(
                table_of(FeedOffset).update()
                .where(FeedOffset.feed == self.name)
                .values(position_ts=ts, position_key=str(pk), updated_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    table_of(FeedOffset).insert().values(
                        feed=self.name, position_ts=ts, position_key=str(pk), updated_at=now
                    )
                )

    # --- polling --------------------------------------------------------------------------

    def _send(self, rows: Sequence[Row[Any]]) -> None:
        fresh = [r for r in rows if r.ts is not None and _row_key(r) not in self._seen]
        undated = sum(1 for r in rows if r.ts is None)
        if undated:
            self.health.note_refused(RejectReason.BAD_TIMESTAMP, undated)
        if not fresh:
            return
        records = [row_record(r) for r in fresh]
        self.health.received += len(records)
        result = self.sink(records)  # raises when the store is down: position unchanged
        self.health.note_stored(records, result.stored, result.duplicates)
        self.health.note_result(result)
        for r in fresh:
            self._seen[_row_key(r)] = _utc(r.ts)

    def _send_identities(self, conn: Any) -> None:
        """BootNotifications for chargers whose charge_box identity is new or changed
        (before their status rows, so triage matches those with the right vendor)."""
        if not self._has_charge_box:
            return
        now = datetime.now(UTC)
        rows = [r for r in conn.execute(_IDENTITY).all()
                if self._identities.get(str(r.charger)) != _identity(r)]
        if not rows:
            return
        result = self.sink([identity_record(r, now) for r in rows])  # raises: retried
        self.health.note_result(result)
        for r in rows:
            self._identities[str(r.charger)] = _identity(r)

    def poll_once(self) -> int:
        """Read new (and late) rows, store them, move the position. Returns status rows
        sent (identity changes are not counted)."""
        if self._queries is None:
            self.schema = detect_schema(self.source)
            self._queries = _queries(self.schema)
            self._position = self._load_position()
            self._has_charge_box = inspect(self.source).has_table("charge_box")
            with self.source.connect() as conn:
                undated = conn.scalar(
                    text("SELECT COUNT(*) FROM connector_status WHERE status_timestamp IS NULL")
                )
            if undated:
                log.warning("SteVe has %s status rows without a timestamp; skipped", undated)
                self.health.note_refused(RejectReason.BAD_TIMESTAMP, int(undated))
        assert self._position is not None
        forward, window = self._queries
        before = self.health.received
        ts, pk = self._position
        with self.source.connect() as conn:
            self._send_identities(conn)
            if ts > EPOCH and self.overlap:
                since = ts - self.overlap
                naive = {"since": since.replace(tzinfo=None), "ts": ts.replace(tzinfo=None)}
                self._send(conn.execute(window, naive).all())
            while True:
                params = {"ts": ts.replace(tzinfo=None), "pk": pk, "page": self.page}
                rows = conn.execute(forward, params).all()
                progressed = any(_row_key(r) not in self._seen for r in rows)
                self._send(rows)
                if rows and rows[-1].ts is not None:
                    ts, pk = _utc(rows[-1].ts), int(rows[-1].pk)
                if len(rows) < self.page or not progressed:
                    break
        if (ts, pk) != self._position:
            self._save_position(ts, pk)
            self._position = (ts, pk)
        horizon = ts - self.overlap
        self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        return self.health.received - before

    async def run(self, stop_event: asyncio.Event) -> None:
        self.health.live = True
        delay = self.interval
        try:
            while not stop_event.is_set():
                try:
                    await asyncio.to_thread(self.poll_once)
                    self.health.live = True
                    delay = self.interval
                except Exception as exc:  # SteVe or our store down: retry later
                    self.health.live = False
                    self.health.sink_failures += 1
                    self.health.last_error = f"{type(exc).__name__}: {exc}"[:300]
                    log.warning("SteVe poll failed: %s", exc)
                    delay = min(max(delay * 2, 1.0), 60.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), delay)
        finally:
            self.health.live = False
            self.source.dispose()
