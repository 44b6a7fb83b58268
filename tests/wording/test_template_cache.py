"""The compiled-template cache: reused across environments, never stale, never needed."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from bot.templating import terminal_env


def test_an_edited_template_is_recompiled(tmp_path: Path) -> None:
    page = tmp_path / "t.txt.j2"
    page.write_text("{{ x }} first\n")
    assert terminal_env(root=tmp_path).get_template("t.txt.j2").render(x=1) == "1 first"
    # a fresh environment (a new process) reads the cache: same answer
    assert terminal_env(root=tmp_path).get_template("t.txt.j2").render(x=2) == "2 first"
    page.write_text("{{ x }} second\n")
    assert terminal_env(root=tmp_path).get_template("t.txt.j2").render(x=3) == "3 second"


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "t.txt.j2").write_text("{{ x }}\n")
    env = terminal_env(root=tmp_path)
    assert isinstance(env.bytecode_cache, jinja2.FileSystemBytecodeCache)
    env.bytecode_cache.directory = str(tmp_path / "missing" / "dir")
    assert env.get_template("t.txt.j2").render(x="ok") == "ok"
    # a damaged entry reads as none
    cache = tmp_path / "cache"
    cache.mkdir()
    env = terminal_env(root=tmp_path)
    assert isinstance(env.bytecode_cache, jinja2.FileSystemBytecodeCache)
    env.bytecode_cache.directory = str(cache)
    env.get_template("t.txt.j2")
    for entry in cache.iterdir():
        entry.write_bytes(b"not a cache entry")
    env = terminal_env(root=tmp_path)
    assert isinstance(env.bytecode_cache, jinja2.FileSystemBytecodeCache)
    env.bytecode_cache.directory = str(cache)
    assert env.get_template("t.txt.j2").render(x="again") == "again"
