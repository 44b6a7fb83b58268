"""One bad record affects only itself, on SQLite and PostgreSQL (issue 10).

Before: a lone surrogate, a connectorId of 2**31 (PostgreSQL) or 2**63 (SQLite) failed
the whole transaction, so `ingest` died with a traceback and the good frames of the
batch were lost. Now the parser and the store clean or refuse what they can foresee,
and the Loader bisects a batch the database refuses for a reason nobody foresaw.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from poison_frames import (
    SURROGATE,
    Frame,
    exact_cases,
    good_frame,
    hostile_streams,
    status16,
    wrap,
)
from sqlalchemy import Engine, select, text

from bot.ocpp.events import LineError, Record
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.store.ingest import IngestResult
from bot.store.loader import Loader
from bot.store.models import Connector, MessageRow


def records(frames: list[Frame], source: str = "hostile.jsonl") -> list[Record | LineError]:
    return list(read_lines([f.line().encode() for f in frames], source=source))


def stored_uids(engine: Engine, charger: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(  # the unique id is the frame's second element (store_0007)
            select(MessageRow.raw).where(MessageRow.charger_id == charger)
        )
        return {json.loads(r[0])[1] for r in rows}


def check_accounted(
    engine: Engine, frames: list[Frame], diagnoses: list[Any], errors: list[LineError]
) -> None:
    """Every fault report ends diagnosed (suppressed or not) or rejected with a reason.
    A stored report is found by its unique id, and its diagnosis by the fingerprint the
    store gave it."""
    diagnosed = {d.message_fingerprint for d in diagnoses}
    rejected = {e.line: e for e in errors}
    with engine.connect() as conn:
        fps = {
            (c, json.loads(raw)[1]): fp
            for c, raw, fp in conn.execute(
                select(MessageRow.charger_id, MessageRow.raw, MessageRow.fingerprint)
            )
        }
    for line, frame in enumerate(frames, 1):
        if not frame.fault:
            continue
        if line in rejected:
            assert rejected[line].fault and rejected[line].reason
            continue
        fp = fps.get((frame.obj["charger"], frame.uid))
        assert fp is not None, f"line {line} neither stored nor rejected: {frame.line()[:200]}"
        assert fp in diagnosed, f"line {line} stored, never diagnosed: {frame.line()[:200]}"


def test_the_issues_cases_in_one_batch(db_engine: Engine) -> None:
    frames = exact_cases("CP-X")
    pipeline = Pipeline(db_engine)
    result = pipeline.process(records(frames))
    uids = stored_uids(db_engine, "CP-X")
    assert {f.uid for f in frames if f.good} <= uids  # every good frame around them
    check_accounted(db_engine, frames, result.diagnoses, result.errors)
    reasons = {e.line: e.reason for e in result.errors}
    assert sorted(reasons) == [4, 6, 8, 10]  # 2**31, 2**63, 2**66, -1: nothing else
    assert reasons[10] == "connectorId -1 is negative; ports are numbered from 0"
    with db_engine.connect() as conn:
        raw = next(r for r in conn.scalars(select(MessageRow.raw).where(
            MessageRow.charger_id == "CP-X")) if json.loads(r)[1] == "bad-0")
        info = conn.scalar(
            select(Connector.info).where(Connector.charger_id == "CP-X",
                                         Connector.connector_id == 1)
        )
    assert raw is not None and "\\ud800" in raw  # the log keeps the charger's escape
    assert info is not None and "\x00" not in info and "\ud800" not in info
    # the station-level diagnoses name the schema problem
    station = [d for d in result.diagnoses if d.connector == 0]
    assert any("connectorId is null" in e for d in station for e in d.evidence)


def test_the_same_file_again_stores_nothing_twice(db_engine: Engine) -> None:
    frames = exact_cases("CP-Y")
    first = Pipeline(db_engine).process(records(frames))
    again = Pipeline(db_engine).process(records(frames))
    assert again.new == 0 and again.duplicates == first.new
    assert [e.line for e in again.errors] == [e.line for e in first.errors]


# --- failures nobody foresaw: the database refuses a row -----------------------------------


def refuse_charger(engine: Engine, charger: str) -> None:
    """Make the database itself refuse one charger's rows (a constraint faultbot does not
    know about), to stand for any refusal the parser could not predict."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(
                f"ALTER TABLE messages ADD CONSTRAINT refuse_evil CHECK (charger_id <> '{charger}')"
            ))
        else:
            conn.execute(text(
                "CREATE TRIGGER refuse_evil BEFORE INSERT ON messages "
                f"WHEN NEW.charger_id = '{charger}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ))


def drop_refusal(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE messages DROP CONSTRAINT IF EXISTS refuse_evil"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS refuse_evil"))


def test_loader_bisects_to_the_refused_record_and_commits_the_rest(db_engine: Engine) -> None:
    refuse_charger(db_engine, "CP-EVIL")
    try:
        frames = [good_frame("CP-G", f"g{i}") for i in range(20)]
        frames.insert(13, Frame(wrap("CP-EVIL", "evil", "StatusNotification", status16(1),
                                     "1.6"), True))
        hooked: list[list[str]] = []
        rollbacks: list[int] = []

        def in_transaction(result: IngestResult, conn: Any) -> None:
            hooked.append([m.unique_id for m in result.new])

        loader = Loader(db_engine, batch_size=100, in_transaction=in_transaction,
                        on_rollback=lambda: rollbacks.append(1))
        summary = loader.load(records(frames))
        assert summary.stored == 20
        assert [(e.line, e.fault) for e in summary.rejected] == [(14, True)]
        assert summary.rejected[0].reason.startswith("the database refused it: ")
        assert summary.rejected_faults == 1
        assert stored_uids(db_engine, "CP-G") == {f"g{i}" for i in range(20)}
        # the halves committed in input order; the hook never ran for a failed insert
        assert [u for batch in hooked for u in batch] == [f"g{i}" for i in range(20)]
        assert rollbacks == []
    finally:
        drop_refusal(db_engine)


def test_a_refusal_inside_the_hook_rolls_back_announces_and_retries(db_engine: Engine) -> None:
    """The hook's own writes (the pipeline's triage rows) can be refused too: the batch
    is bisected, each rolled-back hooked transaction is announced by on_rollback before
    the retry, and what commits is written exactly once."""
    with db_engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE hook_audit (uid VARCHAR(50) CHECK (uid <> 'evil'))"
        ))
    try:
        frames = [good_frame("CP-H", f"h{i}") for i in range(10)]
        frames.insert(6, Frame(wrap("CP-H", "evil", "StatusNotification", status16(1), "1.6"),
                               True))
        rollbacks: list[int] = []

        def in_transaction(result: IngestResult, conn: Any) -> None:
            conn.execute(text("INSERT INTO hook_audit (uid) VALUES (:u)"),
                         [{"u": m.unique_id} for m in result.new])

        loader = Loader(db_engine, in_transaction=in_transaction,
                        on_rollback=lambda: rollbacks.append(1))
        summary = loader.load(records(frames))
        assert summary.stored == 10
        assert [(e.line, e.fault) for e in summary.rejected] == [(7, True)]
        assert summary.rejected[0].reason.startswith("the database refused it: ")
        # failed tries: all 11, then the half of 6 holding it, of 3, of 2, then it alone
        assert len(rollbacks) == 5
        with db_engine.connect() as conn:
            audit = [r[0] for r in conn.execute(text("SELECT uid FROM hook_audit"))]
        assert sorted(audit) == sorted(f"h{i}" for i in range(10))
        assert stored_uids(db_engine, "CP-H") == {f"h{i}" for i in range(10)}
    finally:
        with db_engine.begin() as conn:
            conn.execute(text("DROP TABLE hook_audit"))


