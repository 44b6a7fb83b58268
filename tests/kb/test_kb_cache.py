"""The parsed knowledge base is cached on disk for the next process, and never stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb.loader import KnowledgeError, load_knowledge

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"


def _meanings(root: Path) -> set[str]:
    return {e.meaning for e in load_knowledge(root).entries}


def test_edited_file_is_read_again_not_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(cache))
    root = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_ROOT, root)
    first = _meanings(root)
    assert "Residual current in the charge circuit." in first
    assert [p.name for p in cache.iterdir() if p.name.startswith("kb-")]  # written
    assert _meanings(root) == first  # served from the cache
    abb = root / "vendors" / "abb.yaml"
    abb.write_text(abb.read_text().replace("Residual current in the charge circuit.",
                                           "Earth leakage in the charge circuit."))
    second = _meanings(root)
    assert "Earth leakage in the charge circuit." in second
    assert "Residual current in the charge circuit." not in second
    # a file with problems is reported, whatever an earlier good version left cached
    abb.write_text(abb.read_text().replace("severity: safety", "severity: high", 1))
    with pytest.raises(KnowledgeError):
        load_knowledge(root)


def test_damaged_entry_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(cache))
    root = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_ROOT, root)
    expected = _meanings(root)
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    assert _meanings(root) == expected
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", "off")
    assert _meanings(root) == expected
