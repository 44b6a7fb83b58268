"""The frames a prune keeps because they are the newest of their kind (who a charger is,
what a port shows, the charger's newest inbound frame) are found from the old part of
the log plus index probes (bot.retention.prune._state_frames), not by grouping the
whole log; they must be exactly the frames the whole-log grouping keeps. On SQLite and
PostgreSQL, with frames that arrive late (a higher id, an older time), ports without a
connector, replies, and chargers silent since before the cut-off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select

from bot.ocpp.readers import read_lines
from bot.retention.prune import _IDENTITY, _PORT_STATE, _state_frames
from bot.store.loader import load
from bot.store.models import MessageRow

T0 = datetime(2026, 10, 1, tzinfo=UTC)
CUT = T0 + timedelta(days=10)
_n = iter(range(1, 10**6))


def _line(days: float, charger: str, frame: list[Any], direction: str = "in") -> str:
    at = (T0 + timedelta(days=days)).isoformat().replace("+00:00", "Z")
    return json.dumps({"ts": at, "charger": charger, "dir": direction, "frame": frame,
                       "ocpp": "1.6"})


def _call(days: float, charger: str, action: str, payload: dict[str, Any]) -> str:
    return _line(days, charger, [2, f"u{next(_n)}", action, payload])


def _status(days: float, charger: str, connector: int, status: str) -> str:
    return _call(days, charger, "StatusNotification",
                 {"connectorId": connector, "errorCode": "NoError", "status": status})


def _batches() -> list[list[str]]:
    """In arrival order; each inner list is stored as one load (ids follow arrival)."""
    boot = {"chargePointVendor": "Acme", "chargePointModel": "AC"}
    first = []
    for cp in ("CP-A", "CP-B", "CP-C", "CP-D"):
        first.append(_call(0, cp, "BootNotification", boot))
        first.append(_line(0.001, cp, [3, "b0", {"status": "Accepted", "interval": 60,
                                                  "currentTime": "2026-10-01T00:00:00Z"}],
                           direction="out"))
        for c in (0, 1, 2):
            first.append(_status(0.01, cp, c, "Available"))
        for d in range(1, 9):
            first.append(_call(d, cp, "Heartbeat", {}))
    # CP-A: active after the cut-off (its old frames are not the newest of anything but
    # its boot and connector 0); CP-B: silent since day 8; CP-C: a port changes late
    recent = [_call(d, "CP-A", "Heartbeat", {}) for d in (11, 12)]
    recent += [_status(11, "CP-A", 1, "Charging"), _status(12, "CP-C", 2, "Faulted"),
               _call(11.5, "CP-A", "BootNotification", boot)]  # CP-A rebooted
    # frames that arrive late: stored after the recent ones, older than the cut-off
    late = [_call(5, "CP-D", "Heartbeat", {}), _status(3, "CP-C", 1, "Unavailable"),
            _call(7, "CP-A", "Heartbeat", {}), _line(6, "CP-B", [2, "x", "DataTransfer",
                                                               {"vendorId": "V"}])]
    return [first, recent, late]


def _whole_log_grouping() -> Any:
    """The reference: the newest of each kind found by grouping the whole log."""
    m = MessageRow
    return (
        select(func.max(m.id).label("id"))
        .where(m.action.in_(_IDENTITY + _PORT_STATE))
        .group_by(m.charger_id, m.action, m.message_type, m.connector_id)
        .union_all(select(func.max(m.id).label("id")).where(m.direction == "in")
                   .group_by(m.charger_id))
        .subquery()
    )


def test_old_newest_frames_are_those_of_the_whole_log(db_engine: Engine) -> None:
    for batch in _batches():
        assert load(db_engine, read_lines(batch, source="t")).stored == len(batch)
    m = MessageRow
    with db_engine.connect() as conn:
        top = conn.execute(select(func.max(m.id))).scalar()
        # `folded` below the top too: frames above it are never old
        for folded in (top, top - 3):
            old = and_(m.id <= folded, m.ts < CUT)
            ref = _whole_log_grouping()
            expected = set(conn.execute(
                select(m.id).where(old, m.id.in_(select(ref.c.id)))).scalars())
            got = set(conn.execute(
                select(m.id).where(old, m.id.in_(_state_frames(old)))).scalars())
            assert got == expected
            if folded != top:
                continue
            rows = list(conn.execute(
                select(m.charger_id, m.action, m.connector_id).where(m.id.in_(got))))
            kept = {(r.charger_id, r.action, r.connector_id) for r in rows}
            # not vacuous: the boots but CP-A's (it rebooted since), CP-B's late
            # DataTransfer (its newest inbound frame), CP-C's late connector-1 status;
            # of the heartbeats only the late ones of CP-A and CP-D (highest ids)
            assert ("CP-B", "DataTransfer", None) in kept
            assert ("CP-C", "StatusNotification", 1) in kept
            assert sorted(r.charger_id for r in rows if r.action == "Heartbeat") == [
                "CP-A", "CP-D"]
            assert {c for c, a, _ in kept if a == "BootNotification"} == {
                "CP-B", "CP-C", "CP-D"}
