"""The architecture stays visible: every stage says in its docstring what it may import,
and this test holds the code to it (module-level and function-level imports alike)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
# A stage is a subpackage of bot/ or a top-level module of bot/.
STAGES = sorted(
    [p.name for p in BOT.iterdir() if (p / "__init__.py").exists()]
    + [p.stem for p in BOT.glob("*.py") if p.stem != "__init__"]
)


def _declared(stage: str) -> set[str]:
    path = BOT / stage / "__init__.py" if (BOT / stage).is_dir() else BOT / f"{stage}.py"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    found = re.search(r"^May import: (.+?)(?:\n\n|\Z)", doc, re.M | re.S)
    assert found, f"{path.relative_to(BOT.parent)}: the docstring has no 'May import:' line"
    names = " ".join(found.group(1).split())
    return set() if names == "nothing" else {n.strip() for n in names.split(",")}


def _imports_of(path: Path, stage: str) -> set[str]:
    """The other stages one file imports, at any depth of its code."""
    used: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        for m in modules:
            parts = m.split(".")
            if parts[0] == "bot" and len(parts) > 1 and parts[1] != stage:
                used.add(parts[1])
    return used


def _imported(stage: str) -> dict[str, set[str]]:
    root = BOT / stage
    files = sorted(root.rglob("*.py")) if root.is_dir() else [BOT / f"{stage}.py"]
    return {str(f.relative_to(BOT.parent)): _imports_of(f, stage) for f in files}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_imports_only_what_its_docstring_allows(stage: str) -> None:
    allowed = _declared(stage)
    assert allowed <= set(STAGES), f"{stage} names stages that do not exist"
    wrong = {f: sorted(used - allowed) for f, used in _imported(stage).items() if used - allowed}
    assert not wrong, f"{stage} may import {sorted(allowed)}; these files import more: {wrong}"


def test_dependencies_run_one_way() -> None:
    """No two stages may import each other, directly or through others."""
    graph = {s: _declared(s) for s in STAGES}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [s for s in STAGES if reaches(s, s, {s})]
    assert not cycles, f"these stages sit on an import cycle: {cycles}"


def test_the_check_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    """A shortcut would hide in a function body; relative imports stay inside the stage."""
    f = tmp_path / "x.py"
    f.write_text(
        "from bot.store.models import MessageRow\n"
        "from . import sibling\n"
        "import bot.triage.engine\n"
        "def f():\n    from bot.slack.app import build_app\n    return build_app\n",
        encoding="utf-8",
    )
    assert _imports_of(f, "triage") == {"store", "slack"}
