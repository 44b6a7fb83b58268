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
nothing stored, and the redelivered batch is triaged in full.

Same input, same answer (bot.fold): messages are folded one by one in the order they were
stored; time-based rules (silent chargers, recovery hold-downs) run when the feed clock
crosses a grid point, between two messages, so batch boundaries decide nothing. The
in-memory context is checkpointed with the id of the last message folded; a new process
(or this one, after a failed batch) loads the checkpoint and replays the messages stored
after it before it folds anything new, so restarts and crashes change nothing either.

May import: fold, incidents, kb, ocpp, store, triage
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.orm import Session

from bot.fold import checkpoint
from bot.fold.clock import DEFAULT_TICK, FeedClock
from bot.incidents.changes import IncidentChange
from bot.incidents.keys import is_silence
from bot.incidents.manager import (
    Clock,
    Event,
    Finding,
    IncidentManager,
)
from bot.incidents.models import PortStatus
from bot.incidents.signals import HEALTHY_STATUSES, port_number, signals_from
from bot.incidents.sql import insert_ignore
from bot.ocpp.events import BootInfo, LineError, Message, Record, StatusReport
from bot.store.base import table_of
from bot.store.db import make_sessionmaker
from bot.store.ingest import IngestResult
from bot.store.loader import Loader, LoadSummary
from bot.store.plain_insert import PlainInsert
from bot.triage.config import TriageConfig
from bot.triage.diagnosis import Diagnosis

if TYPE_CHECKING:  # for the types only; Pipeline.__init__ imports them when it runs, as before
    from bot.kb.knowledge import KnowledgeBase
    from bot.kb.matcher import Matcher
    from bot.store.sites import SiteMap

