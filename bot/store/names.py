"""Forgiving lookup of charger and site names typed by people.

People type `cp12` for `CP-012`: case, punctuation and leading zeros are ignored. An
exact match wins outright; otherwise every candidate that matches after normalising
is returned, then near misses (rapidfuzz), ranked, so callers can say "did you mean".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
NEAR_CUTOFF = 75  # rapidfuzz score (0-100) below which a name is not suggested
NEAR_LIMIT = 5


def normalize_name(text: str) -> str:
    """`CP-012` -> `cp12`: lower case, no punctuation, no leading zeros in numbers."""
    return _LEADING_ZEROS.sub("", _NOT_ALNUM.sub("", text.lower()))


@dataclass(slots=True)
class NameMatch:
    matches: list[str] = field(default_factory=list)  # the text names these (several = ambiguous)
    near: list[str] = field(default_factory=list)  # suggestions only, best first

    @property
    def unique(self) -> str | None:
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ranked(self) -> list[str]:
        return [*self.matches, *self.near]


def match_name(text: str, candidates: Iterable[str]) -> NameMatch:
    names = list(dict.fromkeys(candidates))
    text = text.strip()
    if not text:
        return NameMatch()
    if text in names:
        return NameMatch([text])
    folded = text.casefold()
    same_case = [n for n in names if n.casefold() == folded]
    if same_case:
        return NameMatch(sorted(same_case))
    key = normalize_name(text)
    if not key:
        return NameMatch()
    from rapidfuzz import fuzz, process  # here: an exact id (the usual case) needs none

    keys = {n: normalize_name(n) for n in names}
    same = [n for n in names if keys[n] == key]
    if same:
        # CP-012 and CP-12 both fold to cp12: the one spelled most like the text first
        same.sort(key=lambda n: (-fuzz.ratio(n.casefold(), folded), n))
        return NameMatch(same)
    scored: dict[str, float] = {}
    for n, k in keys.items():
        if k.startswith(key) or (len(key) >= 3 and key in k):
            scored[n] = 100.0 - min(len(k) - len(key), 20) / 2  # shorter completion first
    for _, score, n in process.extract(
        key, keys, scorer=fuzz.WRatio, score_cutoff=NEAR_CUTOFF, limit=NEAR_LIMIT * 2
    ):
        scored[n] = max(scored.get(n, 0.0), float(score) - 5)
    near = sorted(scored, key=lambda n: (-scored[n], n))[:NEAR_LIMIT]
    return NameMatch([], near)
