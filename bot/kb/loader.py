"""Load the knowledge base (YAML under knowledge/), every problem located to file:line.

The base is parsed and checked by bot.kb.yaml_read (imported only when the per-user
cache has no parsed copy: a cached start imports no YAML). All problems of all files
are collected and reported together (`knowledge/vendors/alfen.yaml:42: severity 'high'
is not one of ...`); nothing is loaded half-way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot import diskcache
from bot.kb.knowledge import KnowledgeBase

KNOWLEDGE_DIR_ENV = "FAULTBOT_KNOWLEDGE_DIR"


def default_root() -> Path:
    """The bundled knowledge base (the wheel's, or the checkout's knowledge/), unless
    FAULTBOT_KNOWLEDGE_DIR says otherwise (bot.templating.data_dir)."""
    from bot.templating import data_dir

    return data_dir("knowledge")


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base has problems; `problems` lists every one with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    for sub in ("standards", "vendors"):
        folder = root / sub
        if folder.is_dir():
            for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                yield path, "codes"
    for name, kind in (("phrasings", "phrasings"), ("quirks", "quirks"), ("lexicon", "lexicon")):
        for suffix in (".yaml", ".yml"):
            path = root / f"{name}{suffix}"
            if path.is_file():
                yield path, kind


def read_knowledge(root: Path | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read everything under `root`, returning the base and every problem found."""
    from bot.kb.yaml_read import read_knowledge as read

    return read(root)


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """The knowledge base under `root`; raises KnowledgeError listing every file:line problem.

    A base without problems is kept in the per-user cache (bot.diskcache), keyed by every
    knowledge file's path and bytes and by this package's code, so the next process
    unpickles it (~15 ms) instead of parsing and checking the YAML again (~100 ms)."""
    root = Path(root) if root is not None else default_root()
    key = _cache_key(root)

    def read() -> KnowledgeBase:
        kb, problems = read_knowledge(root)
        if problems:  # raised, so a base with problems is never cached
            raise KnowledgeError(problems)
        return kb

    kb = diskcache.pickled(key, read, lambda kb: isinstance(kb, KnowledgeBase))
    kb.source_key = key
    return kb


def _cache_key(root: Path) -> str | None:
    """What the parsed base derives from: the knowledge files, this package's code and the
    vocabulary it uses (None: the folder cannot be read, so nothing is cached)."""
    code = Path(__file__).resolve().parent
    sources = [*sorted(code.glob("*.py")), code.parent / "vocab.py"]
    parts: list[bytes | str] = [str(root.resolve())]
    try:
        for path in sources:
            parts += [path.name, path.read_bytes()]
        if root.is_dir():
            for path, kind in _files(root):
                parts += [str(path), kind, path.read_bytes()]
    except OSError:
        return None
    return diskcache.key_of("kb", parts)


_default: KnowledgeBase | None = None
_default_lock = threading.Lock()


def default_knowledge() -> KnowledgeBase:
    """The repo's knowledge base, loaded once per process."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_knowledge()
    return _default
