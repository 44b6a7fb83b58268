"""The cue words of knowledge/asking.yaml, read once."""

from __future__ import annotations

import os
import re
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
    # Compiled once from the words above (bot.ask.entities reads with them).
    port_re: re.Pattern[str]
    ordinal_re: re.Pattern[str] | None
    charger_re: re.Pattern[str]
    code_re: re.Pattern[str]
    time_re: re.Pattern[str] | None
    time_key: dict[str, str]  # time phrase -> its key

    def intents_of(self, word: str) -> list[str]:
        return [k for k, words in self.intent_words.items() if word in words]


SEP = r"\s*(?:#|no\.?|nr\.?|number|num)?\s*:?\s*"  # "port #2", "charger no. 9"


def _alternation(words: Any) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


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
    port_words = _words(data.get("port_words"))
    ordinals = {fold(str(k)): int(v) for k, v in (data.get("ordinals") or {}).items()}
    charger_words = _words(data.get("charger_words"))
    code_words = _words(data.get("code_words"))
    time_key = {p: k for k, v in times.items() for p in v["phrases"]}
    return Cues(
        port_re=re.compile(rf"\b(?:{_alternation(port_words)})s?{SEP}(\d{{1,3}})\b"),
        ordinal_re=re.compile(rf"\b({_alternation(ordinals)})\s+(?:{_alternation(port_words)})\b")
        if ordinals else None,
        charger_re=re.compile(rf"\b(?:{_alternation(charger_words)}){SEP}(\d{{1,6}})\b"),
        code_re=re.compile(
            rf"\b(?:{_alternation(code_words)})s?(?:\s+code)?{SEP}"
            r"([a-z0-9][a-z0-9_\-.]*[a-z0-9]|[0-9])"
        ),
        time_re=re.compile(rf"\b(?:{_alternation(time_key)})\b") if time_key else None,
        time_key=time_key,
        intent_words=words,
        intent_phrases=phrases,
        charger_words=charger_words,
        port_words=port_words,
        ordinals=ordinals,
        code_words=code_words,
        not_site_words=_words(data.get("not_site_words")),
        times=times,
        weekdays={fold(str(k)): int(v) for k, v in (data.get("weekdays") or {}).items()},
        all_words=tuple(sorted({w for ws in words.values() for w in ws})),
    )
