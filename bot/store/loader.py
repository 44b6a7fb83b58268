"""Records (from any reader or feed) -> Parser -> Ingestor, in batches, with a summary.

A `Loader` keeps its Parser (which pairs replies with their CALLs) and its Ingestor
(whose caches save statements) across calls, so a feed that delivers many small
batches should keep one Loader; `load()` is the one-shot form for files.

`in_transaction(result, conn)` lets a later stage (the pipeline: triage and incidents)
write its rows in the SAME transaction as the batch's message log, so a crash can never
leave messages stored but not triaged (a redelivery would skip them as duplicates).

One bad record affects only itself. The parser and the store clean or refuse what they
can foresee (lone surrogates, NUL, ports no column holds). When a batch still fails for
a reason about its data (the database refused a value: DataError, IntegrityError, or a
driver's ValueError/OverflowError/UnicodeError), the Loader bisects it: each half is
tried in its own transaction, the halves that commit are kept, and a single message
that fails alone is rejected with the database's reason. Input order is kept. A store
that is down (connection or operational errors) is not a record's fault: that error is
raised, so a feed retries the whole batch later. Because `in_transaction` may then run
more than once over the same messages, `on_rollback()` is called each time a
transaction that had already called it is rolled back, before the retry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from bot.ocpp.events import LineError, Message, Record
from bot.ocpp.parse import Parser
from bot.ocpp.reasons import RejectReason
from bot.store.ingest import Ingestor, IngestResult
from bot.store.models import LogRetention

REJECTED_KEPT = 10_000  # rejected lines kept with their reasons; the rest are counted

BatchHook = Callable[[IngestResult, Connection], None]

# Failures that say something about the data, not about the database being reachable:
# the PEP 249 classes DataError and IntegrityError (as SQLAlchemy wraps them, or raw
# from a driver cursor), and what a driver raises when it cannot convert a value.
_RECORD_CLASSES = frozenset({"DataError", "IntegrityError"})
_STORE_CLASSES = frozenset(
    {"OperationalError", "InterfaceError", "ProgrammingError", "InternalError",
     "NotSupportedError", "DisconnectionError", "TimeoutError"}
)
RECORD_ERRORS: tuple[type[BaseException], ...] = (ValueError, OverflowError, TypeError)


def _record_error(exc: BaseException) -> bool:
    """True when the failure is about the values sent (bisect), False when it is about
    the store (raise: the feed retries later)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _RECORD_CLASSES:
        return True
    if names & _STORE_CLASSES or isinstance(exc, SQLAlchemyError):
        return False
    return isinstance(exc, RECORD_ERRORS)  # UnicodeError is a ValueError


REFUSED = "the database refused it: "
SYSTEMIC_AT = 8  # a batch this big whose every message fails alone is the store's fault


