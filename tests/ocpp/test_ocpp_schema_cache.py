"""Compiled payload checks come back from the on-disk cache and judge the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
from bot.ocpp.schemas import schema_for
s = schema_for("1.6", "StatusNotification", "request")
good = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
bad = {"connectorId": "one", "errorCode": "Nope", "status": "Available"}
print(s.is_valid(good), s.is_valid(bad), s.problems(bad))
"""


def _run(cache: Path | str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env={"FAULTBOT_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"},
                          timeout=120, check=True)
    return done.stdout


def test_cached_check_judges_like_a_fresh_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = _run("off")
    assert fresh.startswith("True False [")
    assert _run(cache) == fresh  # compiled, then written
    written = [p for p in cache.iterdir() if p.name.startswith("schema-")]
    assert written
    assert _run(cache) == fresh  # read back
    for entry in written:
        entry.write_bytes(b"damaged")
    assert _run(cache) == fresh
