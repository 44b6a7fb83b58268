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
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

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
        return (folder / key).read_bytes()
    except OSError:
        return None


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
