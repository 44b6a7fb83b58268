"""Where live feeds hand their frames: a FrameSink.

A sink takes a batch of Records and returns only once they are durably stored (or
raises, so the feed does not acknowledge them and the sender or broker redelivers).
Storage is idempotent by frame fingerprint, so redelivery yields `duplicates`, never
a second copy. Feeds call sinks from a worker thread (`SinkRunner`) so the asyncio
loop keeps forwarding and accepting while the database works.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine

from bot.ocpp.events import LineError, Record

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class SinkResult:
    """What became of one batch: new frames, frames already stored, frames refused."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[LineError] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # kept without a fact, per reason


FrameSink = Callable[[list[Record]], SinkResult]


# Adapters hold a lock: parsers remember recent CALLs and are not thread-safe, and
# one sink may serve several feeds (each with its own SinkRunner thread).


class PipelineSink:
    """Records -> parse -> store -> triage -> incidents (bot.pipeline.Pipeline).

    Durable on return: the message log and the batch's incident transaction have both
    committed. One per worker process: the Pipeline carries triage context (per-port
    history, CALL correlation) from batch to batch, checkpointed in the database, so a
    restarted worker continues where the last one stopped (bot.fold).

    A database that comes back empty (dropped and recreated) is migrated again on the
    first batch that finds its tables missing, and the pipeline is rebuilt (its caches
    described the old database), so the feed recovers without a restart.
    """

    def __init__(self, engine: Engine, **pipeline_kwargs: Any) -> None:
        from bot.pipeline import Pipeline

        self._build = lambda: Pipeline(engine, **pipeline_kwargs)
        self.engine = engine
        self.pipeline = self._build()
        self._lock = threading.Lock()

    def __call__(self, records: list[Record]) -> SinkResult:
        with self._lock:
            result = _recovering(self.engine, lambda: self.pipeline.process(records),
                                 self._rebuild)
        return SinkResult(stored=result.new, duplicates=result.duplicates,
                          rejected=list(result.errors), dropped=dict(result.dropped))

    def _rebuild(self) -> None:
        self.pipeline = self._build()

    def tick(self, now: datetime) -> int:
        """Move the feed clock to `now` (tests and tools; feeds never need it)."""
        with self._lock:
            return len(self.pipeline.tick(now).diagnoses)

    def restore(self) -> int:
        """Load the fold's checkpoint and replay the log after it (a restarted worker);
        returns the messages replayed. Done lazily by the first batch otherwise."""
        with self._lock:
            return self.pipeline.restore()


def pipeline_sink(engine: Engine, **pipeline_kwargs: Any) -> PipelineSink:
    """The full flow: parse -> store -> triage -> incidents, durable on return."""
    return PipelineSink(engine, **pipeline_kwargs)


def loader_sink(engine: Engine, *, batch_size: int = 5000) -> FrameSink:
    """Records -> parse -> store (bot.store.loader.Loader), without triage. One Loader
    for the sink's life, so replies are paired with CALLs from earlier batches. A
    batch the database refuses is bisected by the Loader: only the culprit is rejected."""
    from bot.store.loader import Loader

    loader = [Loader(engine, batch_size=batch_size)]
    lock = threading.Lock()

    def rebuild() -> None:
        loader[0] = Loader(engine, batch_size=batch_size)

    def sink(records: list[Record]) -> SinkResult:
        with lock:
            summary = _recovering(engine, lambda: loader[0].load(records), rebuild)
        return SinkResult(stored=summary.stored, duplicates=summary.duplicates,
                          rejected=list(summary.rejected), dropped=dict(summary.dropped))

    return sink


def store_sink(engine: Engine) -> FrameSink:
    """Records -> parse -> store: the message log and charger/port state, one
    transaction per batch, no triage (the Loader's path, with its per-record isolation)."""
    return loader_sink(engine)


def default_sink(engine: Engine, **pipeline_kwargs: Any) -> FrameSink:
    """The full pipeline (live feeds are triaged as they arrive). Falls back to storing
    without triage only when the triage stages cannot be imported, and says so."""
    try:
        return pipeline_sink(engine, **pipeline_kwargs)
    except ImportError as exc:
        log.error("triage unavailable (%s): feeds will store frames without triage", exc)
    return loader_sink(engine)


def schema_missing(exc: BaseException) -> bool:
    """The database answers but has no faultbot tables (dropped and recreated)."""
    # SQLAlchemy's wrapper or the driver's own (the log insert uses the raw cursor)
    names = {cls.__name__ for cls in type(exc).__mro__}
    if not names & {"ProgrammingError", "OperationalError"}:
        return False
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _recovering(engine: Engine, work: Callable[[], T], rebuild: Callable[[], None]) -> T:
    """Run `work`; if the tables are gone, migrate, rebuild the stage, and run it again."""
    try:
        return work()
    except Exception as exc:
        if not schema_missing(exc):
            raise
        from bot.store.db import migrate

        log.warning("the database has no faultbot tables (recreated?): migrating again")
        migrate(engine)
        rebuild()
        return work()


class SinkRunner:
    """Runs a (blocking) sink off the event loop, one batch at a time.

    One thread keeps batches in arrival order, which keeps one charger's frames in
    order, and keeps SQLite to a single writer.
    """

    def __init__(self, sink: FrameSink) -> None:
        self.sink = sink
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-sink")

    async def __call__(self, records: list[Record]) -> SinkResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.sink, records)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run another blocking job (e.g. the pipeline's tick) on the sink's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
