"""Records (from any reader or feed) -> Parser -> Ingestor, in batches, with a summary.

A `Loader` keeps its Parser (which pairs replies with their CALLs) and its Ingestor
(whose caches save statements) across calls, so a feed that delivers many small
batches should keep one Loader; `load()` is the one-shot form for files.

`in_transaction(result, conn)` lets a later stage (the pipeline: triage and incidents)
write its rows in the SAME transaction as the batch's message log, so a crash can never
leave messages stored but not triaged (a redelivery would skip them as duplicates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from bot.ocpp.events import LineError, Message, Record
from bot.ocpp.parse import Parser
from bot.store.ingest import Ingestor, IngestResult

REJECTED_KEPT = 10_000  # rejected lines kept with their reasons; the rest are counted

BatchHook = Callable[[IngestResult, Connection], None]


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
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.in_transaction = in_transaction
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

    def _ingest(self, messages: list[Message]) -> IngestResult:
        if self.in_transaction is None:
            return self.ingestor.ingest(messages)
        with self.engine.begin() as conn:
            result = self.ingestor.ingest(messages, conn=conn)
            if result.new:
                self.in_transaction(result, conn)
        self.ingestor.committed(result)
        return result

    def _store(self, messages: list[Message], summary: LoadSummary) -> None:
        result = self._ingest(messages)
        if result.rejected:
            self._reject(summary, result.rejected)
        summary.stored += len(result.new)
        summary.duplicates += result.duplicates
        summary.chargers |= result.chargers_seen
        for m in messages:
            if m.violations:
                summary.violations += 1
            if m.version_inferred:
                summary.inferred += 1
            if m.is_fault_bearing:
                summary.faults += 1
        summary.new_faults += sum(1 for m in result.new if m.is_fault_bearing)
        if self.on_batch is not None:
            self.on_batch(result)

    @staticmethod
    def _reject(summary: LoadSummary, errors: list[LineError]) -> None:
        summary.rejected_count += len(errors)
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
) -> LoadSummary:
    """Parse and store `items`; `on_batch` sees each batch's IngestResult (its `new`
    messages are what triage should look at)."""
    loader = Loader(
        engine, batch_size=batch_size, on_batch=on_batch, in_transaction=in_transaction
    )
    return loader.load(items, on_progress=on_progress)


def _line_order(errors: list[LineError]) -> Callable[[LineError], tuple[int, int]]:
    """Sort key: sources in the order they first appear, then line number."""
    first: dict[str, int] = {}
    for e in errors:
        first.setdefault(e.source, len(first))
    return lambda e: (first[e.source], e.line if e.line is not None else -1)
