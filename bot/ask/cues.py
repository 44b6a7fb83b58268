"""The cue words of knowledge/asking.yaml, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_DEFAULT = Path(__file__).resolve().parents[2] / "knowledge" / "asking.yaml"


def fold(text: str) -> str:
    """Lower case, curly quotes straightened, apostrophes dropped: "Don’t" -> "dont"."""
    return text.lower().replace("’", "'").replace("'", "")


@dataclass(frozen=True, slots=True)
class Cues:
    intent_words: dict[str, frozenset[str]]  # intent -> single words
    intent_phrases: dict[str, tuple[str, ...]]  # intent -> multi-word phrases (folded)
    charger_words: frozenset[str]
    port_words: frozenset[str]
    ordinals: dict[str, int]
    code_words: frozenset[str]
    not_site_words: frozenset[str]
    times: dict[str, dict[str, Any]]  # key -> {phrases, from_hour, to_hour}
    weekdays: dict[str, int]
    all_words: tuple[str, ...]  # every intent word, for typo matching

    def intents_of(self, word: str) -> list[str]:
        return [k for k, words in self.intent_words.items() if word in words]


def _words(values: Any) -> frozenset[str]:
    return frozenset(fold(str(v)) for v in values or ())


@lru_cache(maxsize=4)
def load_cues(path: str | None = None) -> Cues:
    where = Path(path or os.environ.get("FAULTBOT_ASKING_FILE") or _DEFAULT)
    data = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    intents = data.get("intents") or {}
    words = {k: _words(v.get("words")) for k, v in intents.items()}
    phrases = {
        k: tuple(sorted((fold(p) for p in v.get("phrases") or ()), key=len, reverse=True))
        for k, v in intents.items()
    }
    times = {
        k: {**v, "phrases": tuple(sorted((fold(p) for p in v.get("phrases") or ()),
                                         key=len, reverse=True))}
        for k, v in (data.get("times") or {}).items()
    }
    return Cues(
        intent_words=words,
        intent_phrases=phrases,
        charger_words=_words(data.get("charger_words")),
        port_words=_words(data.get("port_words")),
        ordinals={fold(str(k)): int(v) for k, v in (data.get("ordinals") or {}).items()},
        code_words=_words(data.get("code_words")),
        not_site_words=_words(data.get("not_site_words")),
        times=times,
        weekdays={fold(str(k)): int(v) for k, v in (data.get("weekdays") or {}).items()},
        all_words=tuple(sorted({w for ws in words.values() for w in ws})),
    )
