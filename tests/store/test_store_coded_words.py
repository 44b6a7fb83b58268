"""The log's direction, action and OCPP version as short codes (bot.store.compact.Word,
migration store_0005): words come back as they went in, known ones are stored in one
byte, and a populated log of the store_0004 layout converts (and back) without losing a
frame or changing an id, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from log_migrations import at, fresh_engine, whole_log
from sqlalchemy import Engine, func, select, text

from bot.ocpp.readers import read_lines
from bot.sample.fleet import generate_fleet_lines
from bot.store.compact import WORD_CODES, word_from_db, word_to_db
from bot.store.db import alembic_config
from bot.store.loader import load
from bot.store.models import MessageRow


@pytest.mark.parametrize("word", [*WORD_CODES, "", "VendorSpecificAction", "Ünï ✓",
                                  "\x80", "in ", "1.6.1"])
def test_words_come_back_as_they_went_in(word: str) -> None:
    assert word_from_db(word_to_db(word)) == word


def test_known_words_take_one_or_two_bytes() -> None:
    assert len(word_to_db("StatusNotification")) == 1 and len(word_to_db("in")) == 1
    assert max(len(c) for c in WORD_CODES.values()) == 2
    assert word_to_db("VendorSpecificAction") == b"VendorSpecificAction"


def _lines() -> list[str]:
    lines = list(generate_fleet_lines(20, hours=2, seed=7))[:1500]
    odd = [  # actions outside the vocabulary, a two-byte code (2.0.1)
        {"ts": "2026-11-19T01:00:00Z", "charger": "CP-V", "dir": "in", "ocpp": "1.6",
         "frame": [2, "v1", "VendorThing", {}]},
        {"ts": "2026-11-19T01:00:01Z", "charger": "CP-V", "dir": "out", "ocpp": "1.6",
         "frame": [2, "v2", "OtherVendorThing", {}]},
        {"ts": "2026-11-19T01:00:02Z", "charger": "CP-2", "dir": "in", "ocpp": "2.0.1",
         "frame": [2, "v3", "SetMonitoringBase", {}]},
    ]
    return lines + [json.dumps(o) for o in odd]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request, tmp_path, "words")


def _stored(engine: Engine) -> set[tuple[str, ...]]:
    typeof = "typeof" if engine.dialect.name == "sqlite" else "pg_typeof"
    with engine.connect() as conn:
        return {tuple(str(x) for x in r) for r in conn.execute(text(
            f"SELECT DISTINCT {typeof}(direction), {typeof}(ocpp_version) FROM messages"))}


def _heartbeat_bytes(engine: Engine) -> int:
    size = "length" if engine.dialect.name == "sqlite" else "octet_length"
    with engine.connect() as conn:
        return int(conn.execute(text(
            f"SELECT max({size}(action)) FROM messages WHERE message_type = 2 "
            "AND charger_id <> 'CP-V'")).scalar() or 0)


def _counts(engine: Engine) -> dict[str | None, int]:
    with engine.connect() as conn:
        return {a: n for a, n in conn.execute(
            select(MessageRow.action, func.count()).where(
                MessageRow.action.in_(["Heartbeat", "VendorThing", "SetMonitoringBase"]),
                MessageRow.direction == "in").group_by(MessageRow.action))}


def test_a_populated_log_converts_and_back_without_losing_a_frame(fresh: Engine) -> None:
    lines = _lines()
    assert load(fresh, read_lines(lines, source="words-test"), batch_size=400).stored == len(lines)
    rows = whole_log(fresh)
    sqlite = fresh.dialect.name == "sqlite"
    new_form = {("blob", "blob")} if sqlite else {("bytea", "bytea")}
    assert _stored(fresh) == new_form
    counts = _counts(fresh)
    assert counts["VendorThing"] == 1 and counts["SetMonitoringBase"] == 1
    assert counts["Heartbeat"] > 10
    assert {r[at("direction")] for r in rows} == {"in", "out"}
    assert {r[at("ocpp_version")] for r in rows} == {"1.6", "2.0.1"}

    cfg = alembic_config(fresh)
    command.downgrade(cfg, "store_0004")
    assert _stored(fresh) == ({("text", "text")} if sqlite else {
        ("character varying", "character varying")})
    with fresh.connect() as conn:
        words = {tuple(r) for r in conn.execute(text(
            "SELECT direction, action, ocpp_version FROM messages WHERE charger_id = 'CP-V'"))}
    assert words == {("in", "VendorThing", "1.6"), ("out", "OtherVendorThing", "1.6")}

    command.upgrade(cfg, "heads")
    assert whole_log(fresh) == rows  # every frame, every column, every id
    assert _stored(fresh) == new_form
    assert _counts(fresh) == counts
    assert _heartbeat_bytes(fresh) <= 2  # a known action is a code, not its name
    # the same frames again are recognised as stored
    assert load(fresh, read_lines(lines, source="words-test")).stored == 0
