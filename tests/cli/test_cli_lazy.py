"""The instant CLI: lazy command loading, the cheap schema check, `db upgrade`."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli.main import COMMANDS, cli
from bot.store.db import alembic_config, make_engine, schema_problem, script_heads

HEAVY = ("aiohttp", "slack_sdk", "slack_bolt", "aio_pika", "apscheduler", "bot.feeds",
         "alembic", "jsonschema")  # jsonschema: only parsing frames needs it
# Runs the CLI in a fresh interpreter, then prints which heavy modules it imported.
PROBE = (
    "import sys\n"
    "from bot.cli.main import cli\n"
    "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    f"print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
    f"or m.startswith(('bot.feeds', 'bot.bench')) "
    f"or m.startswith('bot.cli.') and m != 'bot.cli.main'))"
)


def _probe(args: list[str], cwd: Path, db: str) -> tuple[str, list[str]]:
    extra = ["--database-url", db] if db else []
    done = subprocess.run([sys.executable, "-c", PROBE, *args, *extra],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("LOADED")][-1]
    return done.stdout, eval(line.removeprefix("LOADED "))  # a printed list of names


def test_table_matches_each_module() -> None:
    for name, (module, short) in COMMANDS.items():
        found = {c.name: c for c in importlib.import_module(module).commands}
        assert name in found, f"{name} is not in {module}.commands"
        first = " ".join((found[name].help or "").split("\n\n")[0].split())
        assert short == first
    registered = {m for m, _ in COMMANDS.values()}
    for module in registered:
        for command in importlib.import_module(module).commands:
            assert command.name in COMMANDS


def test_help_lists_every_command_like_an_eager_group() -> None:
    eager = click.Group("faultbot", help=cli.help)
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        eager.add_command(command)
    lazy_help = CliRunner().invoke(cli, ["--help"]).output
    eager_help = CliRunner().invoke(eager, ["--help"]).output
    assert lazy_help.split("Commands:")[1] == eager_help.split("Commands:")[1]


def test_help_and_version_import_no_command(tmp_path: Path) -> None:
    out, loaded = _probe(["--help"], tmp_path, "")
    assert "status" in out and "why" in out
    assert loaded == []
    out, loaded = _probe(["--version"], tmp_path, "")
    assert "version" in out and loaded == []


def test_read_only_commands_import_no_feed_or_slack(db_url: str, tmp_path: Path) -> None:
    for args in (["why", "CP-1"], ["status"], ["site", "x"], ["log", "CP-1"]):
        _, loaded = _probe(args, tmp_path, db_url)
        heavy = [m for m in loaded if not m.startswith("bot.cli.")]
        assert heavy == [], (args, heavy)


def test_why_and_status_read_without_the_orm(db_url: str, tmp_path: Path) -> None:
    """Core reads on bot.store.core_tables: importing sqlalchemy.orm and building every
    mapper was a third of `faultbot why`'s whole run. The first run after an upgrade
    builds the column-only tables from the models (and so imports the ORM) once."""
    probe = ("import os, sys\nfrom bot.cli.main import cli\n"
             "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print('ORM', 'sqlalchemy.orm' in sys.modules)")
    env = {**os.environ, "FAULTBOT_CACHE_DIR": str(tmp_path / "cache")}

    def orm_loaded(args: list[str]) -> bool:
        done = subprocess.run([sys.executable, "-c", probe, *args, "--database-url", db_url],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env=env)
        return [ln for ln in done.stdout.splitlines() if ln.startswith("ORM")][-1] == "ORM True"

    assert orm_loaded(["why", "CP-1"])  # cold cache: built from the models
    for args in (["why", "CP-1"], ["status"], ["status", "CP-1"], ["why", "CP-1", "--json"]):
        assert not orm_loaded(args), args


def test_heads_read_from_scripts_match_alembic(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert script_heads() == set(ScriptDirectory.from_config(alembic_config(engine))
                                     .get_heads())
        assert schema_problem(engine) is None
    finally:
        engine.dispose()


def test_old_schema_named_then_upgraded(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'store_0006' "
                          "WHERE version_num = 'store_0007'"))
    try:
        assert schema_problem(engine) == "old"
        result = CliRunner().invoke(cli, ["status", "--database-url", db_url])
        assert result.exit_code == 2
        assert "older schema" in result.output and "faultbot db upgrade" in result.output
        # downgrade by hand is not a real migration: put the row back, then upgrade
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'store_0007' "
                              "WHERE version_num = 'store_0006'"))
        result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", db_url])
        assert result.exit_code == 0, result.output
        assert "store_0007" in result.output
        assert schema_problem(engine) is None
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'store_0007' "
                              "WHERE version_num = 'store_0006'"))
        engine.dispose()


def test_empty_database_named_and_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = CliRunner().invoke(cli, ["why", "CP-1", "--database-url", url])
    assert result.exit_code == 2
    assert "no faultbot schema" in result.output and "faultbot db upgrade" in result.output
    assert CliRunner().invoke(cli, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = CliRunner().invoke(cli, ["status", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "No port states known" in result.output


@pytest.mark.parametrize("args", [["ingest"], ["db", "prune", "--dry-run"]])
def test_writing_commands_still_migrate(args: list[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    if args == ["ingest"]:
        feed = tmp_path / "f.jsonl"
        feed.write_text("")
        args = ["ingest", str(feed)]
    CliRunner().invoke(cli, [*args, "--database-url", url])
    engine = make_engine(url)
    try:
        assert schema_problem(engine) is None
    finally:
        engine.dispose()


def test_bench_cli_prints_ratios() -> None:
    result = CliRunner().invoke(cli, ["bench", "cli", "--runs", "1", "--ports", "301"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [ln.split("  ")[0].strip() for ln in lines] == [
        "python -c pass", "faultbot --version", "faultbot why CP-001", "faultbot status",
        "status, 301 ports"]
    assert all("x python -c pass" in ln for ln in lines)


def test_explain_needs_no_database_library(tmp_path: Path) -> None:
    """`explain` reads a file, not the store: its start-up must not pay for SQLAlchemy."""
    log = tmp_path / "x.jsonl"
    log.write_text('{"ts": "2026-11-20T08:00:00Z", "charger": "CP-1", "dir": "in", "frame": '
                   '[2, "1", "Heartbeat", {}], "ocpp": "1.6"}\n')
    probe = ("import sys\nfrom bot.cli.main import cli\n"
             "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in "
             "('sqlalchemy', 'alembic', 'jsonschema', 'aiohttp', 'slack_sdk')))")
    done = subprocess.run([sys.executable, "-c", probe, "explain", "--json", str(log)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("LOADED")][-1]
    assert eval(line.removeprefix("LOADED ")) == [], done.stderr


def test_bench_fleet_store_holds_the_ports_asked_for(tmp_path: Path) -> None:
    from bot.bench.cli import fleet_store

    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    fleet_store(url, 301)
    result = CliRunner().invoke(cli, ["status", "--database-url", url])
    assert result.exit_code == 0, result.output
    ports = [ln for ln in result.output.splitlines() if ln.startswith("  port ")]
    assert len(ports) == 301
    assert sum(", GroundFailure" in ln for ln in ports) == 2 * 22  # FL-00000, -07 ... -147
