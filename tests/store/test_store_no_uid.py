"""The log without a unique_id column and with no violations as NULL (migration
store_0007): a populated log converts down (unique_id read back out of each frame, the
empty lists restored) and up again without losing a frame or changing an id, on SQLite
and PostgreSQL, and the readers (`faultbot log`, `log --json`, `why`) print the same
bytes before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from log_migrations import at, fresh_engine, whole_log
from sqlalchemy import Engine, inspect, text

from bot.cli.main import cli
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import generate_fleet_lines
from bot.store.db import alembic_config
from bot.store.loader import load
from bot.store.migrations.versions.store_0007_leaner_log import unique_id_of

_ODD = [  # uids that are not plain ASCII, a NUL, a long one (a violation), a bad status
    {"ts": "2026-11-19T01:00:00Z", "charger": "CP-U", "dir": "in", "ocpp": "1.6",
     "frame": [2, "ü-1 ✓", "DataTransfer", {"vendorId": "Ünï", "data": "x"}]},
    {"ts": "2026-11-19T01:00:01Z", "charger": "CP-U", "dir": "in", "ocpp": "1.6",
     "frame": [2, "n\u0000l", "Heartbeat", {}]},
    {"ts": "2026-11-19T01:00:02Z", "charger": "CP-U", "dir": "in", "ocpp": "1.6",
     "frame": [2, "L" * 40, "Heartbeat", {}]},
    {"ts": "2026-11-19T01:00:03Z", "charger": "CP-U", "dir": "in", "ocpp": "1.6",
     "frame": [2, "s-1", "StatusNotification", {"connectorId": 1, "errorCode": "Bogus",
                                                "status": "Faulted"}]},
]


def _lines() -> list[str]:
    return list(generate_fleet_lines(12, hours=2, seed=11))[:1200]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request, tmp_path, "nouid")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _readers(engine: Engine, chargers: list[str]) -> list[str]:
    runner, url, out = CliRunner(), _url(engine), []
    for charger in chargers:
        for args in (["log", charger, "--limit", "500"], ["log", charger, "--json"],
                     ["why", charger], ["why", charger, "--json"]):
            result = runner.invoke(cli, [*args, "--database-url", url], env={})
            assert result.exit_code == 0, result.output
            out.append(result.output)
    return out


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("messages")}


def _empty_lists(engine: Engine) -> tuple[int, int]:
    """Rows whose violations are NULL, and rows whose violations are the text "[]"."""
    as_text = "violations" if engine.dialect.name == "sqlite" else "violations::text"
    with engine.connect() as conn:
        nulls = conn.execute(text(
            "SELECT count(*) FROM messages WHERE violations IS NULL")).scalar()
        empty = conn.execute(text(
            f"SELECT count(*) FROM messages WHERE {as_text} = '[]'")).scalar()
    return int(nulls or 0), int(empty or 0)


def test_a_populated_log_converts_and_back_without_losing_a_frame(fresh: Engine) -> None:
    lines, odd = _lines(), [json.dumps(o) for o in _ODD]
    pipeline = Pipeline(fresh)
    result = pipeline.process(read_lines(lines, source="nouid-test"))
    result_odd = pipeline.process(read_lines(odd, source="/var/log/ü.log"))
    lines += odd
    rows = whole_log(fresh)
    assert len(rows) == len(lines) and not result.errors and not result_odd.errors
    assert {r[at("source_id")] for r in rows} == {"nouid-test", "/var/log/ü.log"}
    assert "unique_id" not in _columns(fresh)
    with_violations = [r for r in rows if r[at("violations")]]
    assert 2 <= len(with_violations) < len(rows) / 10
    assert _empty_lists(fresh) == (len(rows) - len(with_violations), 0)
    chargers = [*sorted({r[at("charger_id")] for r in rows} - {"CP-U"})[:3], "CP-U"]
    shown = _readers(fresh, chargers)
    assert any("Faulted" in s for s in shown)

    cfg = alembic_config(fresh)
    command.downgrade(cfg, "store_0006")
    assert "log_sources" not in inspect(fresh).get_table_names()
    with fresh.connect() as conn:
        uids = dict(conn.execute(text("SELECT id, unique_id FROM messages")).all())
        sources = dict(conn.execute(text("SELECT id, source FROM messages")).all())
    assert uids == {r[at("id")]: json.loads(r[at("raw")])[1].replace("\x00", "\ufffd")
                    for r in rows}
    assert uids[rows[-4][at("id")]] == "ü-1 ✓"
    assert sources == {r[at("id")]: r[at("source_id")] for r in rows}
    assert _empty_lists(fresh) == (0, len(rows) - len(with_violations))

    command.upgrade(cfg, "heads")
    assert "unique_id" not in _columns(fresh)
    assert whole_log(fresh) == rows  # every frame, every column, every id
    assert _readers(fresh, chargers) == shown
    assert _empty_lists(fresh) == (len(rows) - len(with_violations), 0)
    # the same frames again are recognised as stored; a new one is stored without them
    assert load(fresh, read_lines(lines, source="nouid-test")).stored == 0
    more = [lines[-3].replace('"CP-U"', '"CP-U2"')]
    assert load(fresh, read_lines(more, source="/var/log/ü.log")).stored == 1
    after = whole_log(fresh)
    assert after[: len(rows)] == rows and after[-1][at("source_id")] == "/var/log/ü.log"
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_sources")).scalar() == 2


def test_the_unique_id_is_read_back_as_the_store_wrote_it() -> None:
    from bot.ocpp.cleaning import storable
    from bot.store.compact import pack_raw

    for uid in ["b0", "ü-1 ✓", "n\x00l", "x\ud800y"]:
        raw = json.dumps([2, uid, "Heartbeat", {}])  # ASCII: non-ASCII as JSON escapes
        assert unique_id_of(pack_raw(raw)) == storable(uid)
        assert unique_id_of(raw) == storable(uid)
