"""What an ops team watches, on a real `faultbot run`/`serve` process: /metrics after
the sample feed, readiness that follows the database away and back, liveness, quiet
start-up logs, JSON logs, and a taken port reported in one line (exit 2)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from runtime_helpers import WEBHOOK_SECRET, free_port, post, start, stop, wait_http
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from bot.feeds.health import HealthState
from bot.feeds.webhook import signed_headers
from bot.incidents.models import DiagnosisRow, Incident
from bot.obs.logs import configure_logging
from bot.obs.ready import Readiness
from bot.sample.generate import write_sample
from bot.slack.stub import Scripted, SlackStub


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = _get(base + "/metrics")
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=cwd,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.slow
def test_metrics_after_the_sample(tmp_path: Path, db_url: str, db_engine: Engine) -> None:
    paths = write_sample(tmp_path)
    loaded = _cli("ingest", str(paths.feed), env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert loaded.returncode == 1, loaded.stderr  # the sample has unreadable lines on purpose

    port = free_port()
    proc, log = start("run", tmp_path, {
        "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": None, "SLACK_APP_TOKEN": None,
        "FAULTBOT_WEBHOOK_SECRET": WEBHOOK_SECRET, "FAULTBOT_HTTP_HOST": "127.0.0.1",
        "FAULTBOT_HTTP_PORT": str(port), "LOG_LEVEL": None, "FAULTBOT_LOG_FORMAT": None,
    })
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health/live")
        assert _get(base + "/health/live") == (200, b'{"live": true}')
        # The feed: ten new frames (the sample's charger, a day later) and one bad line.
        lines = [json.dumps({"ts": f"2026-11-21T08:00:{i:02d}Z", "charger": "CP-005",
                             "dir": "in", "ocpp": "1.6",
                             "frame": [2, f"m{i}", "Heartbeat", {}]}) for i in range(10)]
        body = ("\n".join([*lines, "not json"]) + "\n").encode()
        headers = {"content-type": "application/x-ndjson",
                   **signed_headers(WEBHOOK_SECRET, body)}
        status, answer = post(base + "/feed/ocpp", body, headers)
        assert status == 200, answer
        metrics = _scrape(base)
    finally:
        output = stop(proc, log)

    feed = (("feed", "webhook"),)
    assert metrics[("faultbot_feed_frames_received_total", feed)] == 10  # readable ones
    assert metrics[("faultbot_feed_frames_stored_total", feed)] == 10
    assert metrics[("faultbot_feed_frames_rejected_total", feed)] == 1
    assert ("faultbot_feed_lag_seconds", feed) in metrics
    assert metrics[("faultbot_database_up", ())] == 1

    with Session(db_engine) as session:
        per_rule = Counter({(c, r): n for c, r, n in session.execute(
            select(DiagnosisRow.category, DiagnosisRow.rule, func.count())
            .group_by(DiagnosisRow.category, DiagnosisRow.rule))})
        open_by_severity = Counter(dict(session.execute(
            select(Incident.severity, func.count())
            .where(Incident.resolved_at.is_(None), Incident.suppressed.is_(False))
            .group_by(Incident.severity)).all()))
    scraped = Counter({(dict(k)["category"], dict(k)["rule"]): int(v)
                       for (name, k), v in metrics.items() if name == "faultbot_diagnoses_total"})
    assert scraped == per_rule
    assert sum(scraped.values()) >= 90  # the sample's diagnoses (93 today)
    assert any(category == "emergency_stop" for category, _ in scraped)  # CP-005's emergency stop
    for severity in ("info", "degraded", "outage", "safety"):
        key = ("faultbot_incidents_open", (("severity", severity),))
        assert metrics[key] == open_by_severity.get(severity, 0)
    assert metrics[("faultbot_slack_outbox", (("status", "pending"),))] == 0
    assert metrics[("faultbot_slack_outbox", (("status", "failed"),))] == 0

    # Start-up at the default level: no third-party INFO chatter (alembic's migrations).
    assert "alembic" not in output and "INFO  [alembic" not in output, output
    assert "Traceback" not in output, output


PG_ADMIN_URL = os.environ.get(
    "FAULTBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.mark.postgres
def test_readiness_follows_the_database(tmp_path: Path, postgres_url: str) -> None:
    """A database of its own (postgres_url only makes sure the server is there): it is
    renamed away under the running process, then renamed back."""
    pg_admin_url = PG_ADMIN_URL
    name = f"fb_ready_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    port = free_port()
    proc, log = start("run", tmp_path, {
        "DATABASE_URL": url, "SLACK_BOT_TOKEN": None, "SLACK_APP_TOKEN": None,
        "FAULTBOT_WEBHOOK_SECRET": None, "FAULTBOT_HTTP_HOST": "127.0.0.1",
        "FAULTBOT_HTTP_PORT": str(port),
    })
    base = f"http://127.0.0.1:{port}"
    away = name + "_away"
    try:
        wait_http(base + "/health/live")
        status, body = _get(base + "/health/ready")
        assert status == 200, body
        assert json.loads(body)["checks"]["migrations"]["ok"] is True

        with admin.connect() as conn:  # the database goes away
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{away}"'))
        status, body = _get(base + "/health/ready")
        assert status == 503, body
        checks = json.loads(body)["checks"]
        assert checks["database"]["ok"] is False
        assert "does not exist" in checks["database"]["problem"]
        assert _get(base + "/health/live")[0] == 200  # alive, just not ready
        assert _scrape(base)[("faultbot_database_up", ())] == 0

        with admin.connect() as conn:  # ... and comes back
            conn.execute(text(f'ALTER DATABASE "{away}" RENAME TO "{name}"'))
        status, body = _get(base + "/health/ready")
        assert status == 200, body
    finally:
        stop(proc, log)
        with admin.connect() as conn:
            for db in (name, away):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def test_readiness_reports_slack_and_schema(tmp_path: Path) -> None:
    """HTTP-mode Slack counts as connected; a SQLite file moved away and back; the Slack
    SDK's start-up notes stay out of the log; JSON logs parse."""
    db = tmp_path / "fb.db"
    port = free_port()
    with SlackStub() as stub:
        proc, log = start("serve", tmp_path, {
            "DATABASE_URL": f"sqlite:///{db}", "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": None, "SLACK_API_URL": stub.base_url,
            "FAULTBOT_WEBHOOK_SECRET": None, "FAULTBOT_HTTP_HOST": "127.0.0.1",
            "FAULTBOT_HTTP_PORT": str(port), "FAULTBOT_LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
        })
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/health/live")
            status, body = _get(base + "/health/ready")
            assert status == 200, body
            assert json.loads(body)["checks"]["slack"] == {"ok": True, "problem": None}
            moved = tmp_path / "elsewhere.db"
            db.rename(moved)
            status, body = _get(base + "/health/ready")
            assert status == 503 and not db.exists()  # checking never creates a database
            assert json.loads(body)["checks"]["database"]["ok"] is False
            moved.replace(db)
            assert _get(base + "/health/ready")[0] == 200
        finally:
            output = stop(proc, log)
    logged = [line for line in output.splitlines() if not line.startswith("faultbot running")]
    assert logged, output
    for line in logged:
        entry = json.loads(line)  # every log line is one JSON object
        assert {"ts", "level", "logger", "message"} <= entry.keys()
    assert "will be unused" not in output and "alembic" not in output, output


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "run"], cwd=tmp_path, timeout=300,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}",
                 "FAULTBOT_HTTP_HOST": "127.0.0.1", "FAULTBOT_HTTP_PORT": str(port),
                 "LOG_LEVEL": "WARNING"},  # just the failure, none of our INFO lines
            capture_output=True, text=True)
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [
        f"faultbot: bad setting FAULTBOT_HTTP_PORT: port {port} on 127.0.0.1 is already in use "
        "(another faultbot, or another program; set FAULTBOT_HTTP_PORT or PORT to a free port)"
    ]


