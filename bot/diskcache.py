"""A per-user on-disk cache for work a short command would otherwise redo on every run
(the parsed knowledge base, compiled payload checks).

Entries are keyed by a hash of everything they were derived from (file contents, library
and Python versions), so a changed input is a different key and a stale entry is never
read. The cache is only ever a shortcut: an entry that cannot be read or written is
ignored, and the caller computes the value as if there were none.

Folder: $FAULTBOT_CACHE_DIR, else $XDG_CACHE_HOME/faultbot, else ~/.cache/faultbot;
FAULTBOT_CACHE_DIR=off turns the cache off.

May import: nothing
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CACHE_ENV = "FAULTBOT_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override.lower() == "off":
        return None
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "faultbot"


def key_of(kind: str, parts: Iterable[bytes | str]) -> str:
    """A file name for `kind` derived from `parts` and the running Python (marshalled and
    pickled data is only read back by the interpreter version that wrote it)."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return f"{kind}-{digest.hexdigest()[:40]}"


def load(key: str) -> bytes | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        if not _private(folder):
            return None
        return (folder / key).read_bytes()
    except OSError:
        return None


def _private(folder: Path) -> bool:
    """Entries are unpickled, so they are read only from a folder this user owns and no
    one else may write to (a shared FAULTBOT_CACHE_DIR would let others run code)."""
    st = folder.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def load_decoded(key: str, decode: Callable[[bytes], T]) -> T | None:
    """The entry under `key` decoded, or None when it is absent or cannot be decoded (a
    damaged or foreign entry counts as absent)."""
    data = load(key)
    if data is None:
        return None
    try:
        return decode(data)
    except Exception:
        return None


def pickled(key: str | None, build: Callable[[], T], accept: Callable[[object], bool]) -> T:
    """`build()`, or the pickled result of an earlier build under `key` when `accept`
    takes it; a fresh build is stored. `key` None: build, do not cache."""
    if key is not None:
        value = load_decoded(key, pickle.loads)
        if value is not None and accept(value):
            return value  # `accept` checked its type
    value = build()
    if key is not None:
        store(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value


def store(key: str, data: bytes) -> None:
    """Write atomically (a concurrent reader sees the old entry or the whole new one)."""
    folder = cache_dir()
    if folder is None:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, folder / key)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
