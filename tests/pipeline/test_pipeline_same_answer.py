"""Same input, same answer (DESIGN invariant 1, issue 9).

The incidents, diagnoses, port history and digest are a function of the stored messages
alone: the same feed is delivered whole, in batches of many sizes, split over several
processes (a new Pipeline object each: only the database carries over), with a crash
and a redelivery in the middle, and every run must leave identical rows.

Two feeds: the bundled sample (three days, 36 chargers, every rule at work) and a
scenario built from it with out-of-order and duplicated deliveries.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from db_reset import truncate_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.digest.build import build_digest
from bot.digest.render import render_digest
from bot.fold.checkpoint import log_time
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.generate import write_sample
from bot.store.db import make_engine
from bot.store.sites import SiteMap

UTC = ZoneInfo("UTC")
DAYS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))


class Crash(RuntimeError):
    """Raised inside a batch's transaction, as a killed worker would stop there."""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    tmp = tmp_path_factory.mktemp("same-answer")
    paths = write_sample(tmp)
    return paths.feed.read_text().splitlines(), paths.sites


@pytest.fixture(scope="module")
def scenario(sample: tuple[list[str], Path]) -> list[str]:
    """A slice of the sample delivered the way real feeds do it: a window of lines
    arrives shuffled (a charger's buffered frames after a reconnect), some lines twice
    (a redelivery), one file's worth again at the end (the same file ingested twice)."""
    lines = sample[0][:9000]
    rng = random.Random(20261202)
    out: list[str] = []
    for start in range(0, len(lines), 40):
        window = lines[start : start + 40]
        if rng.random() < 0.2:
            rng.shuffle(window)
        out.extend(window)
        out.extend(rng.sample(window, k=min(2, len(window))))  # duplicated deliveries
    return out + lines[:500]


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def fresh_db(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Engine]:
    """A function that empties the backend's database and returns an engine on it."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        tmp = tmp_path_factory.mktemp("db")
        counter = iter(range(10_000))

        def make() -> Engine:
            path = tmp / f"run{next(counter)}.db"
            shutil.copyfile(template, path)
            return make_engine(f"sqlite:///{path}")

        return make
    url: str = request.getfixturevalue("postgres_url")

    def make_pg() -> Engine:
        engine = make_engine(url)
        truncate_all(engine)
        return engine

    return make_pg


def outcome(engine: Engine, sites: Any) -> dict[str, Any]:
    """Everything a user sees, without row ids (ids depend on nothing but are noise)."""
    with Session(engine) as s:
        incidents = sorted(
            (i.scope, i.site, i.charger or "", i.connector or 0, i.category, i.severity,
             i.owner, i.rule, i.opened_at.isoformat(),
             i.resolved_at.isoformat() if i.resolved_at else "", i.resolved_by or "",
             i.occurrences, i.flaps, i.suppressed, i.flapping)
            for i in s.scalars(select(Incident))
        )
        by_id = {i.id: (i.charger, i.connector, i.opened_at.isoformat())
                 for i in s.scalars(select(Incident))}
        diagnoses = sorted(
            (d.message_fingerprint, d.rule, d.category, d.ts.isoformat(), d.suppressed,
             json.dumps(d.body, sort_keys=True), str(by_id.get(d.incident_id)))
            for d in s.scalars(select(DiagnosisRow))
        )
        history = sorted(
            (p.charger, p.connector, p.ts.isoformat(), p.status)
            for p in s.scalars(select(PortStatus))
        )
        now = log_time(s.connection())
        # Incident ids are surrogate keys: PostgreSQL burns sequence values in a rolled
        # back transaction, so a crash may shift them. Everything else must match.
        digests = [_without_ids(render_digest(build_digest(s, day, UTC, sites, now), "json"))
                   for day in DAYS] if now is not None else []
    return {"incidents": incidents, "diagnoses": diagnoses, "history": history,
            "digests": digests}


def _without_ids(digest_json: str) -> str:
    obj = json.loads(digest_json)
    for section in obj["sections"]:
        for line in section["lines"]:
            line.pop("incident_id")
    return json.dumps(obj, indent=1)


def deliver(engine: Engine, sites: Any, parts: list[list[str]], batch: int,
            checkpoint_every: int = 50_000) -> None:
    """Each part in a new process (a new Pipeline: only the database carries over)."""
    for part in parts:
        pipe = Pipeline(engine, sites=sites, batch_size=batch,
                        checkpoint_every=checkpoint_every)
        pipe.process(read_lines(part, source="feed.jsonl"))
        pipe.checkpoint()


def run(make_db: Callable[[], Engine], sites: Any, parts: list[list[str]], batch: int,
        **kw: Any) -> dict[str, Any]:
    engine = make_db()
    try:
        deliver(engine, sites, parts, batch, **kw)
        return outcome(engine, sites)
    finally:
        engine.dispose()


def split(lines: list[str], *points: int) -> list[list[str]]:
    bounds = [0, *points, len(lines)]
    return [lines[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.slow
def test_sample_same_incidents_whatever_the_batching(
    sample: tuple[list[str], Path], fresh_db: Callable[[], Engine]
) -> None:
    lines, sites_file = sample
    sites = SiteMap.load(sites_file)
    reference = run(fresh_db, sites, [lines], 20_000)
    assert len(reference["incidents"]) >= 50  # the sample's story is all there
    assert reference["digests"] and all('"ports_down_now"' in d for d in reference["digests"])
    for batch, points, every in (
        (5_000, (), 50_000),
        (500, (), 50_000),
        (5_000, (len(lines) // 2,), 50_000),  # two files, two processes
        (997, (7_001, 19_333, 30_000), 3_000),  # four processes, checkpoints mid-run
    ):
        got = run(fresh_db, sites, split(lines, *points), batch, checkpoint_every=every)
        assert got == reference, (batch, points, every)


@pytest.mark.slow
def test_sample_crash_and_redelivery_change_nothing(
    sample: tuple[list[str], Path], fresh_db: Callable[[], Engine]
) -> None:
    """A worker dies inside a batch's transaction halfway; a new one is given the whole
    feed again (what a broker or `faultbot ingest` re-run does)."""
    lines, sites_file = sample
    sites = SiteMap.load(sites_file)
    reference = run(fresh_db, sites, [lines], 5_000)
    engine = fresh_db()
    try:
        seen = {"n": 0}

        def dies_halfway(session: Session, changes: list[Any]) -> None:
            seen["n"] += 1
            if seen["n"] == 4:
                raise Crash("killed inside the batch's transaction")

        dying = Pipeline(engine, sites=sites, batch_size=5_000, checkpoint_every=7_000,
                         listeners=[dies_halfway])
        with pytest.raises(Crash):
            dying.process(read_lines(lines, source="feed.jsonl"))
        deliver(engine, sites, [lines], 5_000)  # the restarted worker, everything again
        assert outcome(engine, sites) == reference
    finally:
        engine.dispose()


@pytest.mark.slow
def test_failed_batch_in_a_running_worker_changes_nothing(
    sample: tuple[list[str], Path], fresh_db: Callable[[], Engine]
) -> None:
    """The same Pipeline object goes on after a failed batch (the feed redelivers it):
    the context it had folded from the rolled-back batch must not count."""
    lines, sites_file = sample
    sites = SiteMap.load(sites_file)
    part = lines[:12_000]
    reference = run(fresh_db, sites, [part], 1_000)
    engine = fresh_db()
    try:
        fail_once = {"left": 1, "n": 0}

        def flaky(session: Session, changes: list[Any]) -> None:
            fail_once["n"] += 1
            if fail_once["n"] == 5 and fail_once["left"]:
                fail_once["left"] = 0
                raise Crash("the database went away for one batch")

        pipe = Pipeline(engine, sites=sites, batch_size=1_000, listeners=[flaky])
        with pytest.raises(Crash):
            pipe.process(read_lines(part, source="feed.jsonl"))
        pipe.process(read_lines(part, source="feed.jsonl"))  # redelivered, same worker
        pipe.checkpoint()
        assert outcome(engine, sites) == reference
    finally:
        engine.dispose()


@pytest.mark.slow
def test_out_of_order_and_duplicated_deliveries(
    scenario: list[str], sample: tuple[list[str], Path], fresh_db: Callable[[], Engine]
) -> None:
    sites = SiteMap.load(sample[1])
    reference = run(fresh_db, sites, [scenario], 20_000)
    assert reference["incidents"]
    for batch, points in ((1, ()), (7, (4_001,)), (500, (1_234, 6_000)), (5_000, (9_000,))):
        if batch < 7:  # one transaction per frame is slow: a prefix shows the same thing
            prefix = scenario[:1_500]
            assert run(fresh_db, sites, [prefix], 1) == run(fresh_db, sites, [prefix], 1_500)
            continue
        assert run(fresh_db, sites, split(scenario, *points), batch) == reference, batch


@pytest.fixture(scope="module")
def small_feed(scenario: list[str]) -> list[str]:
    return scenario[2_000:3_200]


@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_batching_any_split_property(
    data: st.DataObject, small_feed: list[str], sample: tuple[list[str], Path],
    fresh_db: Callable[[], Engine],
) -> None:
    """Hypothesis picks the batch size, the split points and the checkpoint interval."""
    sites = SiteMap.load(sample[1])
    n = len(small_feed)
    batch = data.draw(st.integers(1, 400), label="batch")
    points = sorted(set(data.draw(st.lists(st.integers(1, n - 1), max_size=3), label="splits")))
    every = data.draw(st.integers(1, 2_000), label="checkpoint_every")
    reference = _small_reference(fresh_db, sites, small_feed)
    got = run(fresh_db, sites, split(small_feed, *points), batch, checkpoint_every=every)
    assert got == reference


_REFERENCES: dict[int, dict[str, Any]] = {}


def _small_reference(make_db: Callable[[], Engine], sites: Any,
                     lines: list[str]) -> dict[str, Any]:
    key = id(make_db)
    if key not in _REFERENCES:
        _REFERENCES[key] = run(make_db, sites, [lines], 5_000)
    return _REFERENCES[key]

