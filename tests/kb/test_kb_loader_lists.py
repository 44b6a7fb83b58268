"""The top-level lists of knowledge files (codes, phrasings, quirks): missing or not lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import read_knowledge

VENDOR_HEAD = 'vendor: {name: Acme, code_format: decimal}\nsource: "Acme manual v1"\n'


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        (
            "vendors/acme.yaml",
            VENDOR_HEAD,
            "kb/vendors/acme.yaml:1: missing required field 'codes'",
        ),
        (
            "vendors/acme.yaml",
            VENDOR_HEAD + "codes: F400\n",
            "kb/vendors/acme.yaml:3: 'codes' must be a list of code entries",
        ),
        (
            "phrasings.yaml",
            "phrasings:\n",
            "kb/phrasings.yaml:1: 'phrasings' must be a list of blocks",
        ),
        ("phrasings.yaml", "{}\n", "kb/phrasings.yaml:1: missing required field 'phrasings'"),
        ("quirks.yaml", "quirks: {a: 1}\n", "kb/quirks.yaml:1: 'quirks' must be a list"),
        ("quirks.yaml", "quirk: []\n", "kb/quirks.yaml:1: missing required field 'quirks'"),
    ],
)
def test_top_level_lists_are_checked(tmp_path: Path, rel: str, text: str, expected: str) -> None:
    root = tmp_path / "kb"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")
    problems = [str(p) for p in read_knowledge(root)[1]]
    assert expected in problems, problems


def test_an_empty_list_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "quirks.yaml").write_text("quirks: []\n", encoding="utf-8")
    (root / "phrasings.yaml").write_text("phrasings: []\n", encoding="utf-8")
    _, problems = read_knowledge(root)
    assert not [p for p in problems if "quirks" in p.file or "phrasings" in p.file], problems
