"""One damaged stored value (bot.store.compact) never stops a reader nor hides a fault.

A raw frame whose DEFLATE stream is broken, one that is not UTF-8, or a word code past
the vocabulary used to raise on read, so one such row made `faultbot log`, `findings`,
`report` and the fold's replay fail for every charger. Each test damages rows with plain
SQL in a real database (SQLite and PostgreSQL) and runs the readers: the damaged row
reads as an `Unreadable` that says why, every other row as before."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.fold.models import FoldCheckpoint
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import generate_fleet_lines
from bot.store.compact import (
    Unreadable,
    UnreadableError,
    fp_from_db,
    pack_raw,
    strict,
    unpack_raw,
    word_from_db,
)
from bot.store.db import make_engine
from bot.store.models import MessageRow

BAD_DEFLATE = b"\xff\x01\x02\x03\x04\x05"
NOT_UTF8 = b"\xc3\x28 not text"
UNKNOWN_CODE = b"\xc0\xff"  # two-byte code far past the vocabulary's end


# --- the decoders ---------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "codec", "error"), [
    (BAD_DEFLATE, "raw", "invalid stored block lengths"),
    (pack_raw('[2,"a","StatusNotification",{"connectorId":1,"status":"Faulted"}]')[:-4],
     "raw", "ends early"),  # cut off: zlib inflates a prefix without raising
    (NOT_UTF8, "raw", "utf-8"),
])
def test_a_damaged_frame_reads_as_unreadable_with_the_reason(
        stored: bytes, codec: str, error: str) -> None:
    value = unpack_raw(stored)
    assert isinstance(value, Unreadable) and value == "\ufffd"
    assert value.codec == codec and error in value.error and value.stored == stored
    assert error in value.reason and stored[:4].hex() in value.reason
    with pytest.raises(ValueError):
        json.loads(value)  # no reader can mistake it for a frame


def test_an_unknown_word_code_and_a_bad_fingerprint_read_as_unreadable() -> None:
    word = word_from_db(UNKNOWN_CODE)
    assert isinstance(word, Unreadable) and word.codec == "word" and "0xc0ff" in word.error
    assert isinstance(word_from_db(b"\xc1"), Unreadable)  # no code, not UTF-8 either
    fp = fp_from_db(b"\xff" + NOT_UTF8)
    assert isinstance(fp, Unreadable) and fp.codec == "fingerprint"
    assert word_from_db(b"\x86") == "StatusNotification" and word_from_db(b"in") == "in"


def test_strict_refuses_an_unreadable_value() -> None:
    assert strict("x") == "x"
    with pytest.raises(UnreadableError, match="0xc0ff"):
        strict(word_from_db(UNKNOWN_CODE))


# --- in a real database ---------------------------------------------------------------


def _lines() -> list[str]:
    lines = list(generate_fleet_lines(6, hours=6, seed=11))
    first = json.loads(lines[0])
    fault = {"ts": first["ts"], "charger": first["charger"], "dir": "in", "ocpp": "1.6",
             "frame": [2, "f1", "StatusNotification", {
                 "connectorId": 1, "errorCode": "OtherError", "status": "Faulted",
                 "vendorErrorCode": "F400", "info": "EMERGENCY_STOP_BUTTON_1"}]}
    return [lines[0], json.dumps(fault), *lines[1:]]


def _ingest(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "fleet.jsonl"
    path.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url])
    assert result.exit_code in (0, 1), result.output


def _pick(engine: Engine) -> dict[str, tuple[int, str]]:
    """Rows to damage: a fault report, a BootNotification, a Heartbeat (id, charger)."""
    with Session(engine) as s:
        def first(*where: Any) -> tuple[int, str]:
            row = s.execute(select(MessageRow.id, MessageRow.charger_id).where(*where)
                            .order_by(MessageRow.id).limit(1)).one()
            return row[0], row[1]
        fault = first(MessageRow.fault_bearing.is_(True))
        boot = first(MessageRow.action == "BootNotification", MessageRow.direction == "in")
        beat = first(MessageRow.action == "Heartbeat", MessageRow.charger_id == fault[1])
    return {"fault": fault, "boot": boot, "beat": beat}


def _damage(engine: Engine, picked: dict[str, tuple[int, str]]) -> None:
    with engine.begin() as conn:  # plain SQL: what a bad disk or a bad hand would leave
        conn.execute(text("UPDATE messages SET raw = :b WHERE id = :i"),
                     {"b": BAD_DEFLATE, "i": picked["fault"][0]})
        conn.execute(text("UPDATE messages SET raw = :b WHERE id = :i"),
                     {"b": NOT_UTF8, "i": picked["boot"][0]})
        conn.execute(text("UPDATE messages SET action = :b WHERE id = :i"),
                     {"b": UNKNOWN_CODE, "i": picked["beat"][0]})


def _read_all(engine: Engine) -> dict[int, tuple[Any, ...]]:
    with Session(engine) as s:
        rows = s.scalars(select(MessageRow).order_by(MessageRow.id))
        return {r.id: (r.fingerprint, r.direction, r.action, r.ocpp_version, r.raw)
                for r in rows}


def _run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--database-url", db_url])


def test_damaged_rows_read_as_unreadable_and_the_rest_as_before(
        db_url: str, tmp_path: Path) -> None:
    _ingest(db_url, tmp_path)
    engine = make_engine(db_url)
    try:
        before = _read_all(engine)
        picked = _pick(engine)
        _damage(engine, picked)
        after = _read_all(engine)
    finally:
        engine.dispose()
    damaged = {i for i, _ in picked.values()}
    assert after.keys() == before.keys()  # nothing dropped
    assert {i: v for i, v in after.items() if i not in damaged} == {
        i: v for i, v in before.items() if i not in damaged}
    raw_fault, raw_boot = after[picked["fault"][0]][4], after[picked["boot"][0]][4]
    assert isinstance(raw_fault, Unreadable) and raw_fault.stored == BAD_DEFLATE
    assert isinstance(raw_boot, Unreadable) and raw_boot.stored == NOT_UTF8
    action = after[picked["beat"][0]][2]
    assert isinstance(action, Unreadable) and action.stored == UNKNOWN_CODE
    # the damaged rows' other values are intact
    for i in damaged:
        assert after[i][0] == before[i][0] and after[i][1] == before[i][1]


def test_log_shows_each_damaged_row_in_its_place(db_url: str, tmp_path: Path) -> None:
    _ingest(db_url, tmp_path)
    engine = make_engine(db_url)
    try:
        picked = _pick(engine)
    finally:
        engine.dispose()
    charger = picked["fault"][1]
    clean = _run(db_url, "log", charger, "--limit", "100000")
    assert clean.exit_code == 0, clean.output
    engine = make_engine(db_url)
    try:
        _damage(engine, picked)
    finally:
        engine.dispose()
    result = _run(db_url, "log", charger, "--limit", "100000")
    assert result.exit_code == 0, result.output
    old, new = clean.stdout.splitlines(), result.stdout.splitlines()
    assert len(new) == len(old)  # one line each, none lost
    changed = [b for a, b in zip(old, new, strict=True) if a != b]
    ours = {i for i, c in picked.values() if c == charger}
    assert len(changed) == len(ours)  # the damaged rows; every other line as before
    assert all("is unreadable: " in line for line in changed)
    text_out = "\n".join(changed)
    assert f"stored message {picked['fault'][0]} is unreadable: its frame could not be " \
           "decoded (Error -3 while decompressing data" in text_out
    assert f"stored message {picked['beat'][0]} is unreadable: its direction, action or " \
           "OCPP version has an unknown code (no word has code 0xc0ff)" in text_out
    as_json = _run(db_url, "log", charger, "--limit", "100000", "--json")
    assert as_json.exit_code == 0, as_json.output
    objs = [json.loads(line) for line in as_json.stdout.splitlines()]
    bad = [o for o in objs if "unreadable" in o]
    assert {o["id"] for o in bad} == ours
    assert {BAD_DEFLATE.hex(), UNKNOWN_CODE.hex()} <= {o["unreadable"]["stored_hex"]
                                                       for o in bad}
    assert len(objs) == len(old) - 1  # the header line is not in --json


def test_reports_and_answers_run_over_a_damaged_log(db_url: str, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    _ingest(db_url, tmp_path)
    engine = make_engine(db_url)
    try:
        picked = _pick(engine)
        _damage(engine, picked)
    finally:
        engine.dispose()
    caplog.set_level(logging.WARNING)
    for args in (["findings"], ["report", "--week"], ["why", picked["fault"][1]],
                 ["status"], ["digest"]):
        result = _run(db_url, *args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    skipped = "\n".join(r.getMessage() for r in caplog.records)
    assert f"a frame of {picked['boot'][1]} skipped: unreadable raw" in skipped


def test_the_fold_skips_only_the_damaged_row_and_says_so(
        db_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    lines = _lines()
    Pipeline(db_engine).process(read_lines(lines, source="t"))
    picked = _pick(db_engine)
    _damage(db_engine, picked)
    with db_engine.begin() as conn:
        conn.execute(delete(FoldCheckpoint))  # replay the whole log
        total = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
    caplog.set_level(logging.WARNING)
    damaged = Pipeline(db_engine)
    # the raws of the fault and the boot are unreadable; the heartbeat's action is not
    # read by the fold (the frame names it), so that row folds as before
    assert damaged.restore() == total - 2
    said = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert any(f"message {picked['fault'][0]} skipped: unreadable raw" in m for m in said)
    assert any(f"message {picked['boot'][0]} skipped: unreadable raw" in m for m in said)
    state = damaged.triage.export_state()
    with db_engine.begin() as conn:  # the same log without those two rows folds the same
        conn.execute(delete(MessageRow).where(
            MessageRow.id.in_([picked["fault"][0], picked["boot"][0]])))
    without = Pipeline(db_engine)
    assert without.restore() == total - 2
    assert without.triage.export_state() == state
