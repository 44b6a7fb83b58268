"""Connection events (events.CONNECTION) read from logs: parsed as such, stored once,
folded in order with the frames the same way whatever the batch size, and never taken
for the charger talking."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.incidents.models import DiagnosisRow, Incident
from bot.kb.loader import default_knowledge
from bot.kb.matcher import Matcher
from bot.ocpp.events import CONNECTION, ConnectionEvent, LineError, Message, Record
from bot.ocpp.parse import Parser
from bot.ocpp.readers import read_file
from bot.pipeline import Pipeline
from bot.store.db import make_engine
from bot.store.models import MessageRow
from bot.triage.engine import TriageEngine

LOGS = Path(__file__).parent / "fixtures" / "logs"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _record(frame: list[object], ts: datetime = T0) -> Record:
    return Record(ts=ts, charger="CP-1", direction="in", frame=frame, source="t")


def test_parser_reads_connection_events_and_refuses_bad_ones() -> None:
    parser = Parser()
    m = parser.parse(_record([CONNECTION, "c1", "closed", {"closeCode": 1006}]))
    assert isinstance(m, Message)
    assert (m.message_type, m.action, m.fact) == (CONNECTION, None, ConnectionEvent("closed", 1006))
    again = Parser().parse(_record([CONNECTION, "c1", "closed", {"closeCode": 1006}]))
    assert isinstance(again, Message) and again.fingerprint == m.fingerprint
    for bad in ([CONNECTION, "c2", "vanished", {}], [CONNECTION, "c3", "closed"],
                [CONNECTION, "c4", "closed", []]):
        assert isinstance(parser.parse(_record(bad)), LineError)
    # A close code that is not a number is not made one.
    odd = parser.parse(_record([CONNECTION, "c5", "closed", {"closeCode": "1006"}]))
    assert isinstance(odd, Message) and odd.fact == ConnectionEvent("closed", None)


def test_a_disconnect_is_not_the_charger_talking() -> None:
    engine = TriageEngine(default_knowledge(), Matcher(default_knowledge()))
    parser = Parser()
    hb = parser.parse(_record([2, "h1", "Heartbeat", {}]))
    closed = parser.parse(_record([CONNECTION, "c1", "closed", {"closeCode": 1006}],
                                  ts=T0.replace(minute=30)))
    assert isinstance(hb, Message) and isinstance(closed, Message)
    engine.observe(hb)
    assert engine.observe(closed) == []
    view = engine.charger_view("CP-1")
    assert view is not None and view.last_seen == T0


def _fold(engine: Engine, batch_size: int) -> tuple[list[tuple[object, ...]], ...]:
    pipeline = Pipeline(engine, batch_size=batch_size)
    for name in ("steve.log", "home_assistant.log"):
        pipeline.process(read_file(LOGS / name))
    # A new process rebuilds the same context from the stored log, events included.
    restarted = Pipeline(engine, batch_size=batch_size)
    assert restarted.restore() > 0
    for charger in ("STV-01", "HA-01"):
        assert restarted.triage.charger_view(charger) == pipeline.triage.charger_view(charger)
    with Session(engine) as s:
        log = s.execute(select(MessageRow.fingerprint, MessageRow.message_type)
                        .order_by(MessageRow.id)).all()
        diagnoses = s.execute(select(DiagnosisRow.message_fingerprint, DiagnosisRow.rule)
                              .order_by(DiagnosisRow.message_fingerprint)).all()
        incidents = s.execute(select(Incident.charger, Incident.connector, Incident.rule,
                                     Incident.opened_at, Incident.resolved_at)
                              .order_by(Incident.charger, Incident.connector)).all()
    return ([tuple(r) for r in log], [tuple(r) for r in diagnoses],
            [tuple(r) for r in incidents])


def test_connection_events_fold_the_same_in_any_batch_size(
    sqlite_template: Path, tmp_path: Path
) -> None:
    runs = []
    for batch_size in (10_000, 1):
        path = tmp_path / f"fold-{batch_size}.db"
        shutil.copyfile(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            runs.append(_fold(engine, batch_size))
        finally:
            engine.dispose()
    whole, one_by_one = runs
    assert whole == one_by_one
    log = whole[0]
    assert sum(1 for _, kind in log if kind == CONNECTION) == 8
    assert len(whole[1]) == 2  # the two faults are diagnosed; the events add none
