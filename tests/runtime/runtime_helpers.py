"""Running `faultbot run`/`serve` as a real process in tests, and talking to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

WEBHOOK_SECRET = "feed-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # generous: CI may be loaded
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # the server answers (503 while no feed is live is fine)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def start(
    command: str, tmp_path: Path, env: dict[str, str | None]
) -> tuple[subprocess.Popen[bytes], Path]:
    """`faultbot <command>` in `tmp_path` with `env` on top of ours (None unsets a
    variable); output goes to a file (a full pipe would block the process)."""
    log = tmp_path / f"{command}.log"
    merged = {**os.environ, **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", command],
        cwd=tmp_path,
        env={k: v for k, v in merged.items() if v is not None},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return proc, log


def stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    """SIGTERM, wait, and return everything the process printed."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return log.read_text(errors="replace")


def estop_line(ts: str, charger: str = "CP-777") -> dict[str, object]:
    """A contract-1 StatusNotification: emergency stop, with hostile vendor text."""
    return {
        "ts": ts,
        "charger": charger,
        "dir": "in",
        "ocpp": "1.6",
        "frame": [
            2,
            "e1",
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "OtherError",
                "status": "Faulted",
                "vendorId": "Acme",
                "vendorErrorCode": "F400",
                "info": "EMERGENCY_STOP_BUTTON_1 <!channel>",
                "timestamp": ts,
            },
        ],
    }
