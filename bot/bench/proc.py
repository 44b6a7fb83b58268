"""Whole-process timing shared by the start-up benchmarks (`bench cli`, `bench explain`).

Commands are timed as an installed program runs: its bytecode compiled (pip compiles a
wheel's modules at install; PYTHONDONTWRITEBYTECODE, set in some shells and CI, would
make every run of a source checkout recompile its modules) and its per-user caches
(bot.diskcache, Jinja2's compiled templates) filled by one untimed run first. The peer
gets the same untimed first run.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def installed_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def times(argv: list[str], runs: int, cwd: Path, env: dict[str, str] | None = None
          ) -> list[float]:
    """Wall time of `runs` runs of `argv`, after one untimed warm-up run."""
    env = installed_env(env)
    out = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if i:
            out.append(time.perf_counter() - start)
    return out
