"""The CLI: lookup (text and JSON), kb lint/stats/teach/unknown/export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

import bot.kb.loader as loader
from bot.cli.main import cli
from bot.kb.runtime import RuntimeEntries, UnknownSighting


@pytest.fixture
def run(fixture_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAULTBOT_KNOWLEDGE_DIR", str(fixture_root))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr(loader, "_default", None)  # the per-process cache: reload from the env
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_lookup_text_and_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("lookup", "210", "--vendor", "Alfen BV", "--no-db")
    assert result.exit_code == 0
    assert "Meaning:" in result.output and "energy manager" in result.output
    assert "Who acts:   remote operator" in result.output
    assert "Confidence: 0.96 (exact)" in result.output
    result = run("lookup", "101", "--json", "--no-db")
    obj = json.loads(result.output)
    assert obj["known"] is True and obj["ambiguous"] == ["Alfen", "GE"]
    assert obj["confidence"] <= 0.4 and obj["query"]["code"] == "101"
    assert set(obj) >= {"category", "severity", "owner", "action", "escalation", "evidence"}
    unknown = run(
        "lookup", "4711", "--vendor", "Alfen", "--error-code", "OtherError", "--json", "--no-db"
    )
    assert unknown.exit_code == 1
    assert json.loads(unknown.output)["category"] == "unknown"
    assert run("lookup", "--no-db").exit_code == 2


def test_lookup_hostile_text_is_printed_safely(run) -> None:  # type: ignore[no-untyped-def]
    result = run("lookup", "\x1b[31m<!channel>" + "9" * 5000, "--vendor", "\u202eAlfen", "--no-db")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert max(len(line) for line in result.output.splitlines()) < 400


def test_lint_and_stats(run, tmp_path: Path, fixture_root: Path) -> None:  # type: ignore[no-untyped-def]
    ok = run("kb", "lint", "--root", str(fixture_root))
    assert ok.exit_code == 0 and "no problems" in ok.output
    bad = tmp_path / "bad"
    (bad / "vendors").mkdir(parents=True)
    (bad / "vendors" / "x.yaml").write_text("vendor:\n  name: X\n  code_format: roman\ncodes: []\n")
    result = run("kb", "lint", "--root", str(bad))
    assert result.exit_code == 1
    assert "bad/vendors/x.yaml:3: code_format 'roman' is not one of" in result.output
    stats = run("kb", "stats")
    assert stats.exit_code == 0
    assert "Alfen" in stats.output and "emergency_stop" in stats.output


def test_teach_unknown_export_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    taught = run(
        "kb",
        "teach",
        "--vendor",
        "Alfen BV",
        "--code",
        "555",
        "--category",
        "reader",
        "--owner",
        "vendor_service",
        "--severity",
        "degraded",
        "--meaning",
        "Reader dead.",
        "--action",
        "Replace the reader.",
        "--by",
        "alice",
    )
    assert taught.exit_code == 0, taught.output
    assert "Learned Alfen code 555" in taught.output
    looked = json.loads(run("lookup", "555", "--vendor", "Alfen", "--json").output)
    assert looked["category"] == "reader" and "taught by alice" in looked["entry"]["source"]
    bad = run(
        "kb",
        "teach",
        "--vendor",
        "A",
        "--code",
        " ",
        "--category",
        "reader",
        "--owner",
        "driver",
        "--severity",
        "info",
        "--meaning",
        "m",
        "--action",
        "a",
        "--by",
        "x",
    )
    assert bad.exit_code == 2 and "code is required" in bad.output

    from bot.store.db import make_engine

    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    seen = datetime(2026, 11, 20, tzinfo=UTC)
    RuntimeEntries(engine).record_unknown(
        [
            UnknownSighting("GE", None, None, "888", "hmm", seen, charger="CP-1"),
            UnknownSighting("GE", None, None, "888", "hmm", seen, charger="CP-2"),
            UnknownSighting("GE", None, None, "888", "hmm", seen, charger="CP-1"),
        ]
    )
    engine.dispose()
    unknown = run("kb", "unknown")
    assert "888" in unknown.output and "GE" in unknown.output
    assert "3 x on 2 chargers" in unknown.output
    rows = [json.loads(line) for line in run("kb", "unknown", "--json").output.splitlines()]
    assert rows[0]["code"] == "888" and rows[0]["count"] == 3 and rows[0]["chargers"] == 2

    out = tmp_path / "taught.yaml"
    exported = run("kb", "export", str(out))
    assert exported.exit_code == 0 and "Wrote 1 taught entry" in exported.output
    assert "code: '555'" in out.read_text()
