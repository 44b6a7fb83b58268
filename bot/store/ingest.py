"""Persist parsed messages and fold the new ones into charger, port and session state.

One transaction per batch. The log insert is `INSERT ... ON CONFLICT (fingerprint) DO
NOTHING RETURNING fingerprint`, so a frame is stored once however often it is fed (same
batch, later batch, another run, another worker) and we learn which frames were new
without a per-row SELECT. Only new frames change state, and every state write is an
upsert whose SQL keeps it order-robust (a late, older report never overwrites a newer
one), so two workers ingesting overlapping data into one PostgreSQL cannot race.
A batch costs a handful of bulk statements, not one per frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from bot.ocpp.cleaning import escaped, storable
from bot.ocpp.events import (
    CONNECTION,
    BootInfo,
    BootReply,
    EventReport,
    LineError,
    Message,
    StatusReport,
    TransactionUpdate,
)
from bot.ocpp.reasons import RejectReason
from bot.store.base import table_of
from bot.store.compact import fp_from_db, fp_to_db, pack_raw, to_micros, word_to_db
from bot.store.models import CHARGER_ID_LEN, Charger, ChargingSession, Connector, MessageRow
from bot.store.sources import SourceIds

MSG = table_of(MessageRow)
CHG = table_of(Charger)
CON = table_of(Connector)
SES = table_of(ChargingSession)

_STAGE = "pg_temp.faultbot_log_batch"  # PostgreSQL: each batch's rows on their way in
_CACHE_LIMIT = 1_000_000  # entries; dropped wholesale when exceeded (a cache, not state)


@dataclass(slots=True)
class IngestResult:
    new: list[Message] = field(default_factory=list)  # stored for the first time, input order
    duplicates: int = 0  # already stored (earlier batch/run/worker) or repeated in the batch
    chargers_seen: set[str] = field(default_factory=set)
    rejected: list[LineError] = field(default_factory=list)  # messages the store cannot hold
    refused: list[Message] = field(default_factory=list)  # ... the messages themselves
    # what the in-memory caches learn from this batch; applied only once it committed
    pending: tuple[dict[str, datetime], dict[tuple[str, int], datetime]] | None = None
    sources: dict[str, int] | None = None  # source ids found or added (bot.store.sources)


def _newer(new: Any, old: Any) -> Any:
    """SQL: the later of two nullable values (NULL loses)."""
    return case((or_(old.is_(None), new > old), new), else_=old)


def _older(new: Any, old: Any) -> Any:
    return case((or_(old.is_(None), new < old), new), else_=old)


class _ChargerAgg:
    __slots__ = (
        "boot",
        "boot_at",
        "first_seen",
        "id",
        "last_seen",
        "ocpp_version",
        "reply",
        "reply_at",
    )

    def __init__(self, charger: str, ts: datetime) -> None:
        self.id = charger
        self.first_seen = ts
        self.last_seen: datetime | None = None
        self.ocpp_version: str | None = None
        self.boot: BootInfo | None = None
        self.boot_at: datetime | None = None
        self.reply: BootReply | None = None
        self.reply_at: datetime | None = None

    def row(self, when: Callable[[datetime], Any]) -> tuple[Any, ...]:
        """The full upsert's values, in CHARGER_KEYS order (times converted by `when`)."""
        b, r = self.boot, self.reply
        return (
            self.id,
            _text(b.vendor) if b else None,
            _text(b.model) if b else None,
            _text(b.serial) if b else None,
            _text(b.firmware) if b else None,
            self.ocpp_version,
            when(self.first_seen),
            _when(when, self.last_seen),
            _when(when, self.boot_at),
            _text(r.status[:32]) if r else None,
            _when(when, self.reply_at),
            _int_or_none(r.interval) if r else None,
        )


CHARGER_KEYS = (
    "id", "vendor", "model", "serial", "firmware", "ocpp_version", "first_seen", "last_seen",
    "last_boot_at", "boot_status", "boot_reply_at", "heartbeat_interval_s",
)  # fmt: skip
TOUCH_KEYS = ("t_id", "t_seen", "t_version")
PORT_KEYS = (
    "charger_id", "connector_id", "evse_id", "status", "error_code", "vendor_id",
    "vendor_error_code", "info", "status_since", "updated_at", "last_message_fp",
)  # fmt: skip
SESSION_KEYS = (
    "charger_id", "transaction_id", "connector_id", "id_tag", "started_at", "stopped_at",
    "meter_start_wh", "last_energy_wh", "last_meter_at", "stop_reason", "energy_suspect",
    "energy_suspect_reason",
)  # fmt: skip


