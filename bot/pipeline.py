"""The one path every feed uses: parse -> store -> triage -> incidents.

    Pipeline(engine).process(records) -> PipelineResult

Per batch (default 5,000 records), in ONE database transaction:
1. parse every Record (bad ones become LineErrors, the good ones around them go on);
2. store them with the store's Ingestor (through its Loader); only messages stored for
   the FIRST time go on, so redelivery and replaying the same file twice are harmless;
3. triage each new message in feed order (TriageEngine.observe);
4. incidents (open/update/resolve), the diagnosis audit rows, the port status history,
   unknown vendor codes and energy-suspect sessions, each with bulk statements; then
   the `listeners` run with the session and the batch's IncidentChanges, so the Slack
   outbox rows commit or roll back together with the incident changes they announce.

Because the message log commits only together with steps 3-4, a crash mid-batch leaves
nothing stored, and the redelivered batch is triaged in full. (The in-memory triage
state may then have seen some messages twice; its windows tolerate repeats.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from bot.incidents.changes import IncidentChange
from bot.incidents.keys import is_silence
from bot.incidents.manager import DEFAULT_HOLD_DOWN, Finding, IncidentManager
from bot.incidents.models import PortStatus
from bot.incidents.signals import HEALTHY_STATUSES, Signal, port_number, signals_from
from bot.incidents.sql import insert_ignore
from bot.ocpp.events import BootInfo, LineError, Message, Record, StatusReport
from bot.store.db import make_sessionmaker
from bot.store.ingest import IngestResult
from bot.store.loader import Loader, LoadSummary
from bot.triage.diagnosis import Diagnosis

Listener = Callable[[Session, list[IncidentChange]], None]
Clock = Callable[[], datetime]

DEFAULT_BATCH = 5_000
_MODEL_CACHE_LIMIT = 200_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PipelineResult:
    """Counts and outputs of one `process`/`tick` call (summed over its batches)."""

    read: int = 0  # records and errors given
    parsed: int = 0  # records that became messages
    new: int = 0  # messages stored for the first time (the only ones triaged)
    duplicates: int = 0  # already stored: redelivery, or the same file again
    errors: list[LineError] = field(default_factory=list)  # unreadable or unstorable
    diagnoses: list[Diagnosis] = field(default_factory=list)
    changes: list[IncidentChange] = field(default_factory=list)
    unknown_codes: int = 0  # sightings of vendor codes the knowledge base lacks
    suspect_sessions: int = 0  # sessions flagged: energy reading suspect
    batches: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @property
    def rejected(self) -> list[LineError]:  # the name feeds' sinks look for
        return self.errors

    @property
    def stored(self) -> int:
        return self.new

    def add(self, other: PipelineResult) -> None:
        self.read += other.read
        self.parsed += other.parsed
        self.new += other.new
        self.duplicates += other.duplicates
        self.errors.extend(other.errors)
        self.diagnoses.extend(other.diagnoses)
        self.changes.extend(other.changes)
        self.unknown_codes += other.unknown_codes
        self.suspect_sessions += other.suspect_sessions
        self.batches += other.batches
        for ts in (other.first_ts, other.last_ts):
            if ts is not None:
                self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
                self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


class Pipeline:
    """Keep one per worker process: the parser, store and triage engine carry state
    (CALL correlation, caches, per-port history) from batch to batch."""

    def __init__(
        self,
        engine: Engine,
        *,
        kb: Any = None,
        sites: Any = None,
        clock: Clock | None = None,
        listeners: Sequence[Listener] = (),
        batch_size: int = DEFAULT_BATCH,
        hold_down: timedelta = DEFAULT_HOLD_DOWN,
        matcher: Any = None,
        triage_config: Any = None,
    ) -> None:
        from bot.kb.loader import default_knowledge
        from bot.kb.matcher import Matcher
        from bot.store.sites import SiteMap
        from bot.triage.engine import TriageEngine

        self.engine = engine
        self.kb = kb if kb is not None else default_knowledge()
        self.sites = sites if sites is not None else SiteMap()
        self.runtime = _runtime_entries(engine)
        self.matcher = matcher if matcher is not None else self._matcher(Matcher)
        kwargs = {"config": triage_config} if triage_config is not None else {}
        self.triage = TriageEngine(self.kb, self.matcher, self.sites, **kwargs)
        self.batch_size = max(1, batch_size)
        self.loader = Loader(engine, batch_size=self.batch_size, in_transaction=self._triaged)
        self.parser = self.loader.parser
        self.ingestor = self.loader.ingestor
        self.clock = clock or _utcnow
        self.listeners = list(listeners)
        self._result = PipelineResult()  # the call in progress, filled batch by batch
        self.hold_down = hold_down
        self._sessions = make_sessionmaker(engine)
        self._status: dict[tuple[str, int], str] = {}  # last status written per port
        self._models: dict[str, str | None] = {}  # charger -> model (None = unknown)

    def _matcher(self, matcher_cls: Any) -> Any:
        # Operator-taught codes (RuntimeEntries) are consulted next to the bundled ones.
        return matcher_cls(self.kb, self.runtime)

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    # --- feeding ------------------------------------------------------------------

    def process(self, items: Iterable[Record | LineError]) -> PipelineResult:
        return self.load(items)[1]

    def load(
        self,
        items: Iterable[Record | LineError],
        *,
        on_progress: Callable[[LoadSummary], None] | None = None,
    ) -> tuple[LoadSummary, PipelineResult]:
        """Like `process`, also returning the store's LoadSummary (for the ingest CLI)."""
        self._result = result = PipelineResult()
        summary = self.loader.load(items, on_progress=on_progress)
        return summary, self._finish(summary, result)

    def process_messages(self, messages: Sequence[Message]) -> PipelineResult:
        """For feeds that parse themselves: store and triage already parsed messages."""
        self._result = result = PipelineResult()
        return self._finish(self.loader.load_messages(list(messages)), result)

    @staticmethod
    def _finish(summary: LoadSummary, result: PipelineResult) -> PipelineResult:
        result.read = summary.frames
        result.parsed = summary.frames - summary.rejected_count
        result.new = summary.stored
        result.duplicates = summary.duplicates
        result.errors = summary.rejected
        return result

    def _triaged(self, stored: IngestResult, conn: Connection) -> None:
        """The Loader's in-transaction hook: triage and incidents for the new messages."""
        result = self._result
        new = stored.new
        result.batches += 1
        first = min(m.occurred_at for m in new)
        last = max(m.occurred_at for m in new)
        result.first_ts = first if result.first_ts is None else min(result.first_ts, first)
        result.last_ts = last if result.last_ts is None else max(result.last_ts, last)

        events: list[Finding | Signal] = []
        statuses: list[dict[str, Any]] = []
        observe = self.triage.observe
        for m in new:
            self._remember_model(m)
            events.extend(signals_from(m))
            row = self._status_row(m)
            if row is not None:
                statuses.append(row)
            for d in observe(m):
                result.diagnoses.append(d)
                fp = getattr(d, "message_fingerprint", "") or m.fingerprint
                events.append(Finding(d, fp, self._models.get(d.charger)))
        self._commit(events, statuses, result, settle_at=last, conn=conn)

    # --- time ---------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> PipelineResult:
        """Run the time-based rules (silent chargers, ...) and settle recoveries whose
        hold-down has passed. `now` defaults to the clock; replays pass feed time."""
        now = now or self.clock()
        result = PipelineResult(first_ts=now, last_ts=now)
        events: list[Finding | Signal] = []
        for d in self.triage.tick(now):
            result.diagnoses.append(d)
            since = None
            if is_silence(d.rule):  # the outage began with the last frame, not the tick
                view = self.triage.charger_view(d.charger)
                since = view.last_seen if view is not None else None
            events.append(Finding(d, getattr(d, "message_fingerprint", ""),
                                  self._models.get(d.charger), since))
        self._commit(events, [], result, settle_at=now)
        return result

    def warm_up(self, since: datetime, *, batch: int = 20_000) -> int:
        """Replay stored messages since `since` through the triage engine without
        emitting anything, so a restarted worker has context. Returns messages seen."""
        from bot.store.models import MessageRow

        seen = 0
        cols = (MessageRow.charger_id, MessageRow.ts, MessageRow.direction,
                MessageRow.raw, MessageRow.ocpp_version, MessageRow.source)
        stmt = (
            select(*cols)
            .where(MessageRow.occurred_at >= since)
            .order_by(MessageRow.occurred_at, MessageRow.id)
            .execution_options(yield_per=batch)
        )
        replay_parser = type(self.parser)()
        with self._sessions() as session:
            for rows in session.execute(stmt).partitions():
                records = [_record(*r) for r in rows]
                messages, _ = replay_parser.parse_many(records)
                for m in messages:
                    self._remember_model(m)
                    self._status_row(m)
                    self.triage.observe(m)
                    seen += 1
        return seen

    # --- the incident transaction -------------------------------------------------

    def _commit(
        self,
        events: list[Finding | Signal],
        statuses: list[dict[str, Any]],
        result: PipelineResult,
        *,
        settle_at: datetime | None,
        conn: Connection | None = None,
    ) -> None:
        if conn is not None:  # inside the batch's transaction: the caller commits
            with Session(bind=conn) as session:
                self._write(session, events, statuses, result, settle_at)
                session.flush()
            return
        with self._sessions() as session, session.begin():
            self._write(session, events, statuses, result, settle_at)

    def _write(
        self,
        session: Session,
        events: list[Finding | Signal],
        statuses: list[dict[str, Any]],
        result: PipelineResult,
        settle_at: datetime | None,
    ) -> None:
        sightings = self.triage.recent_unknown_codes()
        suspects = self.triage.take_energy_suspect_sessions()
        manager = IncidentManager(session, site_of=self.sites.site_of, hold_down=self.hold_down)
        changes = manager.apply(events)
        if settle_at is not None:
            changes += manager.settle(settle_at)
        manager.flush_rows()
        if statuses:
            insert_ignore(session, PortStatus.__table__, statuses, ("message_fingerprint",))
        if suspects:
            result.suspect_sessions += _flag_sessions(session, suspects)
        if sightings and self.runtime is not None:
            self.runtime.record_unknown(sightings, conn=session.connection())
            result.unknown_codes += len(sightings)
        for listener in self.listeners:
            listener(session, changes)
        result.changes.extend(changes)

    # --- small helpers ------------------------------------------------------------

    def _remember_model(self, m: Message) -> None:
        if isinstance(m.fact, BootInfo) and m.direction == "in":
            if len(self._models) > _MODEL_CACHE_LIMIT:
                self._models.clear()
            self._models[m.charger] = m.fact.model

    def _status_row(self, m: Message) -> dict[str, Any] | None:
        """A port_status row when a port's reported status changes (or is first seen)."""
        fact = m.fact
        if m.direction != "in" or not isinstance(fact, StatusReport):
            return None
        port = port_number(fact)
        if not isinstance(port, int) or port < 0:
            return None
        key = (m.charger, port)
        status = "Faulted" if fact.faulted else fact.status
        if self._status.get(key) == status:
            return None
        self._status[key] = status
        return {
            "charger": m.charger,
            "connector": port,
            "ts": m.occurred_at,
            "status": status[:32],
            "up": status in HEALTHY_STATUSES,
            "message_fingerprint": m.fingerprint,
        }


