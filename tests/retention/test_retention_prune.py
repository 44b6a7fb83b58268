"""Retention (bot.retention): pruning with the defaults removes old raw frames, keeps the
evidence and the frames a replay needs, and changes no answer: incidents, diagnoses,
port history, uptime, digests and `why` are identical before and after, and a worker
that restarts after the prune (with or without its checkpoint) goes on exactly as one
that never pruned. On SQLite and PostgreSQL (the db_engine fixture)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from db_reset import private_pg_database, truncate_all
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from bot.answers.render import render_why
from bot.answers.why import why
from bot.digest.build import build_digest
from bot.digest.render import render_digest
from bot.fold.checkpoint import TABLE as CHECKPOINTS
from bot.fold.checkpoint import log_time
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.incidents.uptime import site_uptime
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.retention.prune import RetentionPolicy, prune
from bot.store.db import make_engine
from bot.store.models import LogRetention, MessageRow

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 40
CHARGERS = ("CP-A", "CP-B", "CP-C")
_uid = iter(range(1, 10**9))


def _at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _call(hours: float, charger: str, action: str, payload: dict[str, Any]) -> str:
    frame = [2, f"u{next(_uid)}", action, payload]
    return json.dumps({"ts": _at(hours), "charger": charger, "dir": "in", "frame": frame,
                       "ocpp": "1.6"})


def _status(hours: float, charger: str, st: str, error: str = "NoError") -> str:
    return _call(hours, charger, "StatusNotification",
                 {"connectorId": 1, "errorCode": error, "status": st, "timestamp": _at(hours)})


def forty_days() -> list[str]:
    """Three chargers over 40 days: booted once at the start (their identity is only in
    that old frame), hourly heartbeats, a 20-minute switch fault on CP-A every 4 days,
    a ground fault on CP-B on day 36, and CP-C silent from day 5 on (an open incident)."""
    timed: list[tuple[float, str]] = []
    for n, cp in enumerate(CHARGERS):
        boot = {"chargePointVendor": "Acme", "chargePointModel": f"AC{n}"}
        timed.append((0.01 * n, _call(0.01 * n, cp, "BootNotification", boot)))
        timed.append((0.1 + 0.01 * n, _status(0.1 + 0.01 * n, cp, "Available")))
    for h in range(1, DAYS * 24):
        for n, cp in enumerate(CHARGERS):
            if cp == "CP-C" and h > 5 * 24:
                continue
            timed.append((h + 0.02 * n, _call(h + 0.02 * n, cp, "Heartbeat", {})))
    for day in range(2, DAYS, 4):
        start = day * 24 + 9.5
        timed.append((start, _status(start, "CP-A", "Faulted", "PowerSwitchFailure")))
        timed.append((start + 1 / 3, _status(start + 1 / 3, "CP-A", "Available")))
    timed.append((36 * 24 + 14.5, _status(36 * 24 + 14.5, "CP-B", "Faulted", "GroundFailure")))
    timed.sort(key=lambda item: item[0])
    return [line for _, line in timed]


FEED = forty_days()
SPLIT = len(FEED) * 4 // 5  # the prune happens here; the rest arrives afterwards


def _ingest(engine: Engine, lines: list[str]) -> None:
    pipe = Pipeline(engine, batch_size=2000)
    pipe.process(read_lines(lines, source="feed.jsonl"))
    pipe.checkpoint()


def answers(engine: Engine) -> dict[str, Any]:
    """What users see, without surrogate ids."""
    with Session(engine) as s:
        now = log_time(s.connection())
        assert now is not None
        incidents = sorted(
            (i.scope, i.charger or "", i.connector or 0, i.category, i.severity, i.rule,
             i.opened_at.isoformat(), i.resolved_at.isoformat() if i.resolved_at else "",
             i.occurrences, i.flaps, i.flapping, i.model or "")
            for i in s.scalars(select(Incident))
        )
        diagnoses = sorted(
            (d.message_fingerprint, d.rule, d.category, d.ts.isoformat(),
             json.dumps(d.body, sort_keys=True))
            for d in s.scalars(select(DiagnosisRow))
        )
        history = sorted((p.charger, p.connector, p.ts.isoformat(), p.status)
                         for p in s.scalars(select(PortStatus)))
        last_day = now.date()
        days = [last_day - timedelta(days=k) for k in range(0, 8)]
        uptime = [[asdict(u) for u in site_uptime(s, d, UTC, now=now)] for d in days]
        digests = [json.loads(render_digest(build_digest(s, d, UTC, None, now), "json"))
                   for d in days]
        for digest in digests:
            for section in digest["sections"]:
                for line in section["lines"]:
                    line.pop("incident_id")
        whys = [render_why(why(s, cp, None, now)) for cp in CHARGERS]
    return {"incidents": incidents, "diagnoses": diagnoses, "history": history,
            "uptime": json.dumps(uptime, default=str), "digests": digests, "why": whys}


@pytest.fixture(scope="module")
def pg_twin_url(postgres_url: str) -> Iterator[str]:
    """A second private PostgreSQL database, for runs compared side by side."""
    with private_pg_database(postgres_url.rsplit("/", 1)[0] + "/postgres", "faultbot_twin") as url:
        yield url


@pytest.fixture
def twin(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An empty database on the same backend as db_engine."""
    if db_url.startswith("sqlite"):
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "twin.db")
        url = f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        url = request.getfixturevalue("pg_twin_url")
        truncate_all(make_engine(url))
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _count(engine: Engine, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(MessageRow.id)).where(*where)).scalar() or 0)


