"""Every `# type: ignore` names its error code and says why (mypy enforces the code with
`ignore-without-code`; the reason is checked here), so none hides a real error."""

from __future__ import annotations

import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
IGNORE = re.compile(r"#\s*type:\s*ignore")
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[\w\-, ]+\]\s+#\s*\S")


def unexplained(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1)
            if IGNORE.search(line) and not EXPLAINED.search(line)]


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    found = {
        str(path.relative_to(BOT.parent)): lines
        for path in sorted(BOT.rglob("*.py"))
        if (lines := unexplained(path.read_text(encoding="utf-8")))
    }
    assert not found, f"type: ignore without [code] and a '# reason': {found}"


def test_the_check_tells_explained_from_bare_ignores() -> None:
    assert unexplained("x = f()  # type: ignore[arg-type]  # checked above\n") == []
    assert unexplained("x = f()  # type: ignore[arg-type]\n") == [1]
    assert unexplained("x = f()  # type: ignore\n") == [1]
