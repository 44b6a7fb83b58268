"""Fuzzy text search over phrasings with rapidfuzz, bounded for large knowledge bases.

Choices are pre-processed once (camelCase split, punctuation folded). Small lists are
scored in full with `process.extract`; large ones (the synthetic 20,000-entry base,
every vendor's phrasings) are first narrowed by an inverted index of words and
word prefixes, so a lookup scores hundreds of choices rather than tens of thousands.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from bot.kb.normalize import process_text

T = TypeVar("T")
SMALL = 400  # below this many choices, scoring all of them is cheaper than narrowing
PREFIX = 4  # words of at least PREFIX+1 letters are also indexed by their first PREFIX


def usable_phrase(processed: str) -> bool:
    """Bare numbers and tiny tokens are never matched as text: `210` in a sentence is no code."""
    compact = processed.replace(" ", "")
    return len(compact) >= 4 and not compact.isdigit()


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
        self._postings: dict[str, list[int]] | None = None
        if len(self.choices) > SMALL:
            postings: dict[str, list[int]] = {}
            for i, choice in enumerate(self.choices):
                for word in set(choice.split()):
                    postings.setdefault(word, []).append(i)
                    if len(word) > PREFIX:
                        postings.setdefault("~" + word[:PREFIX], []).append(i)
            self._postings = postings
        self._common = max(200, len(self.choices) // 20)

    def __len__(self) -> int:
        return len(self.choices)

    def _candidates(self, query: str) -> list[int]:
        assert self._postings is not None
        lists = []
        for word in set(query.split()):
            lists.append(self._postings.get(word, ()))
            if len(word) > PREFIX:
                lists.append(self._postings.get("~" + word[:PREFIX], ()))
        lists.sort(key=len)
        found: set[int] = set()
        for ids in lists:
            # A very common word ("fault") adds little once rarer words found candidates.
            if found and len(ids) > self._common:
                break
            found.update(ids)
        return sorted(found)

    def search(self, query: str, cutoff: float, limit: int = 5) -> list[tuple[float, int]]:
        """(score 0-100, choice index) of the best choices for an already processed query."""
        if not self.choices or not query:
            return []
        if self._postings is None:
            found = process.extract(
                query,
                self.choices,
                scorer=fuzz.token_set_ratio,
                processor=None,
                score_cutoff=cutoff,
                limit=limit,
            )
            return self._ranked((score, index) for _, score, index in found)
        ids = self._candidates(query)
        if not ids:
            return []
        subset = [self.choices[i] for i in ids]
        found = process.extract(
            query,
            subset,
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=cutoff,
            limit=limit,
        )
        return self._ranked((score, ids[index]) for _, score, index in found)

    def _ranked(self, found: Iterable[tuple[float, int]]) -> list[tuple[float, int]]:
        # Equal scores: the longer phrase is the more specific match.
        return sorted(found, key=lambda si: (-si[0], -len(self.choices[si[1]])))
