"""`faultbot ingest` and `faultbot explain` on a hostile log (issue 10), both backends.

Before: one lone surrogate or connectorId 2**63 made `ingest` die with a traceback
(exit 1, "some lines rejected"), storing only the batches before it; Faulted reports
with a sloppy connectorId made `explain` print nothing and exit 0."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from poison_frames import CSI, SURROGATE, Frame, exact_cases, good_frame, status16, wrap
from sqlalchemy import func, select

from bot.cli.main import cli
from bot.store.db import make_engine
from bot.store.models import MessageRow


def write(tmp_path: Path, frames: list[Frame]) -> Path:
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(f.line() for f in frames) + "\n")
    return path


def test_ingest_lists_the_bad_lines_exits_1_and_stores_the_rest(
    tmp_path: Path, db_url: str
) -> None:
    frames = exact_cases("CP-X")
    path = write(tmp_path, frames)
    # small batches: the bad lines fall in different transactions
    result = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url,
                                      "--batch-size", "3"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    out = result.stdout
    for line, reason in [(4, "connectorId 2147483648 is out of range"),
                         (6, "connectorId 9223372036854775808 is out of range"),
                         (8, "connectorId 73786976294838206464 is out of range"),
                         (10, "connectorId -1 is negative")]:
        assert f"hostile.jsonl:{line}: fault report: {reason}" in out
    faults = sum(f.fault for f in frames)
    assert f"faults:      {faults} fault reports: {faults - 4} diagnosed, 4 rejected" in out
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(MessageRow))
    engine.dispose()
    assert stored == len(frames) - 4
    again = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", db_url])
    assert again.exit_code == 1
    assert f"{faults - 4} repeats of a frame already stored or read" in again.stdout


def test_ingest_of_a_store_that_is_down_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, [good_frame("CP-1", "g1")])
    url = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    result = CliRunner().invoke(cli, ["ingest", str(path), "--database-url", url])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.stderr.startswith("faultbot: ")


def test_explain_diagnoses_sloppy_fault_reports_and_says_what_became_of_each(
    tmp_path: Path,
) -> None:
    frames = exact_cases("CP-X")
    path = write(tmp_path, frames)
    result = CliRunner().invoke(cli, ["explain", "--json", str(path)])
    assert result.exit_code == 1
    diagnoses = [json.loads(line) for line in result.stdout.splitlines()]
    faults = sum(f.fault for f in frames)
    assert len(diagnoses) == faults - 4
    station = [d for d in diagnoses if d["connector"] == 0]
    problems = {e for d in station for e in d["evidence"] if e.startswith("port unknown")}
    for said in ("connectorId is null", "connectorId is missing",
                 "connectorId '1' is not an integer", "connectorId 1.5 is not an integer",
                 "connectorId True is not an integer"):
        assert any(said in p for p in problems), said
    assert "hostile.jsonl:10: rejected fault report: connectorId -1 is negative" in (
        result.stderr
    )
    assert f"faults: {faults} fault reports: {faults - 4} diagnosed, 4 rejected" in result.stderr
    ne16 = next(n for n, f in enumerate(frames, 1) if f.uid == "ne16")
    assert (f"hostile.jsonl:{ne16}: warning: labelled OCPP 1.6 but shaped like 2.0.1: "
            "read as 2.0.1") in result.stderr


def test_explain_json_never_writes_a_raw_c1_control(tmp_path: Path) -> None:
    text = f"{CSI}2J{SURROGATE}\u202e"
    frames = [Frame(wrap("CP-C", "c1", "StatusNotification",
                         status16(1, info=text, vendorErrorCode=text, vendorId=text), "1.6"),
                    True)]
    result = CliRunner().invoke(cli, ["explain", "--json", str(write(tmp_path, frames))])
    assert result.exit_code == 0, result.output
    assert CSI not in result.stdout and "\u202e" not in result.stdout
    assert json.loads(result.stdout)["charger"] == "CP-C"