def test_a_store_that_refuses_everything_is_not_blamed_on_the_records(
    db_engine: Engine,
) -> None:
    refuse_charger(db_engine, "CP-ALL")
    try:
        frames = [good_frame("CP-ALL", f"a{i}") for i in range(10)]
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            Loader(db_engine).load(records(frames))
        assert stored_uids(db_engine, "CP-ALL") == set()
    finally:
        drop_refusal(db_engine)


def test_a_store_that_is_down_raises_so_the_feed_retries() -> None:
    from sqlalchemy.exc import OperationalError

    from bot.store.db import make_engine

    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                         connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError):
        Loader(engine).load(records([good_frame("CP-D", "d1")]))


# --- fuzz ------------------------------------------------------------------------------------


def test_fuzz_hostile_streams_through_the_pipeline(db_engine: Engine) -> None:
    pipeline = Pipeline(db_engine, batch_size=7)  # small batches: poison across boundaries

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostile_streams("CP-FUZZ"))
    def run(frames: list[Frame]) -> None:
        charger = f"CP-{uuid.uuid4().hex[:8]}"  # a fresh charger per example
        for f in frames:
            f.obj["charger"] = charger
        result = pipeline.process(records(frames))  # never raises
        assert {f.uid for f in frames if f.good} <= stored_uids(db_engine, charger)
        check_accounted(db_engine, frames, result.diagnoses, result.errors)

    run()


def test_hostile_lines_are_json_as_a_charger_sends_them() -> None:
    line = Frame(wrap("CP-1", "u", "StatusNotification", status16(1, info=SURROGATE), None),
                 True).line()
    assert line.isascii() and json.loads(line)["frame"][3]["info"] == SURROGATE