Listener = Callable[[Session, list[IncidentChange]], None]
WallClock = Callable[[], datetime]

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5_000
_MODEL_CACHE_LIMIT = 200_000
# A checkpoint costs a pickle of the whole context (about 2 s for 10,000 chargers), so it
# is written after this many folded messages (in the batch's transaction) or, at the end
# of a feed's call, seconds; a restart replays at most that much of the log.
CHECKPOINT_EVERY = 500_000
CHECKPOINT_SECONDS = 60.0
_REPLAY_CHUNK = 20_000
_STATUS_COLUMNS = ("charger", "connector", "ts", "status", "up", "message_fingerprint")
_STATUS_KEY = ("message_fingerprint",)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PipelineResult:
    """Counts and outputs of one `process`/`tick` call (summed over its batches)."""

    read: int = 0  # records and errors given
    parsed: int = 0  # records that became messages
    new: int = 0  # messages stored for the first time (the only ones triaged)
    duplicates: int = 0  # already stored: redelivery, or the same file again
    expired: int = 0  # from before the log's retention cut-off: not stored again
    errors: list[LineError] = field(default_factory=list)  # unreadable or unstorable
    rejected_reasons: Counter[str] = field(default_factory=Counter)  # all errors, per kind
    dropped: Counter[str] = field(default_factory=Counter)  # kept without a fact, per reason
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
        self.rejected_reasons.update(other.rejected_reasons)
        self.dropped.update(other.dropped)
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
        kb: KnowledgeBase | None = None,
        sites: SiteMap | None = None,
        clock: WallClock | None = None,
        listeners: Sequence[Listener] = (),
        batch_size: int = DEFAULT_BATCH,
        hold_down: timedelta | None = None,
        matcher: Matcher | None = None,
        triage_config: TriageConfig | None = None,
        fold_name: str = "main",
        owns: Callable[[str], bool] | None = None,
        tick_every: timedelta = DEFAULT_TICK,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        """`fold_name` names this fold's checkpoint; workers that share a database
        (broker partitions) each need their own, and `owns(charger)` says which
        chargers' messages are theirs when the stored log is replayed."""
        from bot.kb.loader import default_knowledge
        from bot.kb.matcher import Matcher
        from bot.store.sites import SiteMap
        from bot.triage.engine import TriageEngine

        self.engine = engine
        self.kb = kb if kb is not None else default_knowledge()
        self.sites = sites if sites is not None else SiteMap()
        self.runtime = _runtime_entries(engine)
        self.matcher = matcher if matcher is not None else self._matcher(Matcher)
        config = triage_config or TriageConfig()
        if hold_down is not None:  # a shorthand for the policy's hold-down
            policy = replace(config.policy, hold_down_s=hold_down.total_seconds())
            config = replace(config, policy=policy)
        # Triage and incidents read flapping, recurrence and recovery from this one object.
        self.policy = config.policy
        self._new_triage = lambda: TriageEngine(self.kb, self.matcher, self.sites, config=config)
        self.triage = self._new_triage()
        self.batch_size = max(1, batch_size)
        self.loader = Loader(engine, batch_size=self.batch_size, in_transaction=self._triaged,
                             on_rollback=self.on_rollback)
        self.parser = self.loader.parser
        self.ingestor = self.loader.ingestor
        self.clock = clock or _utcnow
        self.listeners = list(listeners)
        self._result = PipelineResult()  # the call in progress, filled batch by batch
        self._sessions = make_sessionmaker(engine)
        self._status: dict[tuple[str, int], str] = {}  # last status written per port
        self._status_insert = (  # SQLite: the port-status rows without per-row binds
            PlainInsert(table_of(PortStatus), _STATUS_COLUMNS, _STATUS_KEY, engine.dialect)
            if engine.dialect.name == "sqlite" else None
        )
        self._models: dict[str, str | None] = {}  # charger -> model (None = unknown)
        self.fold_name = fold_name
        self.owns = owns
        self.feed_clock = FeedClock(tick_every)
        self.checkpoint_every = max(1, checkpoint_every)
        self._restored = False  # the context matches the committed log (see _context)
        self._last_id = 0  # the highest message id folded into the context
        self._unsaved = 0  # messages folded since the last checkpoint
        self._saved_at = time.monotonic()
        self._mark = (0, 0)  # result sizes before the batch in progress (see on_rollback)

    def _matcher(self, matcher_cls: type[Matcher]) -> Matcher:
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
        self._context()
        self._result = result = PipelineResult()
        with self._restore_on_failure():
            summary = self.loader.load(items, on_progress=on_progress)
            self._maybe_checkpoint()
        return summary, self._finish(summary, result)

    def process_messages(self, messages: Sequence[Message]) -> PipelineResult:
        """For feeds that parse themselves: store and triage already parsed messages."""
        self._context()
        self._result = result = PipelineResult()
        with self._restore_on_failure():
            summary = self.loader.load_messages(list(messages))
            self._maybe_checkpoint()
        return self._finish(summary, result)

    @staticmethod
    def _finish(summary: LoadSummary, result: PipelineResult) -> PipelineResult:
        result.read = summary.frames
        result.parsed = summary.frames - summary.rejected_count
        result.new = summary.stored
        result.duplicates = summary.duplicates
        result.expired = summary.expired
        result.errors = summary.rejected
        result.rejected_reasons = summary.rejected_reasons
        result.dropped = summary.dropped
        return result

    def _triaged(self, stored: IngestResult, conn: Connection) -> None:
        """The Loader's in-transaction hook: triage and incidents for the new messages."""
        result = self._result
        self._mark = (len(result.diagnoses), len(result.changes))
        new = stored.new
        result.batches += 1
        first = min(m.occurred_at for m in new)
        last = max(m.occurred_at for m in new)
        result.first_ts = first if result.first_ts is None else min(result.first_ts, first)
        result.last_ts = last if result.last_ts is None else max(result.last_ts, last)
        events: list[Event] = []
        statuses: list[dict[str, Any]] = []
        self._fold(new, events, statuses, result.diagnoses)
        self._commit(events, statuses, result, conn=conn)
        self._last_id = max(self._last_id, _max_message_id(conn))
        self._unsaved += len(new)
        if self._unsaved >= self.checkpoint_every:
            self._save_checkpoint(conn)

    def _fold(
        self,
        messages: Iterable[Message],
        events: list[Event],
        statuses: list[dict[str, Any]],
        diagnoses: list[Diagnosis],
    ) -> None:
        """The fold step, message by message: the same for new messages and for a replay
        of stored ones (which discards what it returns)."""
        observe = self.triage.observe
        clock = self.feed_clock
        for m in messages:
            before = clock.now
            due = clock.advance(m.ts)
            if due is not None:
                self._time_passed(due, events, diagnoses)
            if clock.now is not None and clock.now != before:
                events.append(Clock(clock.now))  # hold-downs that ran out by now resolve
            self._remember_model(m)
            signals = signals_from(m)
            if signals:
                events.extend(signals)
                if len(signals) > 1 and clock.now is not None:
                    events.append(Clock(clock.now))  # a late recovery may be over already
            row = self._status_row(m)
            if row is not None:
                statuses.append(row)
            for d in observe(m):
                diagnoses.append(d)
                fp = d.message_fingerprint or m.fingerprint
                events.append(Finding(d, fp, self._models.get(d.charger)))

    def _time_passed(self, now: datetime, events: list[Event], diagnoses: list[Diagnosis]) -> None:
        """The feed clock reached a grid point: recoveries due by then resolve, then the
        time-based rules run (silent chargers, flapping that calmed down)."""
        events.append(Clock(now))
        for d in self.triage.tick(now):
            diagnoses.append(d)
            since = None
            if is_silence(d.rule):  # the outage began with the last frame, not the tick
                view = self.triage.charger_view(d.charger)
                since = view.last_seen if view is not None else None
            events.append(Finding(d, d.message_fingerprint, self._models.get(d.charger), since))

    # --- time ---------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> PipelineResult:
        """Move the feed clock to `now` as if a message had arrived then, running what is
        due. The feeds never call this (their clock is the log's); it answers "what if
        nothing more arrived until `now`" for tests and tools, and it is not replayed
        after a restart (the log alone is)."""
        self._context()
        now = now or self.clock()
        result = PipelineResult(first_ts=now, last_ts=now)
        events: list[Event] = []
        due = self.feed_clock.advance(now)
        if due is not None:
            self._time_passed(due, events, result.diagnoses)
        if events:
            self._commit(events, [], result)
        return result

    # --- the fold's context: checkpoint and replay --------------------------------

    def _context(self) -> None:
        if not self._restored:
            self.restore()

    def restore(self) -> int:
        """Make the in-memory context the one a single uninterrupted run would have:
        load the checkpoint, then fold the stored messages after it without emitting
        anything. Returns the messages replayed."""
        self.triage = self._new_triage()
        self.feed_clock = FeedClock(self.feed_clock.every)
        self._status, self._models = {}, {}
        self.loader.parser = self.parser = parser = type(self.loader.parser)()
        with self.engine.connect() as conn:
            snap = checkpoint.load(conn, self.fold_name)
        after = 0
        if snap is not None:
            state = snap.state
            self.triage.import_state(state["triage"])
            parser.import_state(state["parser"])
            self._status, self._models = state["status"], state["models"]
            self.feed_clock.now = snap.feed_time
            after = snap.last_message_id
        replayed, self._last_id = self._replay(after)
        self.triage.recent_unknown_codes()  # recorded when they were first folded
        self.triage.take_energy_suspect_sessions()
        self._unsaved = replayed
        self._restored = True
        if replayed:
            log.info("fold %r: replayed %d stored messages after the checkpoint",
                     self.fold_name, replayed)
        return replayed

    def warm_up(self, since: datetime | None = None) -> int:
        """Kept for callers of the old API: the context now comes from the checkpoint
        and the log (`restore`), never from a time window."""
        return self.restore()

    def _replay(self, after: int) -> tuple[int, int]:
        from bot.store.compact import first_unreadable
        from bot.store.models import MessageRow

        cols = (MessageRow.id, MessageRow.charger_id, MessageRow.ts, MessageRow.direction,
                MessageRow.raw, MessageRow.ocpp_version, MessageRow.source)
        stmt = (
            select(*cols)
            .where(MessageRow.id > after)
            .order_by(MessageRow.id)
            .execution_options(yield_per=_REPLAY_CHUNK)
        )
        parse, owns = self.loader.parser.parse, self.owns
        seen, last = 0, after
        sink: list[Any] = []
        with self._sessions() as session:
            for rows in session.execute(stmt).partitions():
                messages = []
                for row in rows:
                    last = row[0]
                    if owns is not None and not owns(row[1]):
                        continue
                    bad = first_unreadable(row[3], row[4], row[5])
                    if bad is not None:  # one damaged row never stops the fold
                        log.warning("fold %r: message %s skipped: %s", self.fold_name,
                                    row[0], bad.reason)
                        continue
                    m = parse(_record(*row[1:]))
                    if isinstance(m, Message):
                        messages.append(m)
                self._fold(messages, sink, [], sink)
                sink.clear()
                seen += len(messages)
        return seen, last

    def checkpoint(self) -> None:
        """Save the context now (the ingest CLI does at the end of each run)."""
        if not self._restored or self._unsaved == 0:
            return
        with self.engine.begin() as conn:
            self._save_checkpoint(conn)

    def _maybe_checkpoint(self) -> None:
        if self._unsaved and time.monotonic() - self._saved_at >= CHECKPOINT_SECONDS:
            self.checkpoint()

    def _save_checkpoint(self, conn: Connection) -> None:
        state = {
            "triage": self.triage.export_state(),
            "parser": self.loader.parser.export_state(),
            "status": self._status,
            "models": self._models,
        }
        checkpoint.save(conn, self.fold_name,
                        checkpoint.Snapshot(self._last_id, self.feed_clock.now, state))
        self._unsaved = 0
        self._saved_at = time.monotonic()

    @contextlib.contextmanager
    def _restore_on_failure(self) -> Iterator[None]:
        """A batch that failed rolled back its messages, but the context had folded
        them: rebuild it from the committed log before anything else is folded."""
        try:
            yield
        except BaseException:
            self._restored = False
            raise

    def on_rollback(self) -> None:
        """For the Loader: a batch this pipeline folded was rolled back (it is retried in
        parts): forget what it produced and rebuild the context from the committed log."""
        result, (diagnoses, changes) = self._result, self._mark
        del result.diagnoses[diagnoses:]
        del result.changes[changes:]
        result.batches -= 1
        self.restore()

    # --- the incident transaction -------------------------------------------------

    def _commit(
        self,
        events: list[Event],
        statuses: list[dict[str, Any]],
        result: PipelineResult,
        *,
        conn: Connection | None = None,
    ) -> None:
        if conn is not None:  # inside the batch's transaction: the caller commits
            with Session(bind=conn) as session:
                self._write(session, events, statuses, result)
                session.flush()
            return
        with self._sessions() as session, session.begin():
            self._write(session, events, statuses, result)

    def _write(
        self,
        session: Session,
        events: list[Event],
        statuses: list[dict[str, Any]],
        result: PipelineResult,
    ) -> None:
        sightings = self.triage.recent_unknown_codes()
        suspects = self.triage.take_energy_suspect_sessions()
        manager = IncidentManager(session, site_of=self.sites.site_of, policy=self.policy)
        changes = manager.apply(events)
        manager.flush_rows()
        if statuses:
            if self._status_insert is not None:
                self._status_insert.run(session.connection(), statuses)
            else:
                insert_ignore(session, table_of(PortStatus), statuses, _STATUS_KEY)
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


def _max_message_id(conn: Connection) -> int:
    from bot.store.models import MessageRow

    return conn.execute(select(func.max(MessageRow.id))).scalar() or 0


def _record(charger: str, ts: datetime, direction: str, raw: str, ocpp: str,
            source: str) -> Record:
    import json

    try:
        frame = json.loads(raw)
    except ValueError:
        frame = raw
    return Record(ts=ts, charger=charger, direction=direction,  # type: ignore[arg-type]  # stored "in"/"out"
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
    table = table_of(CS)
    stmt = (
        update(table)
        .where(table.c.charger_id == bindparam("c"), table.c.transaction_id == bindparam("t"))
        .values(energy_suspect=True, energy_suspect_reason=bindparam("r"))
    )
    session.connection().execute(stmt, rows)
    return len(rows)
