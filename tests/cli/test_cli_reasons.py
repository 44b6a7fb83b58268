"""`faultbot ingest` (text and --json) and `faultbot explain` (text and --json) count what
they dropped per typed reason (bot.ocpp.reasons), in words from templates/cli/_reasons.j2.
Ingest runs on SQLite and PostgreSQL; explain needs no database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text

from bot.cli.main import cli
from bot.ocpp.reasons import DropReason, RejectReason
from bot.store.db import make_engine
from bot.templating import terminal_env

TS = "2026-11-20T08:00:00Z"


def _line(charger: str, uid: str, action: str, payload: dict[str, Any],
          ocpp: str = "1.6") -> str:
    return json.dumps({"ts": TS, "charger": charger, "dir": "in", "ocpp": ocpp,
                       "frame": [2, uid, action, payload]})


LINES = [
    _line("CP-1", "f1", "StatusNotification",
          {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}),
    _line("CP-1", "n1", "StatusNotification", {"connectorId": 1, "errorCode": "OtherError"}),
    _line("CP-2", "n2", "StatusNotification", {"connectorId": 2, "errorCode": "OtherError"}),
    _line("CP-1", "b1", "BootNotification", {"chargePointVendor": "Acme"}),
    "{not json",
    _line("CP-1", "p1", "StatusNotification",
          {"connectorId": -1, "errorCode": "OtherError", "status": "Faulted"}),
    _line("CP-EVIL", "e1", "Heartbeat", {}),
]
REJECTED = "  reasons:     1 not JSON, 1 port number that cannot exist, 1 refused by the database"
NO_FACT = ("  no fact:     3 frames kept without a fact (see `faultbot log`): "
           "2 status report without a status, 1 boot report without vendor and model")


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "reasons.jsonl"
    path.write_text("\n".join(LINES) + "\n")
    return path


@contextlib.contextmanager
def _refusing(db_url: str, charger: str) -> Iterator[None]:
    """Make the database itself refuse one charger's rows (a constraint faultbot does not
    know about): the store's own reason, `unstorable`. Undone after, since the
    PostgreSQL database outlives the test."""
    CliRunner().invoke(cli, ["db", "upgrade", "--database-url", db_url])
    engine = make_engine(db_url)
    pg = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            if pg:
                conn.execute(text("ALTER TABLE messages ADD CONSTRAINT refuse_evil "
                                  f"CHECK (charger_id <> '{charger}')"))
            else:
                conn.execute(text(
                    "CREATE TRIGGER refuse_evil BEFORE INSERT ON messages "
                    f"WHEN NEW.charger_id = '{charger}' BEGIN SELECT RAISE(ABORT, 'no'); END"))
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE messages DROP CONSTRAINT IF EXISTS refuse_evil"
                              if pg else "DROP TRIGGER IF EXISTS refuse_evil"))
        engine.dispose()


def _ingest(db_url: str, path: Path, *extra: str) -> Any:
    result = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url, *extra])
    assert result.exit_code == 1, result.output
    return result


def test_ingest_counts_rejections_and_drops_per_reason(tmp_path: Path, db_url: str) -> None:
    path = _write(tmp_path)
    with _refusing(db_url, "CP-EVIL"):
        lines = _ingest(db_url, path).stdout.splitlines()
    assert REJECTED in lines
    assert NO_FACT in lines
    # the new lines come after the existing ones, which keep their place and words
    assert lines.index(REJECTED) > lines.index("  rejected:    3 lines could not be read:")
    assert lines.index(NO_FACT) == lines.index(REJECTED) + 1


def test_ingest_json_counts_per_reason(tmp_path: Path, db_url: str) -> None:
    path = _write(tmp_path)
    with _refusing(db_url, "CP-EVIL"):
        summary = json.loads(_ingest(db_url, path, "--json").stdout)
    assert summary["rejected_by_reason"] == {"not_json": 1, "unusable_port": 1,
                                             "unstorable": 1}
    assert summary["no_fact_by_reason"] == {"no_status": 2, "no_identity": 1}
    assert [e["kind"] for e in summary["rejected_shown"]] == [
        "not_json", "unusable_port", "unstorable"]
    with _refusing(db_url, "CP-EVIL"):
        again = json.loads(_ingest(db_url, path, "--json").stdout)
    assert again["stored"] == 0  # the same counts for the same file, stored or not
    assert again["no_fact_by_reason"] == summary["no_fact_by_reason"]


def test_a_clean_ingest_prints_no_reason_lines(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(LINES[0] + "\n")
    result = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rejected_by_reason"] == summary["no_fact_by_reason"] == {}
    text_out = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url]).stdout
    assert "reasons:" not in text_out and "no fact:" not in text_out


EXPLAIN_TAIL = [
    "faults: 2 fault reports: 1 diagnosed, 1 rejected",
    "rejected: 2 lines: 1 not JSON, 1 port number that cannot exist",
    "no fact: 3 frames kept without a fact: "
    "2 status report without a status, 1 boot report without vendor and model",
]


def test_explain_counts_per_reason_in_text_and_json_mode(tmp_path: Path) -> None:
    path = _write(tmp_path)
    for mode in ([], ["--json"]):
        result = CliRunner().invoke(cli, ["explain", *mode, str(path)])
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-3:] == EXPLAIN_TAIL, result.stderr
    diagnoses = CliRunner().invoke(cli, ["explain", "--json", str(path)]).stdout.splitlines()
    assert [json.loads(d)["charger"] for d in diagnoses] == ["CP-1"]


def test_every_reason_has_words() -> None:
    words = terminal_env("cli").get_template("_reasons.j2").module.words  # type: ignore[attr-defined]  # a template's exported set
    assert set(words) == {r.value for r in [*RejectReason, *DropReason]}
    assert len(set(words.values())) == len(words)  # no two reasons read the same
