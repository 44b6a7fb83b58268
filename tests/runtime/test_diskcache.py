"""bot.diskcache: one load / build / store for every cached parse; an entry that cannot
be read back is as good as absent, and a folder others may write to is never read
(entries are unpickled)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import diskcache


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "cache"
    monkeypatch.setenv(diskcache.CACHE_ENV, str(out))
    return out


def test_built_once_then_read_back(folder: Path) -> None:
    builds: list[int] = []

    def build() -> dict[str, int]:
        builds.append(1)
        return {"a": 1}

    def accept(value: object) -> bool:
        return isinstance(value, dict)

    key = diskcache.key_of("test", ["x"])
    assert diskcache.pickled(key, build, accept) == {"a": 1}
    assert diskcache.pickled(key, build, accept) == {"a": 1}
    assert len(builds) == 1
    assert diskcache.pickled(None, build, accept) == {"a": 1} and len(builds) == 2


def test_damaged_or_unaccepted_entry_is_rebuilt(folder: Path) -> None:
    key = diskcache.key_of("test", ["y"])
    diskcache.store(key, b"not a pickle")
    assert diskcache.load_decoded(key, lambda b: b.decode().split()[5]) is None
    assert diskcache.pickled(key, lambda: [1, 2], lambda v: isinstance(v, list)) == [1, 2]
    assert diskcache.pickled(key, lambda: (3,), lambda v: isinstance(v, tuple)) == (3,)


def test_a_folder_others_may_write_to_is_not_read(folder: Path) -> None:
    key = diskcache.key_of("test", ["z"])
    diskcache.store(key, b"entry")
    assert diskcache.load(key) == b"entry"
    os.chmod(folder, 0o777)
    assert diskcache.load(key) is None
    os.chmod(folder, 0o700)
    assert diskcache.load(key) == b"entry"


def test_off_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(diskcache.CACHE_ENV, "off")
    diskcache.store("k", b"v")
    assert diskcache.load("k") is None