def _why(exc: BaseException) -> str:
    """The database's own reason, first line only, without SQLAlchemy's decoration."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return f"{REFUSED}{type(inner).__name__}: {first}"[:300]


@dataclass(slots=True)
class LoadSummary:
    frames: int = 0  # records and unreadable lines seen
    stored: int = 0  # new in the log
    duplicates: int = 0  # already in the log
    chargers: set[str] = field(default_factory=set)
    faults: int = 0  # fault-bearing messages read (DESIGN contract 2)
    new_faults: int = 0  # ... of which new
    violations: int = 0  # messages kept despite schema/plausibility problems
    inferred: int = 0  # messages whose OCPP version was inferred (not declared)
    rejected: list[LineError] = field(default_factory=list)  # first REJECTED_KEPT, in order
    rejected_count: int = 0
    rejected_faults: int = 0  # rejected frames that reported a fault (with their reasons)
    # rejected lines per RejectReason (all of them, not only the ones kept above)
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    # messages kept without a fact, per DropReason (Message.no_fact)
    dropped: Counter[str] = field(default_factory=Counter)
    # frames from before the log's retention cut-off (bot.store.models.LogRetention): not
    # stored, and not an error (an old file ingested again after a prune)
    expired: int = 0
    # fingerprints of the fault-bearing messages stored for the first time (what triage
    # saw), so a caller can say of each whether it was diagnosed or suppressed
    new_fault_fingerprints: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.rejected_count == 0


class Loader:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 5000,
        on_batch: Callable[[IngestResult], None] | None = None,
        in_transaction: BatchHook | None = None,
        on_rollback: Callable[[], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.in_transaction = in_transaction
        self.on_rollback = on_rollback
        self._failure: BaseException | None = None  # the last data failure (bisection)
        self.parser = Parser()
        self.ingestor = Ingestor(engine)

    def load(
        self,
        items: Iterable[Record | LineError],
        *,
        on_progress: Callable[[LoadSummary], None] | None = None,
    ) -> LoadSummary:
        summary = LoadSummary()
        batch: list[Message] = []
        size = self.batch_size
        parse = self.parser.parse
        for item in items:
            summary.frames += 1
            # Parsed as it arrives, so the record and its decoded frame are freed at
            # once rather than held in the batch for the garbage collector to walk.
            result = item if isinstance(item, LineError) else parse(item)
            if isinstance(result, LineError):
                self._reject(summary, [result])
                continue
            batch.append(result)
            if len(batch) >= size:
                self._store(batch, summary)
                batch = []
                if on_progress is not None:
                    on_progress(summary)
        if batch:
            self._store(batch, summary)
        if on_progress is not None:
            on_progress(summary)
        summary.rejected.sort(key=_line_order(summary.rejected))
        return summary

    def load_messages(self, messages: list[Message]) -> LoadSummary:
        """Store (and hand on) messages a feed has already parsed."""
        summary = LoadSummary(frames=len(messages))
        if messages:
            self._store(messages, summary)
        return summary

    def _pruned_before(self) -> datetime | None:
        """The retention cut-off, read per batch (one primary-key lookup) so a prune made
        by another process applies from the next batch on."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(LogRetention.pruned_before).where(LogRetention.name == "messages")
            ).scalar()

    def _ingest(self, messages: list[Message]) -> IngestResult:
        """Store one batch in one transaction; on a data failure, bisect (see above)."""
        try:
            return self._attempt(messages)
        except Exception as exc:
            if not _record_error(exc):
                raise
            if len(messages) == 1:
                m = messages[0]
                result = IngestResult(refused=[m])
                result.rejected.append(
                    LineError(m.source, m.line, _why(exc), _excerpt(m.raw), m.is_fault_bearing,
                              kind=RejectReason.UNSTORABLE)
                )
                return result
            self._failure = exc
        half = len(messages) // 2
        return _merged(self._ingest(messages[:half]), self._ingest(messages[half:]))

    def _attempt(self, messages: list[Message]) -> IngestResult:
        if self.in_transaction is None:
            return self.ingestor.ingest(messages)
        hooked = False
        try:
            with self.engine.begin() as conn:
                result = self.ingestor.ingest(messages, conn=conn)
                if result.new:
                    hooked = True
                    self.in_transaction(result, conn)
        except BaseException:
            if hooked and self.on_rollback is not None:
                self.on_rollback()
            raise
        self.ingestor.committed(result)
        return result

    def _store(self, messages: list[Message], summary: LoadSummary) -> None:
        cutoff = self._pruned_before()
        if cutoff is not None:
            kept = [m for m in messages if m.ts >= cutoff]
            summary.expired += len(messages) - len(kept)
            if not kept:
                return
            messages = kept
        self._failure = None
        result = self._ingest(messages)
        if (
            self._failure is not None
            and len(messages) >= SYSTEMIC_AT
            and not result.new
            and not result.duplicates
            and all(e.reason.startswith(REFUSED) for e in result.rejected)
        ):
            # Every message of a sizeable batch fails on its own: that is the store
            # (a schema or a bug), not the records. Raise, so nothing is thrown away.
            raise self._failure
        if result.rejected:
            self._reject(summary, result.rejected)
        summary.stored += len(result.new)
        summary.duplicates += result.duplicates
        summary.chargers |= result.chargers_seen
        refused = {id(m) for m in result.refused}
        for m in messages:
            if id(m) in refused:
                continue  # counted with the rejected lines
            if m.violations:
                summary.violations += 1
            if m.version_inferred:
                summary.inferred += 1
            if m.no_fact is not None:
                summary.dropped[m.no_fact] += 1
            if m.is_fault_bearing:
                summary.faults += 1
        for m in result.new:
            if m.is_fault_bearing:
                summary.new_faults += 1
                summary.new_fault_fingerprints.add(m.fingerprint)
        if self.on_batch is not None:
            self.on_batch(result)

    @staticmethod
    def _reject(summary: LoadSummary, errors: list[LineError]) -> None:
        summary.rejected_count += len(errors)
        summary.rejected_faults += sum(1 for e in errors if e.fault)
        summary.rejected_reasons.update(e.kind for e in errors)
        room = REJECTED_KEPT - len(summary.rejected)
        if room > 0:
            summary.rejected.extend(errors[:room])


def load(
    engine: Engine,
    items: Iterable[Record | LineError],
    *,
    batch_size: int = 5000,
    on_progress: Callable[[LoadSummary], None] | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
    in_transaction: BatchHook | None = None,
    on_rollback: Callable[[], None] | None = None,
) -> LoadSummary:
    """Parse and store `items`; `on_batch` sees each batch's IngestResult (its `new`
    messages are what triage should look at)."""
    loader = Loader(
        engine,
        batch_size=batch_size,
        on_batch=on_batch,
        in_transaction=in_transaction,
        on_rollback=on_rollback,
    )
    return loader.load(items, on_progress=on_progress)


def _line_order(errors: list[LineError]) -> Callable[[LineError], tuple[int, int]]:
    """Sort key: sources in the order they first appear, then line number."""
    first: dict[str, int] = {}
    for e in errors:
        first.setdefault(e.source, len(first))
    return lambda e: (first[e.source], e.line if e.line is not None else -1)


def _merged(first: IngestResult, second: IngestResult) -> IngestResult:
    """Two halves of a bisected batch as one result (both already committed)."""
    return IngestResult(
        new=first.new + second.new,
        duplicates=first.duplicates + second.duplicates,
        chargers_seen=first.chargers_seen | second.chargers_seen,
        rejected=first.rejected + second.rejected,
        refused=first.refused + second.refused,
    )


def _excerpt(raw: str) -> str:
    text = raw[:60]
    return text if text.isprintable() else "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in text
    )
