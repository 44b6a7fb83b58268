"""The test run itself: a test skipped for a missing service is named at the end of the
run, and with FAULTBOT_REQUIRE_SERVICES=1 (CI) the run fails because of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_pytest(tmp_path: Path, body: str, require: bool) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_probe.py"
    test.write_text(body)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    env["FAULTBOT_REQUIRE_SERVICES"] = "1" if require else "0"
    return subprocess.run(
        # tests/conftest.py loaded as a plugin: the same hooks `make test` runs with.
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
         "-q", "-ra", "--rootdir", str(tmp_path), str(test)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


SKIPS = """
import pytest

def test_needs_the_broker():
    pytest.skip("RabbitMQ not reachable: connection refused")

def test_sqlite_only():
    pytest.skip("concurrent writers are a PostgreSQL concern")

def test_fine():
    pass
"""


def test_a_service_skip_is_named_last_and_fails_ci(tmp_path: Path) -> None:
    laptop = run_pytest(tmp_path, SKIPS, require=False)
    assert laptop.returncode == 0, laptop.stdout
    tail = laptop.stdout[laptop.stdout.index("short test summary") :]
    assert "SKIPPED FOR MISSING SERVICES" in tail  # after pytest's own summary
    assert "1 test(s) did NOT run because RabbitMQ was not reachable" in tail
    assert "PostgreSQL was not reachable" not in tail  # a skip for another reason

    ci = run_pytest(tmp_path, SKIPS, require=True)
    assert ci.returncode == 1, ci.stdout
    assert "this run fails because of these skips" in ci.stdout


def test_a_run_without_service_skips_says_so(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, "def test_fine():\n    pass\n", require=True)
    assert done.returncode == 0, done.stdout
    assert "no test was skipped for a missing service" in done.stdout