def test_prune_with_the_defaults_changes_no_answer(db_engine: Engine) -> None:
    _ingest(db_engine, FEED)
    before = answers(db_engine)
    total = _count(db_engine)
    with Session(db_engine) as s:
        # frames diagnoses rest on (time-based diagnoses, e.g. a silent charger, have none)
        evidence = set(s.scalars(select(DiagnosisRow.message_fingerprint))) & set(
            s.scalars(select(MessageRow.fingerprint)))
    assert len(evidence) >= 10
    report = prune(db_engine, RetentionPolicy())
    cut = report.raw_before
    assert cut is not None and report.log_clock is not None
    # cut-offs run on the log's clock (the feed's last frame), not on today's date
    assert report.log_clock == max(datetime.fromisoformat(json.loads(x)["ts"]) for x in FEED)
    assert report.log_clock - cut == timedelta(days=30)
    # old raw frames went; what is left before the cut-off is evidence or state
    assert report.frames > 500  # ten days of hourly heartbeats from three chargers
    assert _count(db_engine) == total - report.frames
    old_left = _count(db_engine, MessageRow.ts < cut)
    assert old_left == report.frames_kept_old
    with Session(db_engine) as s:
        stored = set(s.scalars(select(MessageRow.fingerprint)))
        boots = s.scalar(select(func.count()).where(MessageRow.action == "BootNotification"))
    assert evidence <= stored  # every diagnosed frame is still there
    assert boots == len(CHARGERS)  # who each charger is, though booted 40 days ago
    assert answers(db_engine) == before


def test_a_dry_run_counts_the_same_and_removes_nothing(db_engine: Engine) -> None:
    _ingest(db_engine, FEED)
    total = _count(db_engine)
    dry = prune(db_engine, RetentionPolicy(), dry_run=True)
    assert _count(db_engine) == total
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LogRetention)).scalar() == 0
    real = prune(db_engine, RetentionPolicy())
    assert (dry.frames, dry.frames_kept_old) == (real.frames, real.frames_kept_old)
    assert _count(db_engine) == total - real.frames
    again = prune(db_engine, RetentionPolicy())
    assert again.frames == 0  # nothing more to do on the same log


def _restart_and_finish(engine: Engine, *, drop_checkpoint: bool) -> None:
    if drop_checkpoint:  # another code version: the worker replays what is left
        with engine.begin() as conn:
            conn.execute(delete(CHECKPOINTS))
    _ingest(engine, FEED[SPLIT:])


@pytest.mark.parametrize("drop_checkpoint", [False, True], ids=["checkpoint", "full-replay"])
def test_a_worker_after_a_prune_goes_on_as_if_nothing_was_pruned(
    db_engine: Engine, twin: Engine, drop_checkpoint: bool
) -> None:
    """With its checkpoint the worker replays the tail; without one (another code
    version) it replays what is left of the log, and must rebuild the same context."""
    pruned, untouched = db_engine, twin
    for engine in (pruned, untouched):
        _ingest(engine, FEED[:SPLIT])
    assert prune(pruned, RetentionPolicy(raw_days=10)).frames > 0
    _restart_and_finish(pruned, drop_checkpoint=drop_checkpoint)
    _restart_and_finish(untouched, drop_checkpoint=drop_checkpoint)
    assert answers(pruned) == answers(untouched)


def test_frames_from_before_the_cut_off_are_not_stored_again(db_engine: Engine) -> None:
    _ingest(db_engine, FEED)
    report = prune(db_engine, RetentionPolicy())
    before, total = answers(db_engine), _count(db_engine)
    pipe = Pipeline(db_engine)
    result = pipe.process(read_lines(FEED, source="feed.jsonl"))  # the same file again
    assert _count(db_engine) == total  # the pruned frames did not come back
    assert result.expired == report.frames + report.frames_kept_old
    assert answers(db_engine) == before


def test_nothing_is_pruned_before_any_fold_checkpointed(db_engine: Engine) -> None:
    assert prune(db_engine, RetentionPolicy()).reason == "no_log"
    pipe = Pipeline(db_engine)
    pipe.process(read_lines(FEED[:100], source="feed.jsonl"))
    with db_engine.begin() as conn:
        conn.execute(delete(CHECKPOINTS))
    report = prune(db_engine, RetentionPolicy(raw_days=1))
    assert report.reason == "not_folded" and report.frames == 0

