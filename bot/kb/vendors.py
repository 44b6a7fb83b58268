"""Vendor resolution: from what a charger sends to the canonical vendor of a manual.

Chargers spell their maker many ways ("ABB", "ABB B.V.", "abb", "Wall Box
Chargers", "Keba AG"). Names are compared after case-folding and removing legal
suffixes and punctuation; a longer string that starts with a known name resolves to
it ("Wall Box Chargers" -> "wallboxchargers" starts with "wallbox"); failing that,
the charger's model can identify the maker through the vendors' model patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.kb.normalize import clean
from bot.kb.scope import compile_glob

_LEGAL = {
    "bv", "nv", "ag", "gmbh", "mbh", "kg", "inc", "incorporated", "ltd", "limited", "llc",
    "corp", "corporation", "co", "company", "sa", "sas", "srl", "spa", "ab", "as", "oy",
    "plc", "pty", "sl", "se", "kft", "sro", "spzoo", "bvba",
}  # fmt: skip
_WORDS = re.compile(r"[a-z0-9]+")
_PREFIX_MIN = 3  # a prefix shorter than this ("uc") is too weak to name a vendor
_REVERSE_MIN = 5  # a sent name shorter than this is too weak to stand for a longer one


def vendor_key(name: str) -> str:
    """`ABB B.V.` -> `abb`, `Keba AG` -> `keba`, `Wall Box Chargers` -> `wallboxchargers`."""
    words = _WORDS.findall(clean(name, 255).casefold().replace("&", " and "))
    # Dotted abbreviations ("B.V.") arrive as single letters: rejoin runs of them.
    joined: list[str] = []
    run = ""
    for w in words:
        if len(w) == 1 and w.isalpha():
            run += w
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(w)
    if run:
        joined.append(run)
    while len(joined) > 1 and joined[-1] in _LEGAL:
        joined.pop()
    return "".join(joined)


@dataclass(frozen=True, slots=True)
class VendorNames:
    """One vendor's identity for resolution: its canonical name, sent strings, model globs."""

    name: str
    sends: tuple[str, ...]
    models: tuple[str, ...]


class VendorResolver:
    """Maps sent vendor strings (and models) to canonical names; built once, cached."""

    def __init__(self, vendors: Iterable[VendorNames]) -> None:
        self._exact: dict[str, str] = {}
        # Model globs as written; compiled on the first lookup by model (_compiled), so a
        # base unpickled from the cache does not recompile ~160 regexes at every start.
        self._models: list[tuple[str, str]] = []
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None
        for v in vendors:
            for sent in (v.name, *v.sends):
                key = vendor_key(sent)
                if key:
                    self._exact.setdefault(key, v.name)
            self._models.extend((p, v.name) for p in v.models)
        # Longest first, so "wallboxchargers" finds "wallbox" before a shorter "wall".
        self._prefixes = sorted(
            ((k, n) for k, n in self._exact.items() if len(k) >= _PREFIX_MIN),
            key=lambda kn: -len(kn[0]),
        )
        self._cache: dict[tuple[str, str], tuple[str | None, str]] = {}
        self._raw: dict[tuple[str | None, str | None], tuple[str | None, str]] = {}

    def resolve(self, sent: str | None, model: str | None = None) -> tuple[str | None, str]:
        """(canonical vendor or None, how it was found: exact/prefix/model/none)."""
        # Every boot asks again with the same strings: look the raw pair up first, so
        # the Unicode clean-up below runs once per distinct pair, not once per boot.
        raw_key = (sent, model)
        hit = self._raw.get(raw_key)
        if hit is not None:
            return hit
        sent_c = clean(sent, 255)
        model_c = clean(model, 100)
        cache_key = (sent_c, model_c)
        hit = self._cache.get(cache_key)
        if hit is None:
            hit = self._resolve(sent_c, model_c)
            if len(self._cache) > 20000:  # vendor strings are few; a flood of junk is not
                self._cache.clear()
            self._cache[cache_key] = hit
        if len(self._raw) > 20000:
            self._raw.clear()
        self._raw[raw_key] = hit
        return hit

    def _resolve(self, sent: str, model: str) -> tuple[str | None, str]:
        key = vendor_key(sent) if sent else ""
        if key:
            if key in self._exact:
                return self._exact[key], "exact"
            for prefix, name in self._prefixes:
                if key.startswith(prefix):
                    return name, "prefix"
            if len(key) >= _REVERSE_MIN:  # "Schneider" for "Schneider Electric", if unique
                names = {n for k, n in self._prefixes if k.startswith(key)}
                if len(names) == 1:
                    return names.pop(), "prefix"
        if model:
            if self._compiled is None:
                self._compiled = [(compile_glob(p), n) for p, n in self._models]
            for pattern, name in self._compiled:
                if pattern.match(model):
                    return name, "model"
        return None, "none"
