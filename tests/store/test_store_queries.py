"""Loader (real readers + parser), history queries, rehydrate, charger lookup."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.ocpp.events import BootReply, StatusReport, TransactionUpdate
from bot.ocpp.readers import read_lines
from bot.store.ingest import IngestResult
from bot.store.loader import Loader, load
from bot.store.models import Charger, ChargingSession
from bot.store.queries import (
    all_charger_ids,
    connector_states,
    find_chargers,
    match_charger,
    messages_for,
    rehydrate,
)
from bot.store.sites import Site, SiteMap


def line(ts: str, charger: str, direction: str, frame: list, ocpp: str | None = "1.6") -> str:
    obj = {"ts": ts, "charger": charger, "dir": direction, "frame": frame}
    if ocpp:
        obj["ocpp"] = ocpp
    return json.dumps(obj)


def status_frame(uid: str, connector: int, status: str, error: str = "NoError", **extra) -> list:
    return [
        2,
        uid,
        "StatusNotification",
        {"connectorId": connector, "status": status, "errorCode": error, **extra},
    ]


LINES = [
    line(
        "2026-11-20T08:00:00Z",
        "CP-012",
        "in",
        [2, "b1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}],
    ),
    line(
        "2026-11-20T08:00:01Z",
        "CP-012",
        "out",
        [3, "b1", {"status": "Accepted", "interval": 300, "currentTime": "2026-11-20T08:00:01Z"}],
    ),
    line("2026-11-20T08:01:00Z", "CP-012", "in", status_frame("s1", 1, "Available")),
    "this is not json",
    line(
        "2026-11-20T08:02:00Z",
        "CP-012",
        "in",
        status_frame(
            "s2", 1, "Faulted", "OtherError", vendorErrorCode="F400", info="EMERGENCY_STOP_BUTTON_1"
        ),
    ),
    line(
        "2026-11-20T08:03:00Z",
        "CP-012",
        "in",
        [
            2,
            "t1",
            "StartTransaction",
            {
                "connectorId": 2,
                "idTag": "TAG",
                "meterStart": 100,
                "timestamp": "2026-11-20T08:03:00Z",
            },
        ],
    ),
    line(
        "2026-11-20T08:03:01Z",
        "CP-012",
        "out",
        [3, "t1", {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}],
    ),
    '{"ts": "yesterday", "charger": "CP-012", "dir": "in", "frame": [2, "x", "Heartbeat", {}]}',
    line("2026-11-20T08:04:00Z", "CP-12", "in", status_frame("s3", 0, "Available")),
    line("2026-11-20T08:05:00Z", "AB-7", "in", [2, "h1", "Heartbeat", {}]),
]


def _load(engine: Engine, **kw) -> object:
    return load(engine, read_lines(LINES, source="feed.jsonl"), **kw)


def test_load_summary_and_rejected_lines(db_engine: Engine) -> None:
    batches: list[IngestResult] = []
    summary = _load(db_engine, batch_size=3, on_batch=batches.append)
    assert summary.frames == len(LINES)
    assert summary.stored == len(LINES) - 2
    assert summary.duplicates == 0
    assert summary.chargers == {"CP-012", "CP-12", "AB-7"}
    assert summary.faults == 1 and summary.new_faults == 1
    assert [(e.source, e.line) for e in summary.rejected] == [("feed.jsonl", 4), ("feed.jsonl", 8)]
    assert "not JSON" in summary.rejected[0].reason
    assert sum(len(b.new) for b in batches) == summary.stored

    again = _load(db_engine)
    assert (again.stored, again.duplicates, again.new_faults) == (0, len(LINES) - 2, 0)


def test_replies_are_paired_across_batches(db_engine: Engine) -> None:
    _load(db_engine, batch_size=1)
    with Session(db_engine) as s:
        rows = messages_for(s, "CP-012")
        c = s.get(Charger, "CP-012")
        assert c is not None and (c.boot_status, c.heartbeat_interval_s) == ("Accepted", 300)
        session = s.scalars(select(ChargingSession)).one()
        assert (session.transaction_id, session.connector_id, session.id_tag) == ("42", 2, "TAG")
        assert session.meter_start_wh == 100
    assert [r.action for r in rows] == [
        "BootNotification",
        "BootNotification",
        "StatusNotification",
        "StatusNotification",
        "StartTransaction",
        "StartTransaction",
    ]


def test_messages_for_window_limit_and_order(db_engine: Engine) -> None:
    _load(db_engine)
    t = lambda m: datetime(2026, 11, 20, 8, m, tzinfo=UTC)  # noqa: E731
    with Session(db_engine) as s:
        assert len(messages_for(s, "CP-012")) == 6
        window = messages_for(s, "CP-012", since=t(1), until=t(3))
        assert [r.unique_id for r in window] == ["s1", "s2"]
        newest = messages_for(s, "CP-012", limit=2, newest_first=True)
        assert [r.unique_id for r in newest] == ["t1", "t1"]
        assert newest[0].direction == "out"
        assert messages_for(s, "nope") == []


def test_rehydrate_rebuilds_the_same_facts(db_engine: Engine) -> None:
    originals = []
    Loader(db_engine, on_batch=lambda r: originals.extend(r.new)).load(
        read_lines(LINES, source="feed.jsonl")
    )
    with Session(db_engine) as s:
        rows = messages_for(s, "CP-012")
        # the reply alone, without its CALL: the stored action still gives it its fact
        alone = rehydrate([rows[1]])
        full = rehydrate(rows)
    assert isinstance(alone[0].fact, BootReply) and alone[0].fact.interval == 300
    by_fp = {m.fingerprint: m for m in originals}
    assert [m.fingerprint for m in full] == [r.fingerprint for r in rows]
    for m in full:
        o = by_fp[m.fingerprint]
        assert (m.fact, m.action, m.occurred_at, m.ts, m.direction) == (
            o.fact,
            o.action,
            o.occurred_at,
            o.ts,
            o.direction,
        )
        assert m.violations == o.violations and m.ocpp_version == o.ocpp_version
    faulted = [m for m in full if m.is_fault_bearing]
    assert len(faulted) == 1 and isinstance(faulted[0].fact, StatusReport)
    assert faulted[0].fact.vendor_error_code == "F400"
    assert isinstance(full[-1].fact, TransactionUpdate) and full[-1].fact.transaction_id == "42"


def test_connector_states_by_charger_and_site(db_engine: Engine) -> None:
    _load(db_engine)
    sites = SiteMap([Site("Depot", chargers=["CP-012", "AB-7"])])
    with Session(db_engine) as s:
        mine = connector_states(s, "CP-012")
        assert [(p.connector_id, p.status, p.vendor_error_code) for p in mine] == [
            (1, "Faulted", "F400")
        ]
        assert [p.charger_id for p in connector_states(s, site="Depot", sites=sites)] == ["CP-012"]
        assert [p.charger_id for p in connector_states(s, site="CP-12", sites=sites)] == ["CP-12"]
        assert len(connector_states(s)) == 2
        assert connector_states(s, site="Nowhere", sites=sites) == []


def test_find_chargers_is_forgiving(db_engine: Engine) -> None:
    _load(db_engine)
    with Session(db_engine) as s:
        assert all_charger_ids(s) == ["AB-7", "CP-012", "CP-12"]
        assert find_chargers(s, "CP-012") == ["CP-012"]  # exact wins
        assert match_charger(s, "CP-012").unique == "CP-012"
        assert find_chargers(s, "ab7") == ["AB-7"]
        assert match_charger(s, "ab7").unique == "AB-7"
        both = match_charger(s, "cp12")  # CP-012 and CP-12 both fold to cp12
        assert both.unique is None and set(both.matches) == {"CP-012", "CP-12"}
        assert find_chargers(s, "cp-0012")[0] in {"CP-012", "CP-12"}
        near = match_charger(s, "CP-01")
        assert near.matches == [] and "CP-012" in near.near
        assert find_chargers(s, "zzzz") == []
