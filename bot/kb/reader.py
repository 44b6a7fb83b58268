"""The code-text reader: what a code's own words say when no table lists the code.

`PilotShortToGround`, `PLC_MODEM_LOST` or `LidOpenDetected` are read at a glance by a
person; this reads them the same way, deterministically. The words are split
(camelCase, snake_case, acronyms, digits and units), joined words and abbreviations are
expanded from the lexicon (`knowledge/lexicon.yaml`: `overtemp` -> `over temperature`,
`rcd` -> `residual current`), and the lexicon's word families (`control pilot`,
`contactor welded`, ...) are looked for within a few words of each other. The longest
family term found decides; two different categories at the same length decide
nothing, because a tie is a guess. All vocabulary lives in the YAML; this module only
knows how to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.kb.types import KBEntry

MAX_WORDS = 40  # a code or info text longer than this is read from its first words
WINDOW_SLACK = 2  # a term's words may have this many other words between them
MIN_SPLIT = 3  # both halves of a joined word must be at least this long

_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")  # RCDTripped -> RCD Tripped
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class WordFamily:
    """One kind of fault its words name: `name` is how evidence refers to it."""

    name: str
    entry: KBEntry  # category, severity, owner, meaning, action of a reading
    terms: tuple[tuple[str, ...], ...]  # each term: words that must all appear close together


@dataclass(frozen=True, slots=True)
class Lexicon:
    words: dict[str, tuple[str, ...]]  # a joined word or abbreviation -> the words it stands for
    cleared: frozenset[str]  # words that say a fault is over or not a fault: no reading
    families: tuple[WordFamily, ...]
    source: str = ""
    # Words that name a link to something (`communication`): with a device's words in the
    # same code, the fault is the device's (`isolation_monitor/CommunicationFault`).
    links: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Reading:
    family: WordFamily
    term: tuple[str, ...]  # the term that decided
    words: tuple[str, ...]  # all words read, after expansion

    @property
    def specific(self) -> bool:
        return len(self.term) > 1


@dataclass(frozen=True, slots=True)
class Declined:
    """The words were read but decide nothing; `why` says so in evidence."""

    why: str


class CodeReader:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._vocab = set(lexicon.words)
        by_word: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for i, family in enumerate(lexicon.families):
            for term in family.terms:
                self._vocab.update(term)
                # Filed under the term's rarest-looking (longest) word: one lookup per word read.
                by_word.setdefault(max(term, key=len), []).append((i, term))
        self._by_word = by_word
        self._read = lru_cache(maxsize=16384)(self._read_uncached)

    # Pickled with the matcher's index (bot.kb.matcher.cached_index): the memo is not kept.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_read"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._read = lru_cache(maxsize=16384)(self._read_uncached)

    def words(self, text: str) -> tuple[str, ...]:
        """The words of a code or text, split and expanded."""
        out: list[str] = []
        for piece in _NON_WORD.sub(" ", text[: MAX_WORDS * 20]).split()[:MAX_WORDS]:
            folded = piece.casefold()
            if folded in self.lexicon.words:  # V2G, 4G, ISO15118: one word, digits and all
                out.extend(self.lexicon.words[folded])
                continue
            split = _CAMEL.sub(" ", _ACRONYM.sub(" ", piece)).casefold().split()
            out.extend(self._expand_split(split))
            if len(out) >= MAX_WORDS:
                break
        return tuple(out[:MAX_WORDS])

    def _expand_split(self, split: list[str]) -> list[str]:
        """Expand split words, first re-joining an abbreviation the split cut at its
        digits: `V2GParameterInvalid` splits into `v 2 g parameter invalid`, and
        `v2g` is one lexicon word."""
        words = self.lexicon.words
        out: list[str] = []
        i = 0
        while i < len(split):
            for n in (3, 2):
                joined = "".join(split[i : i + n])
                if i + n <= len(split) and joined in words and not joined.isalpha():
                    out.extend(words[joined])
                    i += n
                    break
            else:
                out.extend(self._expand(split[i]))
                i += 1
        return out

    def _expand(self, word: str) -> tuple[str, ...]:
        words = self.lexicon.words
        if word in words:
            return words[word]
        if word in self._vocab or word.isdigit():
            return (word,)
        plural = len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is"))
        if plural and (word[:-1] in self._vocab or word[:-1] in words):
            return self._expand(word[:-1])
        if len(word) >= 2 * MIN_SPLIT:  # `overtemperature`, `pilotfault`: two known halves
            for cut in range(MIN_SPLIT, len(word) - MIN_SPLIT + 1):
                head, tail = word[:cut], word[cut:]
                if (head in self._vocab or head in words) and (
                    tail in self._vocab or tail in words
                ):
                    return self._expand(head) + self._expand(tail)
        return (word,)

    def names_a_link(self, text: str) -> bool:
        """The code's words include a link word (`communication`, `comm`)."""
        return bool(self.lexicon.links) and not self.lexicon.links.isdisjoint(self.words(text))

    def read(self, text: str) -> Reading | Declined | None:
        """What the words of `text` name; None when no family word is there at all."""
        return self._read(text) if text else None

    def _read_uncached(self, text: str) -> Reading | Declined | None:
        if _is_code_name(text):
            return None
        words = self.words(text)
        if not words:
            return None
        positions: dict[str, list[int]] = {}
        for i, w in enumerate(words):
            positions.setdefault(w, []).append(i)
        found: list[tuple[int, int, tuple[str, ...]]] = []  # (length, family index, term)
        for word in positions:
            for family_i, term in self._by_word.get(word, ()):
                if _close_together(term, positions):
                    found.append((len(term), family_i, term))
        if not found:
            return None
        cleared = sorted(set(words) & self.lexicon.cleared)
        if cleared:
            return Declined(f"the words {', '.join(cleared)!s} say it is over or not a fault")
        families = self.lexicon.families
        # Per category: its longest term, how many words its terms cover, how many terms.
        best: dict[object, tuple[int, int, tuple[str, ...]]] = {}
        covered: dict[object, set[str]] = {}
        terms: dict[object, int] = {}
        for n, family_i, term in found:
            category = families[family_i].entry.category
            covered.setdefault(category, set()).update(term)
            terms[category] = terms.get(category, 0) + 1
            held = best.get(category)
            if held is None or (n, -family_i) > (held[0], -held[1]):
                best[category] = (n, family_i, term)
        ranked = sorted(
            (((b[0], len(covered[c]), terms[c]), c) for c, b in best.items()),
            key=lambda x: x[0],
            reverse=True,
        )
        if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
            tied = [families[best[c][1]].name for score, c in ranked if score == ranked[0][0]]
            return Declined(f"the words name both {' and '.join(tied)}")
        _, family_i, term = best[ranked[0][1]]
        return Reading(families[family_i], term, words)


_ID_PART = re.compile(r"[A-Za-z]{0,2}[0-9]+")  # a101, L2, 0101 (not 6mA: a measurement)


def _is_code_name(text: str) -> bool:
    """`CP_a101`, `E_OV_02`: short letter prefixes around a number name a code, they do not
    describe it (Tesla's CP is its charge port, not a control pilot)."""
    parts = [p for p in _NON_WORD.sub(" ", text).split() if p]
    if not parts or len(parts) > 4:
        return False
    has_id = any(_ID_PART.fullmatch(p) for p in parts)
    return has_id and all(len(p) <= 3 or _ID_PART.fullmatch(p) for p in parts)


def _close_together(term: tuple[str, ...], positions: dict[str, list[int]]) -> bool:
    """All words of `term` appear, within len(term) + WINDOW_SLACK words of each other."""
    if any(w not in positions for w in term):
        return False
    if len(term) == 1:
        return True
    span = len(term) + WINDOW_SLACK
    for start in positions[term[0]]:
        if all(any(abs(p - start) < span for p in positions[w]) for w in term[1:]):
            return True
    return False
