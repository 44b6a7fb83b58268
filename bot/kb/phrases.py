"""Fuzzy text search over phrasings with rapidfuzz, bounded for large knowledge bases.

Choices are pre-processed once (camelCase split, punctuation folded). A lookup
first checks whether a phrasing appears word for word inside the text (a dict
lookup per word run: the common case, since firmware sends fixed strings); only
then does it score with rapidfuzz, and on large lists only the choices that share
the query's rarest words (at most CANDIDATES of them), so the cost per lookup does
not grow with the size of the base.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from bot.kb.normalize import process_text

T = TypeVar("T")
SMALL = 64  # up to this many choices, scoring all of them is cheaper than narrowing
CANDIDATES = 64  # at most this many choices are scored per lookup on large lists
PREFIX = 4  # words longer than this are also indexed by their first PREFIX letters
MAX_PHRASE_WORDS = 12  # longer phrasings are only found by fuzzy scoring
MAX_QUERY_WORDS = 100
SHORT_PHRASE = 3  # a phrasing of up to this many words only counts with its words together


def usable_phrase(processed: str) -> bool:
    """Bare numbers and tiny tokens are never matched as text: `210` in a sentence is no code."""
    compact = processed.replace(" ", "")
    return len(compact) >= 4 and not compact.isdigit()


def _narrowed(text: str, words: list[str], choice: str, score: float) -> float:
    """Token-set scoring gives 100 when the text's words are a subset of a longer phrase:
    `cable fault` would be the phrasing `ground fault, try reconnecting cable`. A text that
    says only part of a phrase is not that phrase, so it is scored on the whole phrase
    (token-sort) instead. A phrase inside a longer text keeps its score."""
    phrase = choice.split()
    if set(words) < set(phrase):
        return min(score, fuzz.token_sort_ratio(text, choice))
    if len(phrase) <= SHORT_PHRASE and set(phrase) < set(words) and not _adjacent(phrase, words):
        # `mains lost` is not in `mains meter lost`: what was lost is the meter. The words of
        # a short phrase must stand together (in any order) to mean the phrase.
        return min(score, fuzz.token_sort_ratio(text, choice))
    return score


def _adjacent(phrase: list[str], words: list[str]) -> bool:
    """The words of `phrase` stand together in `words`: next to each other in any order, or
    in order with only a prepositional phrase between (`MCB of domestic socket triggered`
    still says `MCB triggered`; in `mains meter lost` the meter was lost, not the mains)."""
    need, n = set(phrase), len(phrase)
    if any(need <= set(words[i : i + n]) for i in range(len(words) - n + 1)):
        return True
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        at, ok = start, True
        for wanted in phrase[1:]:
            nxt = next((k for k in range(at + 1, len(words)) if words[k] == wanted), None)
            if nxt is None or (nxt > at + 1 and words[at + 1] not in _LINKS):
                ok = False
                break
            at = nxt
        if ok:
            return True
    return False


_LINKS = frozenset({"of", "on", "at", "in", "for", "from", "to", "with"})


class PhraseIndex(Generic[T]):
    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        self.choices: list[str] = []
        self.raw: list[str] = []
        self.payloads: list[T] = []
        seen: set[tuple[str, int]] = set()
        for raw, payload in items:
            processed = process_text(raw)
            if not usable_phrase(processed) or (processed, id(payload)) in seen:
                continue
            seen.add((processed, id(payload)))
            self.choices.append(processed)
            self.raw.append(raw)
            self.payloads.append(payload)
        self._exact: dict[str, list[int]] = {}
        self._postings: dict[str, list[int]] = {}
        self._longest = 1
        for i, choice in enumerate(self.choices):
            words = choice.split()
            if len(words) <= MAX_PHRASE_WORDS:
                self._exact.setdefault(choice, []).append(i)
                self._longest = max(self._longest, len(words))
            if len(self.choices) > SMALL:
                for word in set(words):
                    self._postings.setdefault(word, []).append(i)
                    if len(word) > PREFIX:
                        self._postings.setdefault("~" + word[:PREFIX], []).append(i)

    def __len__(self) -> int:
        return len(self.choices)

    def _contained(self, words: list[str]) -> list[int]:
        """Choices that appear word for word inside the query."""
        found: list[int] = []
        for start in range(len(words)):
            stop = min(len(words), start + self._longest)
            for end in range(start + 1, stop + 1):
                ids = self._exact.get(" ".join(words[start:end]))
                if ids:
                    found.extend(ids)
        return found

    def _candidates(self, words: list[str]) -> list[int]:
        """Choices sharing the query's rarest words (or word prefixes), at most CANDIDATES."""
        keys = set(words)
        keys.update("~" + w[:PREFIX] for w in words if len(w) > PREFIX)
        lists = sorted((self._postings[k] for k in keys if k in self._postings), key=len)
        found: dict[int, None] = {}
        for ids in lists:
            for i in ids:
                found[i] = None
                if len(found) >= CANDIDATES:
                    return list(found)
        return list(found)

    def search(self, query: str, cutoff: float, limit: int = 5) -> list[tuple[float, int]]:
        """(score 0-100, choice index) of the best choices for an already processed query."""
        if not self.choices or not query:
            return []
        words = query.split()[:MAX_QUERY_WORDS]
        contained = self._contained(words)
        if contained:
            return self._ranked((100.0, i) for i in dict.fromkeys(contained))[:limit]
        ids = (
            list(range(len(self.choices)))
            if len(self.choices) <= SMALL
            else (self._candidates(words))
        )
        if not ids:
            return []
        subset = [self.choices[i] for i in ids]
        text = " ".join(words)
        found = process.extract(
            text,
            subset,
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=cutoff,
            limit=limit,
        )
        scored = ((_narrowed(text, words, choice, score), ids[index])
                  for choice, score, index in found)  # fmt: skip
        return self._ranked((s, i) for s, i in scored if s >= cutoff)[:limit]

    def _ranked(self, found: Iterable[tuple[float, int]]) -> list[tuple[float, int]]:
        # Equal scores: the longer phrase is the more specific match.
        return sorted(found, key=lambda si: (-si[0], -len(self.choices[si[1]])))
