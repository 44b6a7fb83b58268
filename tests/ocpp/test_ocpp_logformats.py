"""Real log formats (tests/ocpp/fixtures/logs, see the README there): every line is a
frame, a known context line (connections, pings, log chatter) or an unreadable line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.ocpp.events import CONNECTION, LineError, Record
from bot.ocpp.logformats.context import ContextTally
from bot.ocpp.readers import read_file, read_lines
from bot.store.db import make_engine
from bot.store.models import MessageRow

LOGS = Path(__file__).parent / "fixtures" / "logs"


def _read(name: str, **kw: object) -> tuple[list[Record], list[LineError], ContextTally]:
    """(frame records, errors, context); connection events are checked in the tally."""
    tally = ContextTally()
    out = list(read_file(LOGS / name, context=tally, **kw))  # type: ignore[arg-type]
    frames = [r for r in out if isinstance(r, Record) and r.frame[0] != CONNECTION]
    events = [r for r in out if isinstance(r, Record) and r.frame[0] == CONNECTION]
    assert len(events) == tally.events
    return frames, [e for e in out if isinstance(e, LineError)], tally


def _events(name: str, **kw: object) -> list[tuple[int | None, str, object]]:
    """(line, event, details) of the connection event records read from a fixture."""
    out = read_file(LOGS / name, **kw)  # type: ignore[arg-type]
    return [(r.line, r.frame[2], r.frame[3]) for r in out
            if isinstance(r, Record) and r.frame[0] == CONNECTION]


def _frame_lines(name: str) -> int:
    """Frames in a fixture, counted independently of the readers: each frame start."""
    text = (LOGS / name).read_text(encoding="utf-8")
    return sum(text.count(start) for start in ('[2,"', '[3,"', '[4,"', '[2, "'))


def test_steve_log() -> None:
    records, errors, tally = _read("steve.log")
    assert errors == []
    assert len(records) == _frame_lines("steve.log") == 6
    assert {r.charger for r in records} == {"STV-01"}
    assert [r.direction for r in records] == ["in", "out"] * 3
    assert records[0].ts == datetime(2026, 11, 20, 10, 0, 0, 233000, tzinfo=UTC)
    assert dict(tally.counts) == {"connected": 2, "closed": 2, "ping": 2, "chatter": 3}
    assert [(c.charger, c.close_code) for c in tally.closes] == [
        ("STV-01", 1006), ("STV-01", 1001)]
    assert tally.closes[0].ts == datetime(2026, 11, 20, 10, 5, 31, 4000, tzinfo=UTC)
    assert _events("steve.log") == [(2, "connected", {}), (10, "closed", {"closeCode": 1006}),
                                    (11, "connected", {}), (15, "closed", {"closeCode": 1001})]


def test_home_assistant_log_joins_a_frame_over_several_lines() -> None:
    records, errors, tally = _read("home_assistant.log")
    assert errors == []
    assert len(records) == 4
    fault = records[2]
    assert fault.frame[2] == "StatusNotification"
    assert fault.frame[3]["errorCode"] == "GroundFailure"
    assert fault.line == 8  # the line the frame starts on
    assert fault.raw.startswith('[2, "c2"') and fault.raw.endswith("}]")
    assert dict(tally.counts) == {"connected": 2, "closed": 2, "ping": 2, "chatter": 2}
    assert [(c.charger, c.close_code) for c in tally.closes] == [("HA-01", 1006), ("HA-01", 1006)]
    assert [e[1:] for e in _events("home_assistant.log")] == [
        ("connected", {}), ("closed", {"closeCode": 1006}), ("connected", {}),
        ("closed", {"closeCode": 1006})]


def test_microocpp_serial_log() -> None:
    records, errors, tally = _read("microocpp_serial.log", charger="ESP-1")
    assert errors == []
    assert [(r.frame[0], r.frame[1], r.direction) for r in records] == [
        (2, "1000001", "in"), (3, "1000001", "out"),  # the [OCPP] prefix of late 2023
        (2, "1000002", "in"), (3, "1000002", "out"),  # two lines glued on one
        (2, "1000003", "in"), (3, "1000003", "out"),  # [operator()], day-first times
    ]
    assert records[4].ts == records[5].ts == datetime(2023, 10, 12, 14, 23, 10, tzinfo=UTC)
    assert dict(tally.counts) == {"connected": 1, "closed": 1, "ping": 1, "chatter": 2}
    # No charger id in the log: the connection events need --charger, and the first has
    # no time at all (nothing before it), so only the disconnect is an event.
    assert _events("microocpp_serial.log") == []
    assert _events("microocpp_serial.log", charger="ESP-1") == [(10, "closed", {})]


def test_timezone_applies_to_zone_less_log_times_only() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    records, _, tally = _read("home_assistant.log", timezone=berlin)
    assert records[0].ts == datetime(2026, 11, 20, 10, 0, 0, 120000, tzinfo=UTC)
    assert not any("time zone" in n for r in records for n in r.notes)
    assert tally.closes[0].ts == datetime(2026, 11, 20, 10, 4, 44, 870000, tzinfo=UTC)
    # A time that says its zone keeps it.
    line = '2026-11-20T08:00:00Z [2,"a","Heartbeat",{}]'
    [r] = list(read_lines([line], source="t", charger="C", timezone=berlin))
    assert isinstance(r, Record) and r.ts == datetime(2026, 11, 20, 8, tzinfo=UTC)


def test_pretty_printed_json_is_joined_and_a_truncated_frame_costs_only_itself() -> None:
    pretty = json.dumps([2, "p1", "Heartbeat", {}], indent=2).splitlines()
    truncated = '2026-11-20 10:00:00.000 INFO (MainThread) [ocpp] X: receive message [2,"t1",'
    lines = [*pretty, truncated, '[2,"b1","Heartbeat",{}]', "not a log line at all"]
    out = list(read_lines(lines, source="t", charger="C"))
    kinds = [(type(o).__name__, o.line) for o in out]
    assert kinds == [("Record", 1), ("LineError", len(pretty) + 1), ("Record", len(pretty) + 2),
                     ("LineError", len(pretty) + 3)]
    assert out[0].frame == [2, "p1", "Heartbeat", {}]  # type: ignore[union-attr]
    assert "not closed" in out[1].reason  # type: ignore[union-attr]
    # Still open at the end of the file: reported, not lost silently.
    [end] = list(read_lines(["{", '"ts": "2026-11-20T08:00:00Z",'], source="t"))
    assert isinstance(end, LineError) and end.line == 1 and "not closed" in end.reason


def test_unknown_text_is_still_unreadable_and_pong_is_not_a_frame() -> None:
    tally = ContextTally()
    out = list(read_lines(["[MO] Recv: WS pong", "hello world", "[MO] Recv: [3,\"x\""],
                          source="t", charger="C", context=tally))
    assert dict(tally.counts) == {"ping": 1}
    assert [type(o).__name__ for o in out] == ["LineError", "LineError"]


@pytest.mark.parametrize(
    ("name", "charger", "frames", "events", "context"),
    [("steve.log", None, 6, 4, 9), ("home_assistant.log", None, 4, 4, 8),
     ("microocpp_serial.log", "ESP-1", 6, 1, 5)],
)
def test_real_logs_ingest_cleanly(
    db_url: str, name: str, charger: str | None, frames: int, events: int, context: int
) -> None:
    args = ["ingest", str(LOGS / name), "--database-url", db_url]
    if charger:
        args += ["--charger", charger]
    result = CliRunner().invoke(cli, args, env={})
    assert result.exit_code == 0, result.output
    out = result.output
    word = "event" if events == 1 else "events"
    assert f"Read {frames} frames and {events} connection {word}" in out
    assert f"context:     {context} non-frame lines (not errors)" in out
    assert "1 fault report: 1 diagnosed, 0 rejected" in out
    assert "rejected:    none" in out
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            kinds = s.scalars(select(MessageRow.message_type)).all()
    finally:
        engine.dispose()
    assert (len(kinds) - kinds.count(CONNECTION), kinds.count(CONNECTION)) == (frames, events)
    # Read again: every frame and event is already in the log.
    again = CliRunner().invoke(cli, args, env={})
    assert again.exit_code == 0 and f"duplicates:  {frames + events} already" in again.output


def test_timezone_option_and_setting(db_url: str, tmp_path: Path) -> None:
    args = ["ingest", str(LOGS / "home_assistant.log"), "--database-url", db_url]
    bad = CliRunner().invoke(cli, [*args, "--timezone", "Mars/Olympus"], env={})
    assert bad.exit_code == 2 and "Mars/Olympus" in bad.output
    ok = CliRunner().invoke(cli, args, env={"FAULTBOT_LOG_TIMEZONE": "Europe/Berlin"})
    assert ok.exit_code == 0, ok.output
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            first = s.scalars(select(MessageRow.ts).where(MessageRow.message_type == 2)
                              .order_by(MessageRow.id)).first()
    finally:
        engine.dispose()
    assert first is not None
    assert first.replace(tzinfo=UTC) == datetime(2026, 11, 20, 10, 0, 0, 120000, tzinfo=UTC)


# --- CitrineOS OCPPMessages exported as CSV ---------------------------------------------

CITRINE = Path(__file__).parent / "fixtures" / "citrineos"


def test_citrineos_csv_export_with_header_reads_like_the_json_export() -> None:
    out = list(read_file(CITRINE / "ocpp_messages_header.csv"))
    assert all(isinstance(r, Record) for r in out), out
    records = [r for r in out if isinstance(r, Record)]
    assert [(r.charger, r.direction, r.ocpp, r.line) for r in records] == [
        ("CIT-9", "in", "1.6", 2), ("CIT-9", "out", "1.6", 3)]
    assert records[0].frame[3]["vendorErrorCode"] == "E42"
    assert records[0].ts == datetime(2026, 11, 20, 9, 0, 0, 120000, tzinfo=UTC)
    assert records[0].raw.startswith('[2, "f-1"')  # the frame text as exported
    assert records[1].action_hint == "StatusNotification"


def test_citrineos_csv_export_without_header() -> None:
    out = list(read_file(CITRINE / "ocpp_messages_no_header.csv"))
    records = [r for r in out if isinstance(r, Record)]
    assert len(records) == len(out) == 3
    assert [(r.frame[0], r.direction, r.ocpp) for r in records] == [
        (2, "in", "2.0.1"), (3, "out", "2.0.1"), (3, "out", "2.0.1")]
    # A reply whose call is not in the export is still named, from the action column.
    assert records[2].action_hint == "DataTransfer"


def test_citrineos_csv_export_ingests(db_url: str) -> None:
    args = ["ingest", str(CITRINE / "ocpp_messages_header.csv"),
            str(CITRINE / "ocpp_messages_no_header.csv"), "--database-url", db_url]
    result = CliRunner().invoke(cli, args, env={})
    assert result.exit_code == 0, result.output
    assert "Read 5 frames" in result.output
    assert "1 fault report: 1 diagnosed, 0 rejected" in result.output
