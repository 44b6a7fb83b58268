"""The container image: built from the Dockerfile, `faultbot --version` and `faultbot
demo` run inside it. Needs a container engine; where none answers (only the docker CLI
is installed, or no daemon runs), the test skips and says so. The wheel test next to it
checks the same two commands on the same wheel and always runs.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command on this machine"
    try:
        done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if done.returncode != 0 or not done.stdout.strip():
        first = (done.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no container engine answers `docker info` ({first})"
    return None


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert sum(line.startswith("FROM ") for line in text.splitlines()) == 2
    assert "COPY --from=build" in text
    assert "\nUSER faultbot" in text
    assert "HEALTHCHECK" in text and "/health" in text
    assert 'CMD ["faultbot", "run"]' in text
    compose = (REPO / "compose.yaml").read_text()
    for service in ("faultbot:", "postgres:", "rabbitmq:"):
        assert f"\n  {service}" in compose


@pytest.mark.slow
def test_image_runs_version_and_demo() -> None:
    problem = _engine_problem()
    if problem:
        pytest.skip(f"container engine unavailable: {problem}; "
                    "tests/package/test_package_wheel.py covers the same commands")
    tag = f"faultbot-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(REPO)], check=True, timeout=1800)
    try:
        out = subprocess.run(["docker", "run", "--rm", tag, "faultbot", "--version"],
                             capture_output=True, text=True, check=True, timeout=120).stdout
        assert version("faultbot") in out
        demo = subprocess.run(["docker", "run", "--rm", tag, "faultbot", "demo"],
                              capture_output=True, text=True, check=True, timeout=600).stdout
        assert "faultbot demo: the whole product on a bundled sample feed" in demo
        assert "emergency stop" in demo
        user = subprocess.run(["docker", "run", "--rm", tag, "id", "-u"],
                              capture_output=True, text=True, check=True, timeout=120).stdout
        assert user.strip() != "0"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
