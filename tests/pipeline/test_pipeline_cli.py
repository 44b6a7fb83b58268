"""`faultbot ingest` runs the whole pipeline, so `faultbot why` can answer right after."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from test_pipeline_flow import boot, heartbeat, status  # same folder (rootdir import mode)

from bot.cli.main import cli


def test_ingest_then_why(tmp_path: Path, db_url: str) -> None:
    log = tmp_path / "feed.jsonl"
    lines = [
        boot(0, "CP-012"),
        status(0.1, "Available", "CP-012"),
        status(5, "Faulted", "CP-012", error="OtherError", vendorErrorCode="F400",
               info="EMERGENCY_STOP_BUTTON_1"),
        heartbeat(6, "CP-012"),
        "this line is not JSON",
    ]
    log.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    env = {"DATABASE_URL": db_url}

    ingested = runner.invoke(cli, ["ingest", str(log)], env=env)
    assert ingested.exit_code == 1, ingested.output  # one line rejected
    assert "1 incident opened" in ingested.output
    assert "feed.jsonl:5" in ingested.output

    answer = runner.invoke(cli, ["why", "cp12", "--now", "2026-11-20T08:07Z"], env=env)
    assert answer.exit_code == 0, answer.output
    assert "CP-012" in answer.output
    assert "emergency" in answer.output.lower()


def test_ingest_batch_size_changes_nothing(tmp_path: Path) -> None:
    """Issue 9: `--batch-size 1000/5000/20000` on the sample print the same triage line,
    and `faultbot digest --format json` afterwards is byte-identical."""
    from bot.sample.generate import write_sample

    paths = write_sample(tmp_path)
    runner = CliRunner()
    triage_lines, digests = set(), set()
    for batch in (1000, 5000, 20000):
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / f'b{batch}.db'}",
               "FAULTBOT_SITES": str(paths.sites)}
        out = runner.invoke(cli, ["ingest", "--batch-size", str(batch), str(paths.feed)],
                            env=env)
        assert out.exit_code == 1, out.output  # the sample's six unreadable lines
        (line,) = [ln for ln in out.output.splitlines() if ln.strip().startswith("triage:")]
        triage_lines.add(line)
        digest = runner.invoke(cli, ["digest", "--date", "2026-11-20", "--format", "json"],
                               env=env)
        assert digest.exit_code == 0, digest.output
        digests.add(digest.output)
    assert len(triage_lines) == 1 and "61 incidents opened" in triage_lines.pop()
    assert len(digests) == 1