def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    ready, body = Readiness(f"sqlite:///{empty}", HealthState()).check()
    assert not ready
    assert body["checks"]["database"] == {"ok": True, "problem": None}
    assert body["checks"]["migrations"]["ok"] is False
    # Feeds: a feed that is not live makes the process not ready.
    health = HealthState()
    health.feed("broker")
    ready, body = Readiness(f"sqlite:///{empty}", health).check()
    assert body["checks"]["feed:broker"]["problem"] == "not live"


def test_json_log_lines_carry_the_charger(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    configure_logging("INFO", "json")
    try:
        logging.getLogger("bot.feeds.tap").warning("upstream unreachable for %s: %s", "CP-9",
                                                   "refused", extra={"charger": "CP-9"})
        logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    finally:
        logging.getLogger().handlers.clear()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1  # alembic's INFO is held back at the default level
    entry = json.loads(lines[0])
    assert entry["charger"] == "CP-9" and entry["level"] == "WARNING"
    assert entry["message"] == "upstream unreachable for CP-9: refused"


def test_slack_api_errors_are_counted_per_method() -> None:
    """A real WebClient against the local Slack stand-in: failed calls count against
    their method, successful ones do not, and the error still reaches the caller."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.obs.metrics import Metrics

    metrics = Metrics(None, HealthState())
    with SlackStub() as stub:
        client = metrics.count_slack_errors(WebClient(token="xoxb-t", base_url=stub.base_url))
        client.chat_postMessage(channel="C1", text="fine")
        stub.script("chat.postMessage", Scripted(error="channel_not_found"),
                    Scripted(error="not_in_channel"))
        for _ in range(2):
            with pytest.raises(SlackApiError):
                client.chat_postMessage(channel="C1", text="refused")
        with pytest.raises(SlackApiError):
            client.chat_update(channel="C1", ts="1.2", text="x")  # message_not_found
    scraped = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(metrics.render().decode())
               for s in f.samples}
    assert scraped[("faultbot_slack_api_errors_total", (("method", "chat.postMessage"),))] == 2
    assert scraped[("faultbot_slack_api_errors_total", (("method", "chat.update"),))] == 1


def test_a_broker_that_cannot_be_reached_names_its_setting(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"], cwd=tmp_path, timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
             "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}", "FAULTBOT_HTTP_HOST": "127.0.0.1",
             "FAULTBOT_HTTP_PORT": str(free_port()), "FAULTBOT_AMQP_MODE": "faultbot",
             "FAULTBOT_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{closed}/"},
        capture_output=True, text=True)
    assert done.returncode == 2, done
    ours = [line for line in done.stderr.splitlines() if line.startswith("faultbot:")]
    assert len(ours) == 1 and "FAULTBOT_AMQP_URL" in ours[0], done.stderr
    assert "Traceback" not in done.stderr
