"""The README's command-line walkthrough works as written.

Every command in the fenced `sh` blocks of "Using it from the command line" runs
verbatim, in order, in one fresh directory, with `faultbot` on the PATH and no faultbot
settings in the environment. Each must exit 0, or the code its `# exits N` comment
names, and print every line of the `text` block that follows it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Using it from the command line"
_FENCE = re.compile(r"^```(\w*)\s*$")
_EXITS = re.compile(r"#\s*exits (\d+)\s*$")


@dataclass
class Step:
    command: str
    exit_code: int = 0
    expect: list[str] = field(default_factory=list)


def walkthrough(readme: str) -> list[Step]:
    """The steps of the walkthrough section, in order."""
    lines = readme.splitlines()
    start = lines.index(SECTION)
    steps: list[Step] = []
    fence: str | None = None
    block: list[str] = []
    last_was_sh = False
    for line in lines[start + 1:]:
        m = _FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                break  # the next section (headings inside code blocks are not seen here)
            if m:
                fence, block = m[1], []
            elif line.strip():
                last_was_sh = False
            continue
        if not m:
            block.append(line)
            continue
        if fence == "sh":
            for text in block:
                if text.strip() and not text.lstrip().startswith("#"):
                    exits = _EXITS.search(text)
                    steps.append(Step(text.strip(), int(exits[1]) if exits else 0))
            last_was_sh = True
        elif fence == "text" and last_was_sh:
            steps[-1].expect = [t.strip() for t in block if t.strip()]
            last_was_sh = False
        fence = None
    return steps


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FAULTBOT_", "SLACK_")) and k not in ("DATABASE_URL", "PORT",
                                                                     "LOG_LEVEL")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_the_walkthrough_is_found() -> None:
    steps = walkthrough((REPO / "README.md").read_text(encoding="utf-8"))
    commands = [s.command.split()[0:2] for s in steps]
    assert ["faultbot", "sample"] in commands and ["faultbot", "ingest"] in commands
    assert len(steps) >= 15
    assert sum(1 for s in steps if s.expect) >= 10


@pytest.mark.slow
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    env = _env()
    for step in walkthrough((REPO / "README.md").read_text(encoding="utf-8")):
        done = subprocess.run(["bash", "-c", step.command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        said = f"$ {step.command}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == step.exit_code, said
        assert "Traceback" not in done.stderr, said
        for expected in step.expect:
            assert expected in done.stdout, f"{expected!r} not printed\n{said}"
    # The commands that write files wrote what the text says.
    completion = (tmp_path / "faultbot-complete.bash").read_text()
    assert "_faultbot_completion" in completion and "complete " in completion
    assert (tmp_path / "taught.yaml").read_text().count("code:") >= 1
    assert (tmp_path / "diagnoses.jsonl").read_text().count("\n") == 74
