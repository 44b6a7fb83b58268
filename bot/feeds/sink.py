"""Where live feeds hand their frames: a FrameSink.

A sink takes a batch of Records and returns only once they are durably stored (or
raises, so the feed does not acknowledge them and the sender or broker redelivers).
Storage is idempotent by frame fingerprint, so redelivery yields `duplicates`, never
a second copy. Feeds call sinks from a worker thread (`SinkRunner`) so the asyncio
loop keeps forwarding and accepting while the database works.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bot.ocpp.events import LineError, Record


@dataclass(slots=True)
class SinkResult:
    """What became of one batch: new frames, frames already stored, frames refused."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[LineError] = field(default_factory=list)


FrameSink = Callable[[list[Record]], SinkResult]


def _count(result: Any, *names: str) -> int:
    for name in names:
        value = getattr(result, name, None)
        if isinstance(value, int):
            return value
    return 0


def _errors(result: Any) -> list[LineError]:
    for name in ("rejected", "errors", "line_errors"):
        value = getattr(result, name, None)
        if isinstance(value, list):
            return [e for e in value if isinstance(e, LineError)]
    return []


def _as_sink_result(result: Any) -> SinkResult:
    return SinkResult(
        stored=_count(result, "new", "stored", "inserted"),
        duplicates=_count(result, "duplicates"),
        rejected=_errors(result),
    )


# Adapters hold a lock: parsers remember recent CALLs and are not thread-safe, and
# one sink may serve several feeds (each with its own SinkRunner thread).


def pipeline_sink(engine: Engine, **pipeline_kwargs: Any) -> FrameSink:
    """Records -> parse -> store -> triage -> incidents (bot.pipeline), durable on return."""
    from bot.pipeline import Pipeline  # type: ignore[import-not-found,unused-ignore]

    pipeline = Pipeline(engine, **pipeline_kwargs)
    lock = threading.Lock()

    def sink(records: list[Record]) -> SinkResult:
        items: Iterable[Record | LineError] = records
        with lock:
            return _as_sink_result(pipeline.process(items))

    return sink


def loader_sink(engine: Engine, **load_kwargs: Any) -> FrameSink:
    """Records -> parse -> store (bot.store.loader), without triage."""
    from bot.store.loader import load  # type: ignore[import-not-found,unused-ignore]

    lock = threading.Lock()

    def sink(records: list[Record]) -> SinkResult:
        with lock:
            return _as_sink_result(load(engine, records, **load_kwargs))

    return sink


def store_sink(engine: Engine) -> FrameSink:
    """Records -> bot.ocpp.parse.Parser -> bot.store.ingest.Ingestor: the message log and
    charger/port state, one transaction per batch, no triage."""
    from bot.ocpp.parse import Parser
    from bot.store.ingest import Ingestor

    parser, ingestor = Parser(), Ingestor(engine)
    lock = threading.Lock()

    def sink(records: list[Record]) -> SinkResult:
        with lock:
            messages, errors = parser.parse_many(records)
            result = ingestor.ingest(messages)
        return SinkResult(
            stored=len(result.new),
            duplicates=result.duplicates,
            rejected=errors + list(result.rejected),
        )

    return sink


def default_sink(engine: Engine) -> FrameSink:
    """The full pipeline when it is installed, else the store alone."""
    for make in (pipeline_sink, loader_sink):
        try:
            return make(engine)
        except ImportError:
            continue
    return store_sink(engine)


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

    def close(self) -> None:
        self._pool.shutdown(wait=True)
