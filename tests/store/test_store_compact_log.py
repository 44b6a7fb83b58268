"""The compact message log (bot.store.compact, migration store_0004): values come back
exactly as they went in, the stored form is the compact one, and a populated database
of the previous layout converts (and back) without losing a frame or changing an id,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from log_migrations import at, fresh_engine, whole_log
from sqlalchemy import Engine, text

from bot.ocpp.readers import read_lines
from bot.sample.fleet import generate_fleet_lines
from bot.store.compact import (
    fp_from_db,
    fp_to_db,
    from_micros,
    pack_raw,
    to_micros,
    unpack_raw,
)
from bot.store.db import alembic_config
from bot.store.loader import load


@pytest.mark.parametrize("fp", ["0123456789abcdef0123456789abcdef", "fp-1", "x" * 15,
                                "y" * 16, "ABCDEF0123456789ABCDEF0123456789", "é" * 7])
def test_fingerprints_come_back_as_they_went_in(fp: str) -> None:
    assert fp_from_db(fp_to_db(fp)) == fp


def test_a_hash_fingerprint_is_its_16_bytes() -> None:
    fp = "ff" + "00" * 15  # starts with the marker byte: still a hash
    assert fp_to_db(fp) == bytes.fromhex(fp) and fp_from_db(bytes.fromhex(fp)) == fp


@pytest.mark.parametrize("raw", [
    '[2,"h1","Heartbeat",{}]', '[3,"x",{}]', "", " [2, \"a\", \"Heartbeat\", {}] ",
    '[2,"1","DataTransfer",{"vendorId":"Ünïcode ✓ 中文","data":"' + "x" * 500 + '"}]',
    '[2,"c2-1m1","MeterValues",{"connectorId":2,"transactionId":2000001,"meterValue":[{'
    '"timestamp":"2026-11-19T00:03:50.633Z","sampledValue":[{"value":"4464120","measurand":'
    '"Energy.Active.Import.Register","unit":"Wh"}]}]}]',
])
def test_frames_come_back_byte_for_byte(raw: str) -> None:
    packed = pack_raw(raw)
    assert unpack_raw(packed) == raw
    assert len(packed) <= len(raw.encode())  # never larger than the text


def test_bulky_frames_are_stored_compressed() -> None:
    frame = ('[2,"c2-1m1","MeterValues",{"connectorId":2,"transactionId":2000001,'
             '"meterValue":[{"timestamp":"2026-11-19T00:03:50.633Z","sampledValue":[{"value":'
             '"4464120","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]')
    packed = pack_raw(frame)
    assert packed[:1] == b"\xff" and len(packed) < len(frame) / 2


def test_the_shared_compressor_is_copied_not_used_up() -> None:
    """pack_raw copies one prepared compressor per frame: a frame far longer than its
    8 KB window comes back whole, and packing never changes what the next frame gets."""
    import random

    rng = random.Random(7)
    words = ["Charging", "Faulted", "Available", "Wh", "meterValue", "connectorId"]
    big = '[2,"b","DataTransfer",{"vendorId":"v","data":"' + " ".join(
        f"{rng.choice(words)}{rng.randrange(10**6)}" for _ in range(20_000)
    ) + '"}]'
    small = '[2,"h1","Heartbeat",{}]'
    first = pack_raw(small)
    packed = pack_raw(big)
    assert packed[:1] == b"\xff" and unpack_raw(packed) == big
    assert pack_raw(small) == first and pack_raw(big) == packed


@pytest.mark.parametrize("when", [
    datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1))),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
])
def test_times_round_trip_to_the_microsecond(when: datetime) -> None:
    back = from_micros(to_micros(when))
    assert back == when and back.utcoffset() == timedelta(0)


# --- the migration, with data ---------------------------------------------------------

def _lines() -> list[str]:
    lines = list(generate_fleet_lines(20, hours=2, seed=5))[:1500]
    odd = [  # non-ASCII text, a frame with spaces, a bulky one
        {"ts": "2026-11-19T01:00:00Z", "charger": "CP-ÜNI", "dir": "in", "ocpp": "1.6",
         "frame": [2, "u1", "DataTransfer", {"vendorId": "Ünï ✓", "data": "z" * 400}]},
    ]
    return lines + [json.dumps(o) for o in odd] + [
        '{"ts": "2026-11-19T01:00:01Z", "charger": "CP-SP", "dir": "in", "ocpp": "1.6", '
        '"frame": [2, "s1", "Heartbeat", {}]}']


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request, tmp_path, "compact")


def _stored_types(engine: Engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = ("SELECT DISTINCT typeof(fingerprint), typeof(ts), "
                   "typeof(coalesce(occurred_at, ts)), typeof(raw) FROM messages")
        else:
            sql = ("SELECT DISTINCT pg_typeof(fingerprint)::text, pg_typeof(ts)::text, "
                   "pg_typeof(coalesce(occurred_at, ts))::text, pg_typeof(raw)::text FROM messages")
        return {tuple(r) for r in conn.execute(text(sql))}


def test_a_populated_log_converts_and_back_without_losing_a_frame(fresh: Engine) -> None:
    lines = _lines()
    stored = load(fresh, read_lines(lines, source="compact-test"), batch_size=400).stored
    assert stored == len(lines)
    rows = whole_log(fresh)
    assert len(rows) == len(lines)
    sqlite = fresh.dialect.name == "sqlite"
    new_form = {("blob", "integer", "integer", "blob")} if sqlite else {
        ("bytea", "timestamp with time zone", "timestamp with time zone", "bytea")}
    assert _stored_types(fresh) == new_form

    cfg = alembic_config(fresh)
    command.downgrade(cfg, "store_0003")
    old_form = {("text", "text", "text", "text")} if sqlite else {
        ("character varying", "timestamp with time zone", "timestamp with time zone", "text")}
    assert _stored_types(fresh) == old_form
    with fresh.connect() as conn:
        first = conn.execute(text(
            "SELECT fingerprint, ts, raw FROM messages ORDER BY id LIMIT 1")).one()
    assert first[0] == rows[0][at("fingerprint")] and first[2] == rows[0][at("raw")]  # hex, text
    if sqlite:  # SQLAlchemy's own DateTime text, as store_0003 wrote it
        assert first[1] == rows[0][at("ts")].isoformat(" ", "microseconds")[:26]

    command.upgrade(cfg, "heads")
    assert whole_log(fresh) == rows  # every frame, every column, every id
    # SQLite rewrites the frames compressed; PostgreSQL keeps old frames as UTF-8 bytes
    assert _stored_types(fresh) == new_form
    more = [line.replace('"CP-SP"', '"CP-SP2"') for line in lines[-1:]]
    assert load(fresh, read_lines(more, source="compact-test")).stored == 1
    after = whole_log(fresh)
    assert after[: len(rows)] == rows and after[-1][0] > rows[-1][0]
    # the same frames again are recognised as stored (the fingerprint key still works)
    assert load(fresh, read_lines(lines, source="compact-test")).stored == 0


def test_every_log_column_type_can_be_cached() -> None:
    """SQLAlchemy reads `cache_ok` from each TypeDecorator class itself; one left unset
    makes every statement on the log compile afresh (and warns)."""
    from sqlalchemy.types import TypeDecorator

    from bot.store.models import MessageRow

    types = [c.type for c in MessageRow.__table__.columns]
    types += [v for t in types for v in getattr(t, "_variant_mapping", {}).values()]
    decorators = {type(t) for t in types if isinstance(t, TypeDecorator)}
    assert {"Fingerprint", "RawFrame", "Word", "_Micros"} <= {k.__name__ for k in decorators}
    for kind in decorators:
        assert kind.__dict__.get("cache_ok") is True, kind.__name__


def test_the_stored_format_is_pinned() -> None:
    """The preset dictionary and the word vocabulary are part of what is on disk: an edit
    to either would make every stored frame read back wrong while round-trip tests still
    pass. The dictionary never changes (a new one gets its own marker byte); the
    vocabulary only grows at its end. Bytes written by store_0004/0005 must still read."""
    import hashlib

    from bot.store import compact

    assert hashlib.sha256(compact._ZDICT_V1).hexdigest() == (
        "308534e2b6de693923ec2cf1c9423a1316417acec603a3c4cfac03d3a39640c4")
    first_80 = "\n".join(compact._WORDS[:80]).encode()
    assert hashlib.sha256(first_80).hexdigest() == (
        "3de307fdc85466fe4af82bc4523155a137f08487d93e4fd67be069098486e8f4")
    written = bytes.fromhex("ff03b920c900e44192a3c0bf2423b5082316e0018025ac5d4d8c80560200")
    assert compact.unpack_raw(written) == (
        '[2,"b0","StatusNotification",{"connectorId":1,"errorCode":"OtherError",'
        '"status":"Faulted","vendorErrorCode":"E42"}]')
    assert compact.word_from_db(b"\x86") == "StatusNotification"
    assert compact.word_from_db(b"\x80") == "in"
    # store_0007: no violations is NULL (and a "[]" written before reads the same)
    from sqlalchemy.dialects import sqlite

    none = compact.Violations()
    assert none.process_bind_param([], sqlite.dialect()) is None
    assert none.process_result_value(None, sqlite.dialect()) == []
    assert none.process_result_value([], sqlite.dialect()) == []
