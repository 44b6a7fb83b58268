"""Every package under bot/, nested ones too, has a docstring saying what it owns and what
it may import (the top-level stages' import lists are enforced by test_suite_layers)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def test_every_subpackage_says_what_it_owns_and_may_import() -> None:
    missing = []
    for init in sorted(BOT.rglob("__init__.py")):
        if init.parent == BOT:
            continue  # the root package is the map of the stages, not a stage
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if "May import" not in doc:
            missing.append(str(init.relative_to(BOT.parent)))
    assert not missing, f"docstring without 'May import': {missing}"
