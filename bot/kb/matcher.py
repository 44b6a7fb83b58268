"""Scoped matching of a fault (vendor, model, firmware, code, text) to a knowledge entry.

Order: operator-taught entries, then within the charger's vendor an exact code, a
normalised code, a bitmask sum, a code embedded in the text; then fuzzy text over
the vendor's phrasings and the cross-vendor phrasings; then the OCPP standard
errorCode (the vendor's own entry for that errorCode first, when exactly one fits:
method "vendor_standard"; "standard" always carries the standard entry). A bare
number of one vendor is never answered from another vendor's manual; when the
vendor is unknown and several manuals share a code with different advice, the answer
says so and its confidence drops (manuals or schemes that give the same advice agree:
that is no ambiguity). Everything is precomputed at construction; repeated queries
are served from an LRU cache.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from threading import Lock
from typing import TYPE_CHECKING, TypeVar

from rapidfuzz import fuzz

from bot.kb.knowledge import UNINFORMATIVE_ERROR_CODES, KnowledgeBase, PhrasingBlock, VendorSpec
from bot.kb.normalize import (
    CODE_LIMIT,
    TEXT_LIMIT,
    CodeFormat,
    bit_value,
    candidate_keys,
    clean,
    index_key,
    is_distinctive,
    is_numeric_code,
    loose_keys,
    process_text,
    symbol_key,
)
from bot.kb.phrases import PhraseIndex
from bot.kb.reader import CodeReader, Declined, Reading
from bot.kb.scope import in_firmware_range, model_matches
from bot.kb.types import KBEntry, Match, MatchQuery
from bot.kb.vendors import vendor_key
from bot.vocab import Category, Owner, Severity

if TYPE_CHECKING:
    from bot.kb.runtime import RuntimeEntries

# Confidence by how a match was made (DESIGN: the score becomes the confidence).
C_EXACT_SCOPED, C_EXACT, C_TAUGHT = 0.97, 0.96, 0.95
C_NORMALISED, C_SCHEME, C_BITMASK, C_EMBEDDED = 0.9, 0.85, 0.85, 0.85
C_BITMASK_PARTIAL, C_STANDARD = 0.6, 0.6
# The vendor's own entry for a standard errorCode (Compleo sends GroundFailure, not a code);
# less when the charger also sent a vendor code we could not read.
C_VENDOR_STANDARD, C_VENDOR_STANDARD_UNREAD = 0.8, 0.7
C_OTHER_VENDOR_DISTINCT, C_OTHER_VENDOR_NUMBER, C_OTHER_VENDOR_GUESS = 0.75, 0.45, 0.3
C_AMBIGUOUS_AGREE, C_AMBIGUOUS_DISAGREE, C_AMBIGUOUS_TEXT = 0.4, 0.3, 0.7
C_UNKNOWN = 0.1
# Another maker's manual for a charger that names no maker: a guess, below 0.5.
C_BORROWED = 0.45
# The code-text reader: modest, and always below a table match.
C_WORDS, C_WORDS_STEP, C_WORDS_MAX = 0.5, 0.1, 0.7
FUZZY_CUTOFF = 88.0  # token_set_ratio; below this "over temperature" ~ "under temperature"
SCOPE_UNKNOWN_PENALTY, SCOPE_RIVAL_PENALTY = 0.15, 0.3
SHOW = 60  # longest piece of charger-sent text quoted back in evidence
CACHE_SIZE = 4096

_MARKED = re.compile(
    r"\[([^\[\]]{1,40})\]|\(([^()]{1,40})\)|#([\w\-]{1,40})"
    r"|\b(?:error|err|code|fault)\b[\s:#=]{0,3}([\w\-]{1,40})|^([\w\-]{1,40})\s{0,3}:",
    re.IGNORECASE,
)
_HAS_WORD = re.compile(r"[a-z]{3,}")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[_\-][A-Za-z0-9]+)*")
_MAX_TOKENS = 24
_P = TypeVar("_P")


def show(text: str) -> str:
    """Charger-sent text as quoted in evidence: short, one line."""
    return text if len(text) <= SHOW else text[: SHOW - 1] + "…"


def _scaled(score: float, low: float, high: float) -> float:
    return round(low + (score - FUZZY_CUTOFF) / (100 - FUZZY_CUTOFF) * (high - low), 3)


@dataclass(slots=True)
class _VendorIndex:
    spec: VendorSpec
    raw: dict[str, list[KBEntry]] = field(default_factory=dict)  # casefolded as written
    keys: dict[str, list[KBEntry]] = field(default_factory=dict)  # normalised
    bits: dict[int, list[KBEntry]] = field(default_factory=dict)
    # symbol_key(ocpp_error_code) -> entries the vendor sends with that errorCode
    by_error: dict[str, list[KBEntry]] = field(default_factory=dict)
    text: PhraseIndex[KBEntry] = field(default_factory=lambda: PhraseIndex(()))


@dataclass(slots=True)
class _Hit:
    entry: KBEntry
    confidence: float
    method: str
    evidence: list[str]
    parts: tuple[KBEntry, ...] = ()


def _rank(entry: KBEntry, model: str, firmware: str) -> int | None:
    """How specifically `entry` fits the charger; None when it is out of scope."""
    score = 0
    if entry.models:
        if model:
            if not model_matches(entry.models, model):
                return None
            score += 2
        else:
            score -= 1
    if entry.firmware:
        fits = in_firmware_range(entry.firmware, firmware) if firmware else None
        if fits is False:
            return None
        score += 1 if fits else -1
    return score


def _severity_rank(entry: KBEntry | None) -> int:
    return entry.severity.rank if entry is not None else 0


def _scope_text(entry: KBEntry) -> str:
    parts = []
    if entry.models:
        parts.append("models " + ", ".join(entry.models))
    if entry.firmware:
        parts.append("firmware " + entry.firmware)
    return "; ".join(parts) or "all models"


class Matcher:
    def __init__(
        self,
        kb: KnowledgeBase,
        runtime: RuntimeEntries | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.kb = kb
        self.runtime = runtime
        self._vendors: dict[str, _VendorIndex] = {}
        self._global: dict[CodeFormat, dict[str, list[KBEntry]]] = {}
        for name, spec in kb.vendors.items():
            self._vendors[name] = self._index_vendor(spec, kb.entries_for(name))
        for index in self._vendors.values():
            table = self._global.setdefault(index.spec.code_format, {})
            for key, entries in index.keys.items():
                table.setdefault(key, []).extend(entries)
        self._schemes = [i for i in self._vendors.values() if i.spec.scheme]
        self._phrases: PhraseIndex[PhrasingBlock] = PhraseIndex(
            (phrase, block) for block in kb.phrasings for phrase in block.phrases
        )
        self._vetoes = [
            (process_text(p), block.category) for block in kb.phrasings for p in block.not_phrases
        ]
        # Every vendor's phrasings, for text when the vendor is unknown.
        self._all_text: PhraseIndex[KBEntry] = PhraseIndex(
            (p, e) for e in kb.entries if e.vendor is not None for p in e.phrasings
        )
        self._reader = CodeReader(kb.lexicon) if kb.lexicon is not None else None
        self._runtime_generation = -1
        self._runtime_index: dict[str, dict[str, list[KBEntry]]] = {}
        self._runtime_lock = Lock()
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[object, ...], Match] = OrderedDict()
        self._cache_lock = Lock()
        self.cache_hits = 0

    # -- construction ----------------------------------------------------------------
    @staticmethod
    def _index_vendor(spec: VendorSpec, entries: list[KBEntry]) -> _VendorIndex:
        fmt = spec.code_format
        index = _VendorIndex(spec)
        texts: list[tuple[str, KBEntry]] = []
        for entry in entries:
            for spelling in (entry.code or "", *entry.aliases):
                if not spelling:
                    continue
                index.raw.setdefault(spelling.casefold(), []).append(entry)
                key = index_key(spelling, fmt)
                if key:
                    bucket = index.keys.setdefault(key, [])
                    if entry not in bucket:
                        bucket.append(entry)
                if fmt.bitmask and spelling == entry.code:
                    value = bit_value(key, fmt)
                    if value:
                        index.bits.setdefault(value, []).append(entry)
                if not is_numeric_code(spelling):
                    texts.append((spelling, entry))
            texts.extend((p, entry) for p in entry.phrasings)
            error_key = symbol_key(entry.ocpp_error_code or "")
            if error_key and error_key not in UNINFORMATIVE_ERROR_CODES:
                index.by_error.setdefault(error_key, []).append(entry)
        index.text = PhraseIndex(texts)
        return index

    # -- public ----------------------------------------------------------------------
    def match(self, q: MatchQuery) -> Match:
        """The best knowledge for this fault; repeats come from an LRU cache."""
        generation = self._refresh_runtime()
        key = (*self._key(q), generation)
        if self._cache_size:
            with self._cache_lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    self.cache_hits += 1
                    return _copy(hit)
        result = self._match(*key[:-1])
        if self._cache_size:
            with self._cache_lock:
                self._cache[key] = result
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return _copy(result)

    def match_uncached(self, q: MatchQuery) -> Match:
        self._refresh_runtime()
        return self._match(*self._key(q))

    @staticmethod
    def _key(q: MatchQuery) -> tuple[str, str, str, str, str, str]:
        return (
            clean(q.vendor, 255),
            clean(q.model, 100),
            clean(q.firmware, 100),
            clean(q.code, CODE_LIMIT),
            clean(q.info, TEXT_LIMIT),
            clean(q.error_code, 120),
        )

    # -- runtime (operator-taught) entries ------------------------------------------
    def _refresh_runtime(self) -> int:
        if self.runtime is None:
            return 0
        generation, entries = self.runtime.snapshot()
        if generation != self._runtime_generation:
            with self._runtime_lock:
                index: dict[str, dict[str, list[KBEntry]]] = {}
                for entry in entries:
                    table = index.setdefault(vendor_key(entry.vendor or ""), {})
                    for key in loose_keys(entry.code or ""):
                        table.setdefault(key, []).append(entry)
                self._runtime_index = index
                self._runtime_generation = generation
        return generation

    def _taught(
        self, vendor: str, fmt: CodeFormat, code: str, model: str, firmware: str, ev: list[str]
    ) -> _Hit | None:
        table = self._runtime_index.get(vendor_key(vendor))
        entries = _first_listed(table.get, candidate_keys(code, fmt)) if table else None
        chosen = self._choose(entries, model, firmware, ev, code, vendor) if entries else None
        if chosen is None:
            return None
        entry, penalty = chosen
        ev.append(
            f"vendorErrorCode {show(code)} matched the entry {entry.source} "
            f"for {entry.vendor} (exact, score 100)"
        )
        return _Hit(entry, round(C_TAUGHT - penalty, 3), "exact", ev)

    # -- the steps -------------------------------------------------------------------
    def _match(
        self, vendor_sent: str, model: str, firmware: str, code: str, info: str, error_code: str
    ) -> Match:
        codes = split_codes(code)
        if len(codes) > 1:
            return self._match_many(vendor_sent, model, firmware, codes, info, error_code)
        return self._match_one(vendor_sent, model, firmware, code, info, error_code)

    def _match_many(
        self,
        vendor_sent: str,
        model: str,
        firmware: str,
        codes: tuple[str, ...],
        info: str,
        error_code: str,
    ) -> Match:
        """A value carrying several concurrent codes: each is read on its own, with its own
        measurement from `info` when `info` lists one per code; the most severe one leads."""
        infos = split_codes(info)
        paired = infos if len(infos) == len(codes) else ("",) * len(codes)
        results = [
            self._match_one(vendor_sent, model, firmware, c, i, error_code)
            for c, i in zip(codes, paired, strict=True)
        ]
        lead_i = max(
            range(len(results)),
            key=lambda i: (
                results[i].entry is not None,
                _severity_rank(results[i].entry),
                results[i].confidence,
                -i,
            ),
        )
        lead = results[lead_i]
        listed = []
        for c, i, r in zip(codes, paired, results, strict=True):
            said = f"{show(c)} ({show(i)})" if i else show(c)
            what = (
                f"{r.entry.category.value}, {r.entry.severity.value}, confidence {r.confidence}"
                if r.entry
                else "unknown"
            )
            listed.append(f"{said}: {what}")
        ev = [
            f"vendorErrorCode carries {len(codes)} codes, each read on its own: "
            + "; ".join(listed)
        ]
        if not any(i for i in paired) and info:
            ev.append(f"info {show(info)} does not give one value per code")
        if lead.entry is None:
            ev.extend(lead.evidence)
            return Match(None, C_UNKNOWN, "none", ev, lead.vendor, lead.ambiguous, hint=lead.hint)
        ev.append(f"the most severe, {show(codes[lead_i])}, leads:")
        ev.extend(lead.evidence)
        parts = tuple(r.entry for r in results if r.entry is not None)
        return Match(
            lead.entry, lead.confidence, lead.method, list(dict.fromkeys(ev)), lead.vendor,
            lead.ambiguous, parts, lead.hint, lead.borrowed_from,
        )  # fmt: skip

    def _match_one(
        self, vendor_sent: str, model: str, firmware: str, code: str, info: str, error_code: str
    ) -> Match:
        ev: list[str] = []
        canonical, how = (
            self.kb.resolve_vendor_how(vendor_sent, model) if vendor_sent or model else (None, "")
        )
        if canonical and how == "model":
            ev.append(f"vendor {canonical} inferred from model {show(model)}")
        elif canonical and vendor_sent != canonical:
            ev.append(f"vendor {show(vendor_sent)} is {canonical}")
        elif not canonical and vendor_sent:
            ev.append(f"vendor {show(vendor_sent)} is not in the knowledge base")
        index = self._vendors.get(canonical) if canonical else None
        fmt = index.spec.code_format if index else CodeFormat.DECIMAL
        # Scope before similarity: a charger that names a maker we do not know never gets
        # another maker's manual as its answer, only as a labelled hint.
        named_stranger = canonical is None and bool(vendor_sent)

        hit: _Hit | None = None
        hint: str | None = None
        ambiguous: tuple[str, ...] = ()
        if code and (canonical or vendor_sent):
            hit = self._taught(canonical or vendor_sent, fmt, code, model, firmware, ev)
        if hit is None and index is not None and (code or info):
            hit = self._in_vendor(index, code, info, model, firmware, ev)
        elif hit is None and index is None and (code or info):
            found = self._other_vendors(code, info, error_code, model, firmware, named_stranger, ev)
            if found is not None:
                hit, ambiguous = found
                if named_stranger and self._borrowed(hit.entry, code):
                    hint = _hint(hit.entry, code or info, vendor_sent)
                    ev = [*ev[:1], f"hint, not used for the answer: {hint}"]
                    hit, ambiguous = None, ()
        if hit is None:
            hit = self._text_or_standard(
                index, code, info, error_code, ev, model, firmware, borrow=not named_stranger
            )
        if self._reader is not None and hit is not None and hit.method == "phrasing":
            hit = self._link_to_a_device(hit, code, info, error_code, ev)
        if self._reader is not None and (hit is None or hit.method == "standard"):
            hit = self._with_words(hit, code, info, error_code, ev)
        if hit is None:
            ev.append("no knowledge-base entry matched: unknown")
            return Match(
                None, C_UNKNOWN, "none", list(dict.fromkeys(ev)), canonical, ambiguous,
                hint=hint,
            )  # fmt: skip
        borrowed_from = None
        if canonical is None and self._borrowed(hit.entry, code):
            # No vendor named at all: another maker's manual is only a guess, and says whose.
            borrowed_from = hit.entry.vendor
            if hit.confidence >= C_BORROWED:
                hit.confidence = C_BORROWED
            hit.evidence.append(
                f"a guess from {borrowed_from}'s manual: the charger names no vendor, "
                f"so this may be another maker's meaning (confidence capped at {C_BORROWED})"
            )
        evidence = list(dict.fromkeys(hit.evidence))  # a step may repeat a scope note
        return Match(
            hit.entry, hit.confidence, hit.method, evidence, canonical, ambiguous, hit.parts,
            hint, borrowed_from,
        )  # fmt: skip

    def _borrowed(self, entry: KBEntry, code: str = "") -> bool:
        """An entry from a maker's manual, or a scheme entry for a code too plain to name
        the scheme (EVgo's `F004` looks like any maker's code; ChargeX's `CX004` does not)."""
        spec = self.kb.vendors.get(entry.vendor or "")
        if spec is None:
            return False
        return not spec.scheme or (bool(code) and not names_a_scheme(code))

    def _link_to_a_device(
        self, hit: _Hit, code: str, info: str, error_code: str, ev: list[str]
    ) -> _Hit:
        """A generic phrasing (`CommunicationFault`, `self-test failed`) inside a code or info
        text that also names a device (`isolation_monitor/CommunicationFault`, `GFI self test
        failed`): the link or the test is *of* that device, so the fault is the device's. Only
        for link words (lexicon `links`) and a specific, several-word reading of another
        category; otherwise the phrasing stands."""
        assert self._reader is not None
        for label, text in (("code", code), ("info text", info)):
            if not text or not self._reader.names_a_link(text):
                continue
            got = self._reader.read(text)
            if not isinstance(got, Reading) or not got.specific:
                continue
            if got.family.entry.category == hit.entry.category:
                return hit
            as_code, as_info = (text, "") if label == "code" else ("", text)
            words = self._with_words(None, as_code, as_info, error_code, list(ev))
            if words is None:
                continue
            words.evidence.append(
                f"a link phrasing pointed to {hit.entry.category.value}; the {label} names "
                f"{got.family.name}, the part the link or test is about, so that decides"
            )
            return words
        return hit

    def _with_words(
        self, hit: _Hit | None, code: str, info: str, error_code: str, ev: list[str]
    ) -> _Hit | None:
        """The code-text reader, when no table explained the code: never above a table entry.
        Only a bare OCPP errorCode answer is compared with it; the errorCode wins a disagreement."""
        assert self._reader is not None
        reading: Reading | None = None
        said, notes = "", []
        for label, raw in (("vendorErrorCode", code), ("info", info)):
            if not raw:
                continue
            got = self._reader.read(raw)
            if isinstance(got, Reading) and got.family.entry.category in self._vetoed(
                process_text(raw)
            ):
                got = Declined(f"{show(raw)} is a known false friend of {got.family.name}")
            if isinstance(got, Declined):
                notes.append(f"the {label}'s words decide nothing: {got.why}")
            elif got is None:
                continue
            elif reading is None:
                reading, said = got, f"{label} {show(raw)}"
            elif got.family.entry.category == reading.family.entry.category:
                notes.append(f"the {label}'s words agree")
            else:  # the code's own words decide; the disagreement is shown
                notes.append(f"the {label}'s words point to {got.family.name} instead")
        if reading is None:
            if hit is not None:
                hit.evidence.extend(notes)
            else:
                ev.extend(notes)
            return hit
        family = reading.family
        confidence = C_WORDS + (C_WORDS_STEP if reading.specific else 0.0)
        confidence += C_WORDS_STEP * sum(1 for n in notes if n.endswith("agree"))
        why = [
            f"{said}: the code's words name {family.name} "
            f"({', '.join(reading.term)}; read as {' '.join(reading.words[:12])!r}; "
            "no manual entry, words only)",
            *notes,
        ]
        if hit is not None:  # the bare OCPP errorCode
            if hit.entry.category == family.entry.category:
                confidence += C_WORDS_STEP
                why.append(f"errorCode {show(error_code)} agrees")
            else:
                hit.evidence.append(
                    f"the words of {said} point to {family.entry.category.value}; "
                    "the errorCode's standard entry is kept"
                )
                return hit
        return _Hit(family.entry, round(min(confidence, C_WORDS_MAX), 3), "words", ev + why)

    def _choose(
        self,
        entries: list[KBEntry],
        model: str,
        firmware: str,
        ev: list[str],
        code: str,
        vendor: str,
    ) -> tuple[KBEntry, float] | None:
        """The most specific in-scope entry and a confidence penalty for doubt about scope."""
        ranked = [(r, e) for e in entries if (r := _rank(e, model, firmware)) is not None]
        if not ranked:
            scopes = "; ".join(sorted({_scope_text(e) for e in entries}))
            charger = ", ".join(
                x
                for x in (
                    f"model {show(model)}" if model else "",
                    f"firmware {show(firmware)}" if firmware else "",
                )
                if x
            )
            ev.append(
                f"{vendor}'s entry for {show(code)} applies only to {scopes}; "
                f"this charger ({charger}) is out of scope"
            )
            return None
        ranked.sort(key=lambda re_: -re_[0])
        best_rank, best = ranked[0]
        penalty = 0.0
        if best_rank < 0:
            penalty = SCOPE_UNKNOWN_PENALTY
            ev.append(f"entry is for {_scope_text(best)}; this charger's model/firmware is unknown")
        rivals = [
            e
            for r, e in ranked[1:]
            if r == best_rank and (e.category, e.meaning) != (best.category, best.meaning)
        ]
        if rivals:
            penalty = max(penalty, SCOPE_RIVAL_PENALTY)
            others = "; ".join(f"{_scope_text(e)}: {e.category.value}" for e in rivals)
            ev.append(f"the meaning differs by model/firmware ({others})")
        return best, penalty

    def _in_vendor(
        self, index: _VendorIndex, code: str, info: str, model: str, firmware: str, ev: list[str]
    ) -> _Hit | None:
        name, fmt = index.spec.name, index.spec.code_format
        if code:
            # (2) exact, as the manual writes it
            entries = index.raw.get(code.casefold())
            listed = bool(entries)
            if entries:
                chosen = self._choose(entries, model, firmware, ev, code, name)
                if chosen:
                    entry, penalty = chosen
                    base = C_EXACT_SCOPED if entry.models or entry.firmware else C_EXACT
                    ev.append(
                        f"vendorErrorCode {show(code)} matched {name} manual entry "
                        f"{entry.code} (exact, score 100)"
                    )
                    return _Hit(entry, round(base - penalty, 3), "exact", ev)
            # (3) normalised
            keys = candidate_keys(code, fmt)
            entries = _first_listed(index.keys.get, keys)
            if entries:
                listed = True
                chosen = self._choose(entries, model, firmware, ev, code, name)
                if chosen:
                    entry, penalty = chosen
                    ev.append(
                        f"vendorErrorCode {show(code)} matched {name} manual entry "
                        f"{entry.code} (normalised, score 100)"
                    )
                    return _Hit(entry, round(C_NORMALISED - penalty, 3), "normalized", ev)
            # (3b) cross-vendor schemes (ChargeX, EVerest...) for distinctive codes only
            if is_distinctive(code):
                hit = self._scheme(code, model, firmware, ev, exclude=name)
                if hit:
                    return hit
            # (4) a sum of bits
            if fmt.bitmask and keys:
                hit = self._bitmask(index, code, keys[0], model, firmware, ev)
                if hit:
                    return hit
            if not listed:
                ev.append(f"vendorErrorCode {show(code)} is not in {name}'s manual")
        # (5) a code embedded in the text
        for source, text in (("vendorErrorCode", code), ("info", info)):
            for token in _embedded_tokens(text, skip=code):
                entries = _first_listed(index.keys.get, candidate_keys(token, fmt))
                if not entries or not (
                    chosen := self._choose(entries, model, firmware, ev, token, name)
                ):
                    continue
                entry, penalty = chosen
                ev.append(
                    f"code {show(token)} in the {source} text matched {name} manual entry "
                    f"{entry.code} (embedded, score 100)"
                )
                return _Hit(entry, round(C_EMBEDDED - penalty, 3), "normalized", ev)
        return None

    def _scheme(
        self, code: str, model: str, firmware: str, ev: list[str], exclude: str | None = None
    ) -> _Hit | None:
        if exclude and not names_a_scheme(code):
            return None  # another maker's plain `F004` is its own code, not EVgo's
        for scheme in self._schemes:
            if scheme.spec.name == exclude:
                continue
            keys = candidate_keys(code, scheme.spec.code_format)
            # as written first, but only for a code that has a key at all
            entries = (scheme.raw.get(code.casefold()) if keys else None) or _first_listed(
                scheme.keys.get, keys
            )
            if not entries or not (
                chosen := self._choose(entries, model, firmware, ev, code, scheme.spec.name)
            ):
                continue
            entry, penalty = chosen
            ev.append(
                f"vendorErrorCode {show(code)} matched {scheme.spec.name} scheme entry "
                f"{entry.code} (cross-vendor scheme, score 100)"
            )
            return _Hit(entry, round(C_SCHEME - penalty, 3), "normalized", ev)
        return None

    def _bitmask(
        self, index: _VendorIndex, code: str, key: str, model: str, firmware: str, ev: list[str]
    ) -> _Hit | None:
        fmt = index.spec.code_format
        value = bit_value(key, fmt)
        if not value or value.bit_length() > 64:
            return None
        bits = [1 << i for i in range(value.bit_length()) if value >> i & 1]
        if len(bits) < 2:
            return None
        parts: list[KBEntry] = []
        unknown: list[int] = []
        for bit in bits:
            entries = index.bits.get(bit)
            chosen = (
                self._choose(entries, model, firmware, [], code, index.spec.name)
                if (entries)
                else None
            )
            if chosen is None:
                unknown.append(bit)
            else:
                parts.append(chosen[0])
        if not parts or len(unknown) > len(parts):
            return None  # mostly unknown bits: this is probably not a sum of known bits
        worst = max(parts, key=lambda e: e.severity.rank)  # first of the most severe
        shown = " + ".join(f"0x{b:X}" if fmt.hex else str(b) for b in bits)
        ev.append(
            f"vendorErrorCode {show(code)} is the {index.spec.name} bitmask {shown}: "
            + ", ".join(f"{p.code} {p.category.value}" for p in parts)
            + f"; the most severe part is {worst.code} (bitmask, score 100)"
        )
        confidence = C_BITMASK
        if unknown:
            missing = ", ".join(f"0x{b:X}" if fmt.hex else str(b) for b in unknown)
            ev.append(f"bits {missing} are not in {index.spec.name}'s manual")
            confidence = C_BITMASK_PARTIAL
        return _Hit(worst, confidence, "bitmask", ev, tuple(parts))

    def _other_vendors(
        self,
        code: str,
        info: str,
        error_code: str,
        model: str,
        firmware: str,
        vendor_named: bool,
        ev: list[str],
    ) -> tuple[_Hit, tuple[str, ...]] | None:
        """The charger's vendor is unknown: look the code up in every manual, honestly."""
        found: dict[str, list[KBEntry]] = {}
        shown_code = code
        tokens = [code] if code else []
        for source_text in (code, info):
            tokens.extend(_embedded_tokens(source_text, skip=code))
        for token in tokens:
            for fmt, table in self._global.items():
                for entry in _first_listed(table.get, candidate_keys(token, fmt)) or ():
                    if _rank(entry, model, firmware) is not None:
                        bucket = found.setdefault(entry.vendor or "", [])
                        if entry not in bucket:
                            bucket.append(entry)
            if found:
                shown_code = token
                break
        if not found:
            return None
        chosen: dict[str, tuple[KBEntry, float]] = {}
        for name, entries in found.items():
            best = self._choose(entries, model, firmware, [], shown_code, name)
            if best is not None:
                chosen[name] = best
        vendors = tuple(sorted(chosen))
        distinct = is_distinctive(shown_code)
        schemes = tuple(v for v in vendors if self.kb.vendors[v].scheme)
        # A distinctive code that a scheme lists is the scheme's; vendors' manuals only decide
        # when no scheme lists it.
        pool = schemes if distinct and schemes else vendors
        said = (
            f"vendorErrorCode {show(code)}"
            if shown_code == code
            else f"code {show(shown_code)} in the text"
        )
        decider = self._text_or_standard(None, "", info, error_code, [], borrow=not vendor_named)
        if len({_advice(chosen[v][0]) for v in pool}) == 1:
            return self._agreed(pool, chosen, said, shown_code, distinct, vendor_named, decider, ev)
        # Several manuals share the code and disagree: let the text or the errorCode decide.
        ev.append(
            f"vendorErrorCode {show(shown_code)} exists for several vendors "
            f"({', '.join(vendors)}) and the charger's vendor is unknown"
        )
        if decider is not None:
            wanted = decider.entry.category
            agreeing = [chosen[v][0] for v in vendors if chosen[v][0].category == wanted]
            ev.extend(decider.evidence)
            confidence = min(decider.confidence, C_AMBIGUOUS_TEXT)
            if agreeing:  # the code matched this entry; the text/errorCode chose among them
                entry = agreeing[0]
                ev.append(
                    f"the text/errorCode points to {wanted.value}: {entry.vendor}'s entry "
                    f"{entry.code} has that meaning"
                )
                return _Hit(entry, confidence, "normalized", ev), vendors
            ev.append(f"the text/errorCode points to {wanted.value}; no listed entry means that")
            return _Hit(decider.entry, confidence, decider.method, ev), vendors
        entries = [chosen[v][0] for v in vendors]
        worst = max(entries, key=lambda e: e.severity.rank)
        if len({e.category for e in entries}) == 1:
            ev.append(
                f"they agree on {worst.category.value} but not on who acts or how urgent it is; "
                f"showing the most severe ({worst.vendor})"
            )
            return _Hit(worst, C_AMBIGUOUS_AGREE, "normalized", ev), vendors
        ev.append(
            "their meanings differ: "
            + "; ".join(f"{v}: {chosen[v][0].category.value}" for v in vendors)
            + f"; showing the most severe ({worst.vendor})"
        )
        return _Hit(worst, C_AMBIGUOUS_DISAGREE, "normalized", ev), vendors

    def _agreed(
        self,
        pool: tuple[str, ...],
        chosen: dict[str, tuple[KBEntry, float]],
        said: str,
        shown_code: str,
        distinct: bool,
        vendor_named: bool,
        decider: _Hit | None,
        ev: list[str],
    ) -> tuple[_Hit, tuple[str, ...]]:
        """One manual lists the code, or all that list it give the same advice: not ambiguous."""
        # The entry that lists the code exactly as sent, else the first by name.
        written = shown_code.casefold()
        name = min(
            pool,
            key=lambda v: (
                written
                not in {s.casefold() for s in (chosen[v][0].code or "", *chosen[v][0].aliases)},
                v,
            ),
        )
        entry, penalty = chosen[name]
        scheme = all(self.kb.vendors[v].scheme for v in pool)
        if scheme:
            confidence, why = C_SCHEME, "cross-vendor scheme"
        elif distinct:
            confidence, why = C_OTHER_VENDOR_DISTINCT, "distinctive code"
        elif vendor_named:
            confidence, why = C_OTHER_VENDOR_GUESS, "the charger's vendor is another one"
        else:
            confidence, why = C_OTHER_VENDOR_NUMBER, "the charger's vendor is unknown"
        confidence = round(confidence - penalty, 3)
        kind = "scheme" if self.kb.vendors[name].scheme else "manual"
        if len(pool) == 1:
            ev.append(
                f"{said} matched {name} {kind} entry {entry.code} (only {name} lists it; {why})"
            )
        else:
            listed = ", ".join(f"{v} ({chosen[v][0].code})" for v in pool)
            who = "schemes" if scheme else "manuals"
            ev.append(
                f"{said} is listed by {listed}; the {who} agree ({entry.category.value}, "
                f"{entry.severity.value}, {entry.owner.value}): answering from {name} {kind} "
                f"entry {entry.code} ({why})"
            )
        if decider is not None and confidence < C_SCHEME:
            if decider.entry.category == entry.category:
                confidence = round(min(max(confidence, decider.confidence) + 0.05, 0.8), 3)
                ev.append(f"the text/errorCode agrees ({entry.category.value})")
            elif decider.confidence > confidence:
                ev.append(f"but {name}'s meaning ({entry.category.value}) may not apply here")
                decider.evidence = ev + decider.evidence
                return decider, pool
        return _Hit(entry, confidence, "normalized", ev), ()

    def _text_or_standard(
        self,
        index: _VendorIndex | None,
        code: str,
        info: str,
        error_code: str,
        ev: list[str],
        model: str = "",
        firmware: str = "",
        borrow: bool = True,
    ) -> _Hit | None:
        """(6) fuzzy text, (7) the standard errorCode (the vendor's own entry for it first);
        the more confident one wins. `borrow`: other makers' phrasings may answer."""
        text = self._text(index, code, info, borrow)
        standard = None
        if index is not None:
            standard = self._vendor_standard(index, error_code, code, model, firmware)
        if standard is None:
            standard = self._standard(error_code, ev)
        if text is not None and standard is not None:
            if text.entry.category == standard.entry.category and (
                standard.method == "vendor_standard" and text.method == "phrasing"
            ):  # the vendor's own advice beats a cross-vendor phrasing of the same fault
                standard.confidence = round(min(standard.confidence + 0.05, 0.9), 3)
                standard.evidence.append(f"the text agrees ({text.evidence[0]})")
                text = None
            elif text.entry.category == standard.entry.category:
                text.confidence = round(min(text.confidence + 0.05, 0.9), 3)
                text.evidence.append(f"errorCode {show(error_code)} agrees")
            elif standard.confidence > text.confidence:
                standard.evidence.append(
                    f"a weaker text match pointed to {text.entry.category.value}"
                )
                text = None
        chosen = text or standard
        if chosen is not None:
            chosen.evidence = ev + chosen.evidence
        return chosen

    def _text(
        self, index: _VendorIndex | None, code: str, info: str, borrow: bool = True
    ) -> _Hit | None:
        """(6) the info text (and a textual code) against phrasings; false friends veto."""
        best: _Hit | None = None
        sources = [("info", info)]
        if code and not is_numeric_code(code):
            sources.append(("vendorErrorCode", code))
        for label, raw in sources:
            query = process_text(raw) if raw else ""
            if len(query) < 3 or not _HAS_WORD.search(query):
                continue  # `F1` is no text: token-set scoring would find it inside any phrase
            vetoed = self._vetoed(query)
            said = f"{label} {show(raw)}"
            candidates: list[_Hit] = []
            if index is not None:
                found = _first_allowed(index.text, query, vetoed, lambda e: e.category)
                if found:
                    score, entry, phrase = found
                    candidates.append(_Hit(entry, _scaled(score, 0.5, 0.85), "fuzzy", [
                        f"{said} matched {index.spec.name} manual entry {entry.code} text "
                        f"{show(phrase)!r} (fuzzy, score {score:.0f})"
                    ]))  # fmt: skip
            block_found = _first_allowed(self._phrases, query, vetoed, lambda b: b.category)
            if block_found:
                score, block, phrase = block_found
                candidates.append(_Hit(block.entry, _scaled(score, 0.5, 0.8), "phrasing", [
                    f"{said} matched the {block.category.value} phrasing {show(phrase)!r} "
                    f"(phrasing, score {score:.0f})"
                ]))  # fmt: skip
            if index is None and borrow:
                found = _first_allowed(self._all_text, query, vetoed, lambda e: e.category)
                if found:
                    score, entry, phrase = found
                    candidates.append(_Hit(entry, _scaled(score, 0.45, 0.75), "fuzzy", [
                        f"{said} matched {entry.vendor} manual entry {entry.code} text "
                        f"{show(phrase)!r} (fuzzy, score {score:.0f}; vendor unknown)"
                    ]))  # fmt: skip
            for category in sorted(vetoed):
                for candidate in candidates:
                    candidate.evidence.append(
                        f"{label} text is a known false friend of {category.value}"
                    )
            for candidate in candidates:  # ties: the vendor's own text, then phrasings
                if best is None or candidate.confidence > best.confidence:
                    best = candidate
        return best

    def _vetoed(self, query: str) -> set[Category]:
        padded = f" {query} "
        return {
            category
            for phrase, category in self._vetoes
            if phrase and (f" {phrase} " in padded or fuzz.ratio(phrase, query) >= 90)
        }

    def _vendor_standard(
        self, index: _VendorIndex, error_code: str, code: str, model: str, firmware: str
    ) -> _Hit | None:
        """The vendor's entry for this standard errorCode, when exactly one entry in scope
        says the vendor sends it (Compleo: GroundFailure is its display letter B)."""
        if not error_code:
            return None
        entries = index.by_error.get(symbol_key(error_code))
        ranked = [(r, e) for e in entries or () if (r := _rank(e, model, firmware)) is not None]
        if len(ranked) != 1:
            return None
        rank, entry = ranked[0]
        name = index.spec.name
        evidence = [
            f"errorCode {show(error_code)} matched {name} manual entry {entry.code}, the one "
            f"{name} sends with that errorCode (vendor's entry preferred over the OCPP standard "
            "entry, score 100)"
        ]
        confidence = C_VENDOR_STANDARD_UNREAD if code else C_VENDOR_STANDARD
        if rank < 0:
            confidence -= SCOPE_UNKNOWN_PENALTY
            evidence.append(
                f"entry is for {_scope_text(entry)}; this charger's model/firmware is unknown"
            )
        return _Hit(entry, round(confidence, 3), "vendor_standard", evidence)

    def _standard(self, error_code: str, ev: list[str]) -> _Hit | None:
        if not error_code:
            return None
        if symbol_key(error_code) in UNINFORMATIVE_ERROR_CODES:
            ev.append(f"errorCode {show(error_code)} says nothing about the cause")
            return None
        entry = self.kb.standard(error_code)
        if entry is None:
            ev.append(
                f"errorCode {show(error_code)} is not a known OCPP errorCode or component/variable"
            )
            return None
        return _Hit(
            entry,
            C_STANDARD,
            "standard",
            [
                f"errorCode {show(error_code)} matched the OCPP standard entry {entry.code} "
                "(standard, score 100)"
            ],
        )

    def cache_clear(self) -> None:
        with self._cache_lock:
            self._cache.clear()


_CODE_LIST = re.compile(r"\s*[,;|]\s*")
MAX_CODES = 8  # a value with more codes than this is read as its first MAX_CODES


def names_a_scheme(code: str) -> bool:
    """Codes distinctive enough to be a scheme's even under another vendor name: at least
    two letters (`CX004`, `MREC8EmergencyStop`), not one letter and digits (`F004`)."""
    return sum(c.isalpha() for c in code) >= 2


def split_codes(value: str) -> tuple[str, ...]:
    """`F12,F31` or `E1; E7` -> the codes it carries; one code stays one."""
    if not value or not any(c in value for c in ",;|"):
        return (value,) if value else ()
    return tuple(p for p in _CODE_LIST.split(value) if p)[:MAX_CODES]


def _hint(entry: KBEntry, code: str, vendor_sent: str) -> str:
    return (
        f"{entry.vendor}'s manual uses {show(code)} for {entry.category.value} "
        f"({show(entry.meaning)}); this charger says it is {show(vendor_sent)}, not {entry.vendor}"
    )


@lru_cache(maxsize=16384)
def _embedded_tokens(text: str, skip: str = "") -> tuple[str, ...]:
    """Codes inside a text: marked ones (`[42300]`, `F400:`, `Err 12`, `#12`) and
    distinctive tokens (`EMERGENCY_STOP_BUTTON_1`, `CX002`). Bare numbers in prose
    ("max 14.0A") are not codes."""
    if not text:
        return ()
    out: list[str] = []
    for m in _MARKED.finditer(text):
        token = next((g for g in m.groups() if g), "").strip()
        if token and token != skip and token not in out:
            out.append(token)
        if len(out) >= _MAX_TOKENS:
            return tuple(out)
    for token in _TOKEN.findall(text):
        if (
            token != skip
            and token not in out
            and is_distinctive(token)
            and (any(c.isdigit() for c in token) or "_" in token)
        ):
            out.append(token)
            if len(out) >= _MAX_TOKENS:
                break
    return tuple(out)


def _advice(entry: KBEntry) -> tuple[Category, Severity, Owner]:
    """What an entry tells people: two entries with the same advice agree."""
    return entry.category, entry.severity, entry.owner


def _first_listed(
    lookup: Callable[[str], list[KBEntry] | None], keys: tuple[str, ...]
) -> list[KBEntry] | None:
    """The entries under the first of `keys` that has any: keys come best reading first,
    so a weaker reading of the code is never tried once a stronger one is listed."""
    for key in keys:
        if entries := lookup(key):
            return entries
    return None


def _first_allowed(
    index: PhraseIndex[_P], query: str, vetoed: set[Category], category: Callable[[_P], Category]
) -> tuple[float, _P, str] | None:
    """The best-scoring choice whose category is not vetoed by a false friend."""
    for score, i in index.search(query, FUZZY_CUTOFF):
        payload = index.payloads[i]
        if category(payload) not in vetoed:
            return score, payload, index.raw[i]
    return None


def _copy(m: Match) -> Match:
    return Match(
        m.entry, m.confidence, m.method, list(m.evidence), m.vendor, m.ambiguous, m.parts,
        m.hint, m.borrowed_from,
    )  # fmt: skip
