"""The fold's clock (grid crossings) and checkpoint (what a restarted worker loads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from bot.fold import checkpoint
from bot.fold.clock import FeedClock
from bot.fold.models import FoldCheckpoint
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@given(st.lists(st.integers(-120, 4000), max_size=200))
def test_clock_crosses_the_same_grid_points_as_the_definition(steps: list[int]) -> None:
    clock, newest, t = FeedClock(), None, T0
    for step in steps:
        t += timedelta(seconds=step)
        got = clock.advance(t)
        if newest is None or t <= newest:
            expected = None  # the first message, or time going backwards: nothing is due
        else:
            point = clock.grid_point(t)
            expected = point if point > newest else None
        assert got == expected
        newest = t if newest is None else max(newest, t)
        assert clock.now == newest


def test_grid_points_do_not_depend_on_where_the_feed_started() -> None:
    a, b = FeedClock(), FeedClock()
    a.advance(T0 + timedelta(seconds=7))
    b.advance(T0 + timedelta(seconds=41))
    assert a.advance(T0 + timedelta(seconds=75)) == b.advance(T0 + timedelta(seconds=75)) \
        == T0 + timedelta(minutes=1)


def _line(minute: float, charger: str, action: str, payload: dict[str, object]) -> str:
    import json

    ts = (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    return json.dumps({"ts": ts, "charger": charger, "dir": "in", "ocpp": "1.6",
                       "frame": [2, f"{charger}-{minute}", action, payload]})


FEED = [
    _line(0, "CP-1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}),
    _line(1, "CP-1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                            "status": "Available"}),
    _line(2, "CP-1", "Heartbeat", {}),
]


def test_a_restarted_pipeline_loads_the_checkpoint_and_replays_the_rest(
        db_engine: Engine) -> None:
    first = Pipeline(db_engine, checkpoint_every=2)
    first.process(read_lines(FEED[:2], source="t"))  # 2 folded: saved in the batch
    first.process(read_lines(FEED[2:], source="t"))  # 1 more: not saved yet
    with db_engine.connect() as conn:
        snap = checkpoint.load(conn, "main")
    assert snap is not None and snap.last_message_id == 2
    second = Pipeline(db_engine)
    assert second.restore() == 1  # only the message stored after the checkpoint
    view = second.triage.charger_view("CP-1")
    assert view is not None and view.model == "X" and view.last_seen == T0 + timedelta(minutes=2)
    assert second.feed_clock.now == first.feed_clock.now == T0 + timedelta(minutes=2)


def test_a_checkpoint_of_another_code_version_is_ignored_and_the_log_replayed(
        db_engine: Engine) -> None:
    first = Pipeline(db_engine)
    first.process(read_lines(FEED, source="t"))
    first.checkpoint()
    with db_engine.begin() as conn:
        conn.execute(update(FoldCheckpoint).values(version="old"))
    assert Pipeline(db_engine).restore() == 3  # the whole log, nothing lost
    with db_engine.begin() as conn:
        conn.execute(update(FoldCheckpoint).values(version=checkpoint.STATE_VERSION,
                                                   state=b"not a pickle"))
    again = Pipeline(db_engine)
    assert again.restore() == 3
    assert again.triage.charger_view("CP-1") is not None