def _unnest(table: Table, keys: Sequence[str]) -> Any:
    """SELECT <keys> FROM unnest(:key1::type[], :key2::type[], ...): rows from one
    array parameter per column (PostgreSQL)."""
    arrays = [bindparam(k, type_=postgresql.ARRAY(table.c[k].type)) for k in keys]
    rows = func.unnest(*arrays).table_valued(*keys).render_derived(name="u")
    return select(*(rows.c[k] for k in keys))


def _when(when: Callable[[datetime], Any], value: datetime | None) -> Any:
    return None if value is None else when(value)


class _Plain:
    """A state statement built with SQLAlchemy's expressions (the order-robust CASEs),
    compiled once for the dialect and then sent to the driver as plain SQL: rows are
    tuples in `keys` order whose values are already what the driver takes (times
    converted once), so no per-row bind processing (about 15 µs a row in SQLAlchemy's
    executemany, the largest cost of the state upserts)."""

    def __init__(
        self, stmt: Any, dialect: Any, keys: Sequence[str], *, arrays: bool = False
    ) -> None:
        """arrays: `stmt` takes one array per key (see _unnest); `run` sends the rows
        as columns in one execute."""
        self.arrays = arrays
        compiled = stmt.compile(dialect=dialect, column_keys=None if arrays else list(keys))
        self.sql = compiled.string
        if arrays:
            # %b: binary arrays; psycopg escapes every element of a text-format array in
            # Python, which cost more than the server's upsert
            for k in keys:
                self.sql = self.sql.replace(f"%({k})s", f"%({k})b")
        consts = {name: b.value for name, b in compiled.binds.items() if name not in keys}
        self.keys = tuple(keys)
        self.consts = consts
        order = compiled.positiontup  # None for named paramstyles (psycopg: pyformat)
        self.shape: list[tuple[int | None, Any]] | None = None
        self.positional = order is not None
        if order is not None and list(order) != list(keys):
            at = {k: i for i, k in enumerate(keys)}
            self.shape = [(at.get(name), consts.get(name)) for name in order]

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        params: Any
        if self.arrays:
            columns = zip(*rows, strict=True)
            conn.exec_driver_sql(
                self.sql, {**dict(zip(self.keys, map(list, columns), strict=True)), **self.consts}
            )
            return
        if not self.positional:
            keys, consts = self.keys, self.consts
            params = [{**dict(zip(keys, r, strict=True)), **consts} for r in rows]
        elif self.shape is not None:
            shape = self.shape
            params = [tuple(c if i is None else r[i] for i, c in shape) for r in rows]
        else:
            params = list(rows)
        conn.exec_driver_sql(self.sql, params)