def _runtime_entries(engine: Engine) -> Any:
    """The KB stage's store of operator-taught and unknown codes (None if not installed)."""
    try:
        from bot.kb.runtime import RuntimeEntries
    except ImportError:
        return None
    return RuntimeEntries(engine)


def _record(charger: str, ts: datetime, direction: str, raw: str, ocpp: str,
            source: str) -> Record:
    import json

    try:
        frame = json.loads(raw)
    except ValueError:
        frame = raw
    return Record(ts=ts, charger=charger, direction=direction,  # type: ignore[arg-type]
                  frame=frame, ocpp=ocpp, raw=raw, source=source)


def _flag_sessions(session: Session, suspects: list[Any]) -> int:
    """Mark charging sessions whose energy reading is suspect, in one statement."""
    from sqlalchemy import bindparam

    from bot.store.models import ChargingSession as CS

    rows = [
        {"c": s.charger, "t": s.transaction_id, "r": s.reason[:500]}
        for s in suspects
        if getattr(s, "transaction_id", None)
    ]
    if not rows:
        return 0
    table = CS.__table__
    stmt = (
        update(table)
        .where(table.c.charger_id == bindparam("c"), table.c.transaction_id == bindparam("t"))
        .values(energy_suspect=True, energy_suspect_reason=bindparam("r"))
    )
    session.connection().execute(stmt, rows)
    return len(rows)
