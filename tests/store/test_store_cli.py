"""`faultbot ingest / log / status` end to end with click's CliRunner, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.store.db import make_engine
from bot.store.models import Connector, MessageRow


def rec(ts: str, charger: str, direction: str, frame: list) -> str:
    return json.dumps({"ts": ts, "charger": charger, "dir": direction, "frame": frame})


GOOD = [
    rec(
        "2026-11-20T08:00:00Z",
        "CP-012",
        "in",
        [2, "b1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}],
    ),
    rec(
        "2026-11-20T08:00:01Z",
        "CP-012",
        "out",
        [3, "b1", {"status": "Accepted", "interval": 300, "currentTime": "2026-11-20T08:00:01Z"}],
    ),
    rec(
        "2026-11-20T08:01:00Z",
        "CP-012",
        "in",
        [
            2,
            "s1",
            "StatusNotification",
            {"connectorId": 1, "status": "Available", "errorCode": "NoError"},
        ],
    ),
    rec(
        "2026-11-20T08:02:00Z",
        "CP-012",
        "in",
        [
            2,
            "s2",
            "StatusNotification",
            {
                "connectorId": 1,
                "status": "Faulted",
                "errorCode": "OtherError",
                "vendorErrorCode": "F400",
                "info": "EMERGENCY_STOP_BUTTON_1",
            },
        ],
    ),
    rec("2026-11-20T08:03:00Z", "AB-7", "in", [2, "h1", "Heartbeat", {}]),
]
BAD = {
    2: "{not json",
    4: json.dumps(
        {"ts": "2026-11-20T08:00:00Z", "charger": "CP-1", "dir": "sideways", "frame": [2, "a"]}
    ),
    7: '[2, "x", "Heartbeat", {}]',  # bare frame and no --charger
}


def _mixed_file(tmp_path: Path) -> Path:
    lines: list[str] = []
    good = iter(GOOD)
    for number in range(1, len(GOOD) + len(BAD) + 1):
        lines.append(BAD[number] if number in BAD else next(good))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(db_url: str, *args: str, env: dict[str, str] | None = None) -> object:
    runner = CliRunner()
    return runner.invoke(cli, [*args, "--database-url", db_url], env=env or {})


def _stored(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return s.scalar(select(func.count()).select_from(MessageRow)) or 0
    finally:
        engine.dispose()


def test_ingest_mixed_file_reports_each_bad_line(db_url: str, tmp_path: Path) -> None:
    path = _mixed_file(tmp_path)
    result = _run(db_url, "ingest", str(path))
    assert result.exit_code == 1, result.output
    out = result.output
    for number in BAD:
        assert f"{path}:{number}:" in out
    assert "not JSON" in out and "sideways" in out and "--charger" in out
    assert "3 lines could not be read" in out
    assert "5 new" in out and "fault report" in out
    assert "OCPP version inferred (not declared) for 5 messages" in out
    assert _stored(db_url) == len(GOOD)

    again = _run(db_url, "ingest", str(path))  # idempotent: nothing new, same exit code
    assert again.exit_code == 1
    assert "0 new" in again.output and "5 already in the log" in again.output
    assert _stored(db_url) == len(GOOD)


def test_ingest_clean_file_exits_zero_and_bare_frames_take_charger(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bare.log"
    path.write_text('[2, "h1", "Heartbeat", {}]\n[2, "h2", "Heartbeat", {}]\n', encoding="utf-8")
    result = _run(db_url, "ingest", str(path), "--charger", "CP-777")
    assert result.exit_code == 0, result.output
    assert "rejected:    none" in result.output
    assert _stored(db_url) == 2


def test_ingest_lists_twenty_rejections_then_counts(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text("".join(f"junk {i}\n" for i in range(25)) + GOOD[0] + "\n", encoding="utf-8")
    result = _run(db_url, "ingest", str(path))
    assert result.exit_code == 1
    assert f"{path}:20:" in result.output and f"{path}:21:" not in result.output
    assert "... and 5 more" in result.output
    assert _stored(db_url) == 1


def test_ingest_unusable_input_exits_two(db_url: str, tmp_path: Path) -> None:
    missing = _run(db_url, "ingest", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    good = _mixed_file(tmp_path)
    bad_db = CliRunner().invoke(cli, ["ingest", str(good), "--database-url", "nosuchdb://x"])
    assert bad_db.exit_code == 2 and "cannot open the database" in bad_db.stderr
    bad_env = CliRunner().invoke(cli, ["ingest", str(good)], env={"DATABASE_URL": "faultbot.db"})
    assert bad_env.exit_code == 2 and "DATABASE_URL" in bad_env.stderr
    bad_charger = _run(db_url, "ingest", str(good), "--charger", "has space")
    assert bad_charger.exit_code == 2 and "--charger" in bad_charger.stderr


def test_log_is_forgiving_and_readable(db_url: str, tmp_path: Path) -> None:
    _run(db_url, "ingest", str(_mixed_file(tmp_path)))
    result = _run(db_url, "log", "cp12")
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    assert lines[0].startswith("CP-012: 4 messages")
    assert lines[0].endswith("OCPP 1.6 (inferred))")
    assert "→ BootNotification" in lines[1] and "Acme X1" in lines[1]
    assert "← BootNotification reply" in lines[2] and "300 s" in lines[2]
    assert "Faulted OtherError code F400" in lines[4]
    assert "EMERGENCY_STOP_BUTTON_1" in lines[4]
    limited = _run(db_url, "log", "CP-012", "--limit", "1")
    assert "F400" in limited.output and "Acme" not in limited.output
    window = _run(db_url, "log", "CP-012", "--since", "2026-11-20T08:01:30Z")
    assert window.output.count("StatusNotification") == 1
    empty = _run(db_url, "log", "CP-012", "--since", "1h")
    assert empty.exit_code == 0 and "The latest is from 2026-11-20 08:02:00" in empty.output
    bad_since = _run(db_url, "log", "CP-012", "--since", "last tuesday")
    assert bad_since.exit_code == 2


def test_unknown_charger_suggests_and_exits_two(db_url: str, tmp_path: Path) -> None:
    _run(db_url, "ingest", str(_mixed_file(tmp_path)))
    result = _run(db_url, "log", "CP-01")
    assert result.exit_code == 2
    assert "no charger 'CP-01'; did you mean CP-012?" in result.stderr
    nothing = _run(db_url, "status", "ZZZ-999")
    assert nothing.exit_code == 2 and "no charger 'ZZZ-999'" in nothing.stderr


def test_status_by_charger_and_site(db_url: str, tmp_path: Path) -> None:
    _run(db_url, "ingest", str(_mixed_file(tmp_path)))
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  Depot North:\n    chargers: [CP-012]\n", encoding="utf-8")
    env = {"FAULTBOT_SITES": str(sites)}
    one = _run(db_url, "status", "cp-012", env=env)
    assert one.exit_code == 0, one.stderr
    assert "CP-012 at Depot North (Acme X1)" in one.output
    assert "port 1: Faulted, OtherError, vendor code F400" in one.output
    assert "since 2026-11-20 08:02:00" in one.output
    site = _run(db_url, "status", "--site", "depot north", env=env)
    assert site.exit_code == 0 and "CP-012" in site.output and "AB-7" not in site.output
    everyone = _run(db_url, "status", env=env)
    assert "AB-7" in everyone.output and "no port status reported yet" in everyone.output
    no_site = _run(db_url, "status", "--site", "Depot South", env=env)
    assert no_site.exit_code == 2 and "no site 'Depot South'" in no_site.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("sites: [\n", encoding="utf-8")
    bad = _run(db_url, "status", env={"FAULTBOT_SITES": str(broken)})
    assert bad.exit_code == 2 and "broken.yaml" in bad.stderr


@pytest.mark.parametrize("hostile", ["\u202eevil", "bell\x07", "x" * 400])
def test_hostile_text_is_cleaned_on_output(db_url: str, tmp_path: Path, hostile: str) -> None:
    path = tmp_path / "h.jsonl"
    frame = [
        2,
        "s9",
        "StatusNotification",
        {"connectorId": 2, "status": "Faulted", "errorCode": "OtherError", "info": hostile},
    ]
    path.write_text(rec("2026-11-20T09:00:00Z", "CP-5", "in", frame) + "\n", encoding="utf-8")
    assert _run(db_url, "ingest", str(path)).exit_code == 0
    out = _run(db_url, "status", "CP-5").output + _run(db_url, "log", "CP-5").output
    assert "\u202e" not in out and "\x07" not in out and "x" * 100 not in out
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.get(Connector, ("CP-5", 2)) is not None  # stored, only the display is cleaned
    engine.dispose()


def test_ingest_loads_with_bulk_gc_settings_and_gives_them_back(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from bot.cli.ingest_cmds import _BULK_GC_THRESHOLDS
    from bot.pipeline import Pipeline

    seen: list[tuple[tuple[int, ...], int]] = []
    load = Pipeline.load

    def spying(self: Pipeline, *args: object, **kwargs: object) -> object:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return load(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Pipeline, "load", spying)
    before = gc.get_threshold()
    path = tmp_path / "good.jsonl"
    path.write_text("\n".join(GOOD) + "\n")
    result = _run(db_url, "ingest", str(path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert _stored(db_url) == len(GOOD)
    [(during, frozen)] = seen
    assert during == _BULK_GC_THRESHOLDS and frozen > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