class Ingestor:
    """Stores batches of Messages into one database. Keep one per process and reuse it:
    its caches (what the database is known to hold already) save statements."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "postgresql":
            insert: Any = postgresql.insert
        elif self.dialect == "sqlite":
            insert = sqlite.insert
        else:
            raise ValueError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")
        self._log_writer = _LogWriter(engine.dialect)
        self._sources = SourceIds()
        d = engine.dialect
        # datetime -> what the driver takes for the state tables' times (not the log's:
        # on SQLite the log keeps integer microseconds, the state tables ISO text)
        self._when = _state_time(d)
        pg = self.dialect == "postgresql"

        def rows_of(keys: Sequence[str]) -> Callable[[Table], Any]:
            """The upserts' INSERT: per-row VALUES on SQLite (executemany there is a C
            loop), one INSERT ... SELECT FROM unnest(<one array per column>) on
            PostgreSQL (one statement, one round trip, whatever the batch size)."""
            if pg:
                return lambda table: insert(table).from_select(list(keys), _unnest(table, keys))
            return cast(Callable[[Table], Any], insert)

        self._upsert_chargers = _Plain(
            self._charger_upsert(rows_of(CHARGER_KEYS)), d, CHARGER_KEYS, arrays=pg
        )
        # PostgreSQL: a touched charger goes through the full upsert (the same result),
        # in the one statement; an UPDATE ... FROM unnest would lock in join order
        self._touch_chargers = None if pg else _Plain(self._charger_touch(), d, TOUCH_KEYS)
        self._upsert_ports_same = _Plain(
            self._connector_upsert(rows_of(PORT_KEYS), single_run=True), d, PORT_KEYS, arrays=pg
        )
        self._upsert_ports_changed = _Plain(
            self._connector_upsert(rows_of(PORT_KEYS), single_run=False), d, PORT_KEYS, arrays=pg
        )
        self._session_starts = _Plain(
            self._session_upsert(rows_of(SESSION_KEYS)), d, SESSION_KEYS, arrays=pg
        )
        # lower bounds of what the database holds (both values only ever grow there)
        self._charger_last_seen: dict[str, datetime] = {}
        self._port_updated: dict[tuple[str, int], datetime] = {}

    # --- statements, built once ---------------------------------------------------

    @staticmethod
    def _charger_upsert(insert: Any) -> Any:
        stmt = insert(CHG)
        ex, c = stmt.excluded, CHG.c
        rebooted = and_(
            ex.last_boot_at.is_not(None),
            or_(c.last_boot_at.is_(None), ex.last_boot_at >= c.last_boot_at),
        )
        replied = and_(
            ex.boot_reply_at.is_not(None),
            or_(c.boot_reply_at.is_(None), ex.boot_reply_at >= c.boot_reply_at),
        )
        identity = {
            name: case((rebooted, getattr(ex, name)), else_=getattr(c, name))
            for name in ("vendor", "model", "serial", "firmware")
        }
        return stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                **identity,
                "ocpp_version": case(
                    (ex.ocpp_version.is_not(None), ex.ocpp_version), else_=c.ocpp_version
                ),
                "first_seen": _older(ex.first_seen, c.first_seen),
                "last_seen": _newer(ex.last_seen, c.last_seen),
                "last_boot_at": _newer(ex.last_boot_at, c.last_boot_at),
                "boot_status": case((replied, ex.boot_status), else_=c.boot_status),
                "boot_reply_at": _newer(ex.boot_reply_at, c.boot_reply_at),
                "heartbeat_interval_s": case(
                    (and_(replied, ex.heartbeat_interval_s.is_not(None)), ex.heartbeat_interval_s),
                    else_=c.heartbeat_interval_s,
                ),
            },
        )

    @staticmethod
    def _charger_touch() -> Any:
        """The common case, a known charger heard from again: only `last_seen` (the later
        of the two) and a declared `ocpp_version` can change, by primary key, without
        the full upsert's identity CASEs. Exactly what the full upsert would write for
        such a row (the caller checks the conditions)."""
        c = CHG.c
        # typed, so PostgreSQL is told their types (a bare NULL parameter has none)
        seen: Any = bindparam("t_seen", type_=c.last_seen.type)
        version: Any = bindparam("t_version", type_=c.ocpp_version.type)
        return (
            update(CHG)
            .where(c.id == bindparam("t_id"))
            .values(
                last_seen=_newer(seen, c.last_seen),
                ocpp_version=case((version.is_not(None), version), else_=c.ocpp_version),
            )
        )

    @staticmethod
    def _connector_upsert(insert: Any, *, single_run: bool) -> Any:
        """Upsert a port's latest state from this batch.

        `status_since` arrives as the start of the batch's final run of equal statuses.
        single_run: every report this batch had for the port carried the final status,
        so an equal stored status means the run began earlier and its start is kept.
        If the stored report falls inside the batch's run with another status, the run
        provably holds only from the batch's last report on.
        """
        stmt = insert(CON)
        ex, c = stmt.excluded, CON.c
        broken = and_(ex.status_since < c.updated_at, c.status != ex.status)
        whens: list[Any] = [(broken, ex.updated_at)]
        if single_run:
            whens.insert(0, (c.status == ex.status, c.status_since))
        return stmt.on_conflict_do_update(
            index_elements=["charger_id", "connector_id"],
            set_={
                "evse_id": ex.evse_id,
                "status": ex.status,
                "error_code": ex.error_code,
                "vendor_id": ex.vendor_id,
                "vendor_error_code": ex.vendor_error_code,
                "info": ex.info,
                "status_since": case(*whens, else_=ex.status_since),
                "updated_at": ex.updated_at,
                "last_message_fp": ex.last_message_fp,
            },
            where=ex.updated_at >= c.updated_at,
        )

    @staticmethod
    def _session_upsert(insert: Any) -> Any:
        stmt = insert(SES)
        ex, c = stmt.excluded, SES.c
        later_reading = and_(
            ex.last_meter_at.is_not(None),
            or_(c.last_meter_at.is_(None), ex.last_meter_at >= c.last_meter_at),
        )
        return stmt.on_conflict_do_update(
            index_elements=["charger_id", "transaction_id"],
            set_={
                "connector_id": case(
                    (ex.connector_id.is_not(None), ex.connector_id), else_=c.connector_id
                ),
                "id_tag": case((ex.id_tag.is_not(None), ex.id_tag), else_=c.id_tag),
                "started_at": _older(ex.started_at, c.started_at),
                "stopped_at": _newer(ex.stopped_at, c.stopped_at),
                "meter_start_wh": case(
                    (c.meter_start_wh.is_(None), ex.meter_start_wh), else_=c.meter_start_wh
                ),
                "last_energy_wh": case((later_reading, ex.last_energy_wh), else_=c.last_energy_wh),
                "last_meter_at": case((later_reading, ex.last_meter_at), else_=c.last_meter_at),
                "stop_reason": case(
                    (ex.stop_reason.is_not(None), ex.stop_reason), else_=c.stop_reason
                ),
                # a register that runs backwards makes the session's energy (billing) suspect
                "energy_suspect": or_(
                    c.energy_suspect,
                    ex.energy_suspect,
                    and_(later_reading, ex.last_energy_wh < c.last_energy_wh),
                ),
                "energy_suspect_reason": case(
                    (c.energy_suspect, c.energy_suspect_reason),
                    (ex.energy_suspect, ex.energy_suspect_reason),
                    (
                        and_(later_reading, ex.last_energy_wh < c.last_energy_wh),
                        "energy register went backwards",
                    ),
                    else_=None,
                ),
            },
        )

    # --- the batch ----------------------------------------------------------------

    def ingest(
        self, messages: Sequence[Message], *, conn: Connection | None = None
    ) -> IngestResult:
        """Store a batch. With `conn`, write inside the caller's transaction (so later
        stages can commit their rows atomically with the log) and call `committed(result)`
        after that transaction commits; without it, commit here."""
        result = IngestResult()
        rows: list[tuple[Any, ...]] = []
        first: dict[str, Message] = {}
        for m in messages:
            fp = m.fingerprint
            if fp in first:
                result.duplicates += 1
                continue
            problem = _unstorable(m)
            if problem:
                result.rejected.append(
                    LineError(m.source, m.line, problem, storable(m.charger[:40]),
                              fault=m.is_fault_bearing, kind=RejectReason.UNSTORABLE)
                )
                result.refused.append(m)
                continue
            first[fp] = m
            rows.append(_message_row(m, self._log_writer.when))
            result.chargers_seen.add(m.charger)
        if not rows:
            return result
        if conn is not None:
            self._write(conn, rows, first, result)
            return result
        with self.engine.begin() as own:
            self._write(own, rows, first, result)
        self.committed(result)
        return result

    def committed(self, result: IngestResult) -> None:
        """The batch's transaction committed: the caches may now trust what it wrote."""
        if result.sources:
            self._sources.learn(result.sources)
            result.sources = None
        if result.pending is not None:
            self._remember(*result.pending)
            result.pending = None

    def _write(
        self,
        conn: Connection,
        rows: list[tuple[Any, ...]],
        first: dict[str, Message],
        result: IngestResult,
    ) -> None:
        ids, result.sources = self._sources.ids(conn, {m.source for m in first.values()})
        rows = [(*row, ids[m.source]) for row, m in zip(rows, first.values(), strict=True)]
        inserted = self._log_writer.insert(conn, rows)
        result.new = [m for fp, m in first.items() if fp in inserted]
        result.duplicates += len(first) - len(result.new)
        if result.new:
            result.pending = self._apply(conn, result.new)

    def _apply(
        self, conn: Connection, new: list[Message]
    ) -> tuple[dict[str, datetime], dict[tuple[str, int], datetime]]:
        chargers: dict[str, _ChargerAgg] = {}
        reports: dict[tuple[str, int], list[tuple[datetime, int, Message, StatusReport]]] = {}
        sessions: list[tuple[Message, TransactionUpdate]] = []
        meter_failures: list[tuple[str, int]] = []
        for i, m in enumerate(new):
            agg = chargers.get(m.charger)
            if agg is None:
                agg = chargers[m.charger] = _ChargerAgg(m.charger, m.ts)
            elif m.ts < agg.first_seen:
                agg.first_seen = m.ts
            if m.direction == "in" and m.message_type != CONNECTION:  # frames only
                if agg.last_seen is None or m.ts > agg.last_seen:
                    agg.last_seen = m.ts
                if not m.version_inferred or agg.ocpp_version is None:
                    agg.ocpp_version = m.ocpp_version
            fact = m.fact
            if fact is None:
                continue
            kind = type(fact)  # `type() is` is cheaper than isinstance on this hot path
            if kind is StatusReport:
                report = cast(StatusReport, fact)
                port = port_of(report)
                if port is None or not _int_ok(port):
                    continue
                key = (m.charger, port)
                reports.setdefault(key, []).append((m.occurred_at, i, m, report))
                if report.error_code == "PowerMeterFailure":
                    meter_failures.append(key)
            elif kind is TransactionUpdate:
                sessions.append((m, cast(TransactionUpdate, fact)))
            elif kind is BootInfo and m.direction == "in":
                if agg.boot_at is None or m.occurred_at >= agg.boot_at:
                    agg.boot, agg.boot_at = cast(BootInfo, fact), m.occurred_at
            elif kind is BootReply and (agg.reply_at is None or m.occurred_at >= agg.reply_at):
                agg.reply, agg.reply_at = cast(BootReply, fact), m.occurred_at

        full: list[tuple[Any, ...]] = []
        touch: list[tuple[Any, ...]] = []
        when = self._when
        known_seen = self._charger_last_seen
        for agg in chargers.values():
            known = known_seen.get(agg.id)
            # new to this worker, identity news, or first_seen may move earlier: in full
            news = agg.boot is not None or agg.reply is not None
            if known is None or news or agg.first_seen < known:
                full.append(agg.row(when))
            elif agg.last_seen is not None and agg.last_seen > known:
                if self._touch_chargers is None:
                    full.append(agg.row(when))
                else:
                    touch.append((agg.id, when(agg.last_seen), agg.ocpp_version))
            # else: nothing a reader sees can change (both bounds are inside what is stored)
        if full:
            full.sort(key=_first)  # one lock order for every worker
            self._upsert_chargers.run(conn, full)
        if touch and self._touch_chargers is not None:
            touch.sort(key=_first)
            self._touch_chargers.run(conn, touch)

        same, changed, port_marks = self._port_rows(reports)
        self._upsert_ports_same.run(conn, same)
        self._upsert_ports_changed.run(conn, changed)
        if sessions:
            self._apply_sessions(conn, sessions)
        if meter_failures:
            self._flag_meter_failures(conn, meter_failures)
        seen = {a.id: a.last_seen for a in chargers.values() if a.last_seen is not None}
        return seen, port_marks

    def _port_rows(
        self, reports: dict[tuple[str, int], list[tuple[datetime, int, Message, StatusReport]]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[tuple[str, int], datetime]]:
        """Rows (PORT_KEYS order) for the ports whose state this batch moves: `same` when
        every report kept carried the final status, else `changed` (see _connector_upsert)."""
        same: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        marks: dict[tuple[str, int], datetime] = {}
        when = self._when
        for key in sorted(reports):
            items = reports[key]
            if len(items) > 1:
                items.sort(key=lambda t: (t[0], t[1]))  # time order; input order breaks ties
            known = self._port_updated.get(key)
            if known is not None:
                # older than what is stored: kept in the log, cannot change the state
                items = [t for t in items if t[0] >= known]
                if not items:
                    continue
            at, _, last_msg, last = items[-1]
            run_start = at
            for t in reversed(items):
                if t[3].status != last.status:
                    break
                run_start = t[0]
            row = (
                key[0],
                key[1],
                _int_or_none(last.evse),
                _text(last.status),
                _text(last.error_code),
                _text(last.vendor_id),
                _text(last.vendor_error_code),
                _text(last.info),
                when(run_start),
                when(at),
                last_msg.fingerprint,
            )
            (same if run_start == items[0][0] else changed).append(row)
            marks[key] = at
        return same, changed, marks

    def _apply_sessions(
        self, conn: Connection, updates: list[tuple[Message, TransactionUpdate]]
    ) -> None:
        """Fold transaction facts into one row per (charger, transaction)."""
        folded: dict[tuple[str, str], dict[str, Any]] = {}
        orphans: list[dict[str, Any]] = []  # readings without a transaction id
        for m, t in updates:
            at = m.occurred_at
            port = port_of(t)
            if t.transaction_id is None:
                if t.energy_wh is not None and _int_ok(port) and t.kind == "update":
                    orphans.append(
                        {"c_id": m.charger, "c_conn": port, "c_wh": t.energy_wh, "c_at": at}
                    )
                continue
            key = (m.charger, _text(t.transaction_id) or "")
            row = folded.get(key)
            if row is None:
                row = folded[key] = {
                    "charger_id": m.charger,
                    "transaction_id": key[1],
                    "connector_id": None,
                    "id_tag": None,
                    "started_at": None,
                    "stopped_at": None,
                    "meter_start_wh": None,
                    "last_energy_wh": None,
                    "last_meter_at": None,
                    "stop_reason": None,
                    "energy_suspect": False,
                    "energy_suspect_reason": None,
                }
            if _int_ok(port):
                row["connector_id"] = _int_or_none(port)
            if t.id_tag is not None:
                row["id_tag"] = _text(t.id_tag)
            if t.kind == "start":
                if row["started_at"] is None or at < row["started_at"]:
                    row["started_at"] = at
                if t.energy_wh is not None:
                    row["meter_start_wh"] = t.energy_wh
            elif t.kind == "stop":
                row["stopped_at"] = at
                if t.reason is not None:
                    row["stop_reason"] = _text(t.reason)
            if t.energy_wh is not None and (
                row["last_meter_at"] is None or at >= row["last_meter_at"]
            ):
                prev = row["last_energy_wh"]
                if prev is not None and t.energy_wh < prev and not row["energy_suspect"]:
                    row["energy_suspect"] = True
                    row["energy_suspect_reason"] = "energy register went backwards"
                row["last_energy_wh"], row["last_meter_at"] = t.energy_wh, at
        for row in folded.values():
            start, last = row["meter_start_wh"], row["last_energy_wh"]
            if (
                start is not None
                and last is not None
                and last < start
                and not row["energy_suspect"]
            ):
                row["energy_suspect"] = True
                row["energy_suspect_reason"] = "energy register below the meter start"
        if folded:
            when = self._when
            rows = []
            for k in sorted(folded):
                row = folded[k]
                for name in ("started_at", "stopped_at", "last_meter_at"):
                    row[name] = _when(when, row[name])
                # one type per column (PostgreSQL sends each column as one typed array)
                for name in ("meter_start_wh", "last_energy_wh"):
                    if row[name] is not None:
                        row[name] = float(row[name])
                rows.append(tuple(row[name] for name in SESSION_KEYS))
            self._session_starts.run(conn, rows)
        if orphans:
            # a reading that names no transaction belongs to the port's open session
            c = SES.c
            conn.execute(
                update(SES)
                .where(
                    c.charger_id == _bind("c_id"),
                    c.connector_id == _bind("c_conn"),
                    c.stopped_at.is_(None),
                    or_(c.last_meter_at.is_(None), c.last_meter_at <= _bind("c_at")),
                )
                .values(last_energy_wh=_bind("c_wh"), last_meter_at=_bind("c_at")),
                orphans,
            )

    def _flag_meter_failures(self, conn: Connection, ports: list[tuple[str, int]]) -> None:
        """PowerMeterFailure on a port makes its open session's energy figure suspect."""
        c = SES.c
        conn.execute(
            update(SES)
            .where(
                c.charger_id == _bind("p_id"),
                c.connector_id == _bind("p_conn"),
                c.stopped_at.is_(None),
                c.energy_suspect.is_(False),
            )
            .values(energy_suspect=True, energy_suspect_reason="power meter failure reported"),
            [{"p_id": ch, "p_conn": con} for ch, con in sorted(set(ports))],
        )

    def _remember(self, seen: dict[str, datetime], ports: dict[tuple[str, int], datetime]) -> None:
        if len(self._charger_last_seen) > _CACHE_LIMIT:
            self._charger_last_seen.clear()
        if len(self._port_updated) > _CACHE_LIMIT:
            self._port_updated.clear()
        for charger, at in seen.items():
            old = self._charger_last_seen.get(charger)
            if old is None or at > old:
                self._charger_last_seen[charger] = at
        for key, at in ports.items():
            old = self._port_updated.get(key)
            if old is None or at > old:
                self._port_updated[key] = at


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def port_of(fact: StatusReport | TransactionUpdate) -> int | None:
    """The port a fact is about: the EVSE on 2.x, the connector on 1.6 (as incidents do)."""
    return fact.evse if fact.evse is not None else fact.connector


def _bind(name: str) -> Any:
    return bindparam(name)


_INT_MAX = 2**31 - 1


def _int_ok(value: int | None) -> bool:
    """Fits the INTEGER columns (hostile frames carry absurd numbers)."""
    return value is not None and -_INT_MAX <= value <= _INT_MAX


def _int_or_none(value: int | None) -> int | None:
    """A plain int that fits, else None: one Python type per column, as PostgreSQL's
    one-array-per-column statements need (psycopg refuses an array of mixed types)."""
    return int(value) if value is not None and _int_ok(value) else None


def _text(value: str | None) -> str | None:
    """Text every store takes: PostgreSQL refuses NUL, and no driver encodes a lone
    surrogate; both arrive in decoded payload strings. The parser already cleans facts;
    this is the store's own guard for every text column."""
    return None if value is None else storable(value)


def _unstorable(m: Message) -> str | None:
    if not m.charger or len(m.charger) > CHARGER_ID_LEN or "\x00" in m.charger:
        return f"charger id must be 1-{CHARGER_ID_LEN} printable characters"
    if not m.fingerprint or len(m.fingerprint) > 64:
        return "message has no usable fingerprint"
    if m.ts.tzinfo is None or m.occurred_at.tzinfo is None:
        return "timestamp without a time zone"
    return None


class _LogWriter:
    """The hot statement, sent to the driver as plain SQL with values converted here
    once (the ORM's per-row type machinery cost about 20 µs a row).

    PostgreSQL: the batch is COPied (binary) into a session's temporary table, then one
    INSERT ... SELECT FROM it ON CONFLICT DO NOTHING RETURNING fingerprint moves the
    new rows into the log. COPY formats rows in psycopg's C code; the arrays of an
    INSERT ... FROM unnest(...) were built element by element in Python, and cost as
    much as the server's insert. Ids are drawn from the log's sequence inside that
    statement, after a sort by each row's position in the batch (PostgreSQL evaluates a
    volatile target list after the sort), so ids keep the order messages were folded in
    (bot.fold replays by id). The temporary table has no default on the log's sequence:
    that would make every session's temporary table a dependent of `messages`. Rows go
    into the log in fingerprint order (one lock order for every worker, so overlapping
    batches cannot deadlock).
    SQLite: executemany of INSERT ... ON CONFLICT DO NOTHING (faster than RETURNING
    there), then the new rows are read back by rowid: the insert holds SQLite's write
    lock until commit, so the rows it added are exactly the last `rowcount` rowids.
    """

    COLUMNS = (
        "fingerprint", "charger_id", "ts", "occurred_at", "direction", "message_type",
        "action", "ocpp_version", "version_inferred", "connector_id",
        "fault_bearing", "raw", "violations", "source_id",
    )  # fmt: skip
    PG_ARRAYS = (
        "int8[]", "bytea[]", "text[]", "timestamptz[]", "timestamptz[]", "bytea[]", "int2[]",
        "bytea[]", "bytea[]", "bool[]", "int4[]",
        "bool[]", "bytea[]", "text[]", "int4[]",
    )  # fmt: skip

    def __init__(self, dialect: Any) -> None:
        self.sqlite = dialect.name == "sqlite"
        columns = ", ".join(self.COLUMNS)
        if self.sqlite:
            marks = ", ".join("?" * len(self.COLUMNS))
            self._sql = (
                f"INSERT INTO {MSG.name} ({columns}) VALUES ({marks}) "
                "ON CONFLICT (fingerprint) DO NOTHING"
            )
        else:
            # the staging table: the batch's position (c0), then the columns as PG_ARRAYS
            # types them (their element types)
            types = ["int4", *(t.removesuffix("[]") for t in self.PG_ARRAYS[1:])]
            pg_columns = ("id", *self.COLUMNS)
            columns = ", ".join(pg_columns)
            picked = ", ".join(
                f"c{i}::json" if name == "violations" else f"c{i}"
                for i, name in enumerate(pg_columns)
            )
            loaded = ", ".join(f"c{i}" for i in range(1, len(pg_columns)))
            self._copy_types = types
            self._stage_sql = (
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ("
                + ", ".join(f"c{i} {t}" for i, t in enumerate(types))
                + ") ON COMMIT DELETE ROWS"
            )
            self._copy_sql = f"COPY {_STAGE} FROM STDIN (FORMAT BINARY)"
            # {seq}: the log's id sequence, named once (_insert_sql). Ids are drawn in
            # batch order (nextval runs after the inner ORDER BY), rows go in
            # fingerprint order (the outer one)
            self._sql = (
                f"INSERT INTO {MSG.name} ({columns}) SELECT {picked} "
                f"FROM (SELECT nextval({{seq}}::regclass) AS c0, {loaded} FROM {_STAGE} s "
                "ORDER BY s.c0) t "
                # partitioned by ts (bot.store.partitions): the unique key is (fingerprint,
                # ts), so the same frame seen at another time is looked up by fingerprint
                f"WHERE NOT EXISTS (SELECT 1 FROM {MSG.name} m WHERE m.fingerprint = t.c1) "
                "ORDER BY t.c1 ON CONFLICT (fingerprint, ts) DO NOTHING RETURNING fingerprint"
            )
        self._insert_sql: str | None = None  # PostgreSQL: _sql, the sequence named
        # the log's times as the column type writes them (bot.store.compact.LOG_TIME):
        # integer microseconds on SQLite, the datetime itself for psycopg; checked against
        # the type once, so this plain-SQL path cannot drift from what the ORM writes
        self.when: Callable[[datetime], Any] = _same
        if self.sqlite:
            proc = MSG.c.ts.type.dialect_impl(dialect).bind_processor(dialect)
            probe = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
            self.when = _sqlite_time
            if proc is None or proc(probe) != _sqlite_time(probe):
                raise RuntimeError("the log's SQLite time format changed; update _sqlite_time")

    def insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> set[str]:
        if self.sqlite:
            return self._insert_sqlite(conn, rows)
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None  # a checked-out connection always has its DBAPI connection
        cursor = dbapi.cursor()
        try:
            if self._insert_sql is None:
                cursor.execute(f"SELECT pg_get_serial_sequence('{MSG.name}', 'id')")
                found = cursor.fetchone()
                assert found is not None and found[0]  # the log's id is a serial column
                # a literal, not a parameter: the planner resolves it once, not per row
                name = str(found[0]).replace("'", "''")
                self._insert_sql = self._sql.format(seq=f"'{name}'")
            # every batch: a transaction that created the table and rolled back dropped it
            cursor.execute(self._stage_sql)
            with cursor.copy(self._copy_sql) as copy:
                copy.set_types(self._copy_types)
                write = copy.write_row
                for i, row in enumerate(rows):
                    write((i, *row))
            cursor.execute(self._insert_sql)
            return {fp_from_db(r[0]) for r in cursor.fetchall()}
        finally:
            cursor.close()

    def _insert_sqlite(self, conn: Connection, rows: list[tuple[Any, ...]]) -> set[str]:
        added = conn.exec_driver_sql(self._sql, rows).rowcount
        if added <= 0:
            return set()
        if added == len(rows):  # every row went in: no need to read them back
            return {fp_from_db(r[0]) for r in rows}
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {MSG.name}").scalar() or 0
        new = {
            fp_from_db(r[0])
            for r in conn.exec_driver_sql(
                f"SELECT fingerprint FROM {MSG.name} WHERE id > ?", (top - added,)
            )
        }
        if len(new) != added:  # not expected; never guess which rows are new
            new = self._existing_since(conn, rows, top - added)
        return new

    def _existing_since(
        self, conn: Connection, rows: list[tuple[Any, ...]], after: int
    ) -> set[str]:
        found: set[str] = set()
        fps = [r[0] for r in rows]
        for start in range(0, len(fps), 500):
            chunk = fps[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                fp_from_db(r[0])
                for r in conn.exec_driver_sql(
                    f"SELECT fingerprint FROM {MSG.name} WHERE id > ? AND fingerprint IN ({marks})",
                    (after, *chunk),
                )
            )
        return found


def _same(value: datetime) -> datetime:
    return value


def _sqlite_time(value: datetime) -> int:
    return to_micros(value)


def _sqlite_text_time(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _state_time(dialect: Any) -> Callable[[datetime], Any]:
    """The state tables' (chargers, connectors, sessions) datetime as their column type
    writes it: SQLAlchemy's ISO text on SQLite, made here byte for byte (checked once
    against the type; the type's own processor otherwise), the datetime for psycopg."""
    if dialect.name != "sqlite":
        return _same
    proc = CHG.c.last_seen.type.dialect_impl(dialect).bind_processor(dialect)
    probe = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    if proc is None:
        return _same
    return _sqlite_text_time if proc(probe) == _sqlite_text_time(probe) else proc


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _message_row(m: Message, when: Callable[[datetime], Any]) -> tuple[Any, ...]:
    fact = m.fact
    connector: int | None = None
    fault = False
    if isinstance(fact, StatusReport):
        connector, fault = port_of(fact), fact.fault_bearing
    elif isinstance(fact, TransactionUpdate):
        connector = port_of(fact)
    elif isinstance(fact, EventReport):
        fault = any(not p.cleared for p in fact.problems)
    if connector is not None and not _int_ok(connector):
        connector = None
    ts = when(m.ts)
    raw = m.raw
    if not raw.isascii() or "\x00" in raw:
        # the log keeps the text as sent; what cannot be stored stays as a JSON escape
        raw = escaped(raw).replace("\x00", "\\u0000")
    return (
        fp_to_db(m.fingerprint),
        m.charger,
        ts,
        None if m.occurred_at == m.ts else when(m.occurred_at),  # NULL: the same as ts
        word_to_db(m.direction),
        m.message_type,  # the unique id is not stored apart: it is in raw (store_0007)
        None if m.action is None else word_to_db(storable(m.action)),
        word_to_db(m.ocpp_version),
        m.version_inferred,
        connector,
        fault,
        pack_raw(raw),
        storable(_dumps(m.violations)) if m.violations else None,  # NULL: none
    )  # then the source's id, known only inside the transaction (Ingestor._write)
