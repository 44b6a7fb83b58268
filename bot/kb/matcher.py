"""Scoped matching of a fault (vendor, model, firmware, code, text) to a knowledge entry.

The matcher is three declared tables, read in order (like the triage rules table in
bot.triage.rules): INDEX_STEPS build the index once from the knowledge base,
LOOKUP_STEPS answer one code, SCOPE_RULES decide whether an entry applies to the
charger. Each step is a small function; every evidence sentence comes from
templates/kb/evidence.j2 through bot.kb.wording.

| INDEX_STEPS          | builds                                                        |
|----------------------|---------------------------------------------------------------|
| index_vendors        | per vendor: codes as written, normalised keys, bits, errorCodes, text |
| index_code_formats   | every vendor's normalised keys by code format (vendor unknown) |
| index_schemes        | the cross-vendor schemes (ChargeX, EVerest...)                |
| index_phrasings      | the cross-vendor phrasings                                    |
| index_false_friends  | the phrasings' false friends (they veto a category)           |
| index_vendor_text    | every vendor's phrasings, for text when the vendor is unknown |
| index_code_reader    | the code-text reader over the lexicon                         |

Operator-taught entries are indexed apart (index_taught), again whenever they change.

| LOOKUP_STEPS         | answers when                                                  |
|----------------------|---------------------------------------------------------------|
| resolve_vendor       | (always) names the charger's vendor, from its name or model   |
| taught               | (1) an operator taught this code for this vendor              |
| vendor_exact         | (2) the vendor's manual lists the code as written             |
| vendor_normalised    | (3) ... as normalised (`E-012` = `E12`)                       |
| vendor_scheme        | (3b) a cross-vendor scheme lists this distinctive code        |
| vendor_bitmask       | (4) the code is a sum of the manual's bits                    |
| vendor_unlisted      | (no answer) says the manual does not list the code            |
| vendor_embedded      | (5) a code embedded in the code or info text                  |
| other_vendors        | vendor unknown: every manual, honestly (ambiguity, hints)     |
| text_or_standard     | (6) fuzzy text, (7) the OCPP standard errorCode               |
| link_to_a_device     | a link phrasing inside text that names a device               |
| code_words           | the code-text reader, when no table explained the code        |
| borrowed_guess       | (cap) another maker's manual for a charger naming no maker    |

| SCOPE_RULES          | an entry scoped to ... applies when                           |
|----------------------|---------------------------------------------------------------|
| model_scope          | models: the charger's model fits a glob (unknown model: doubt) |
| firmware_scope       | firmware: the charger's firmware is in range (unknown: doubt) |

A bare number of one vendor is never answered from another vendor's manual; when the
vendor is unknown and several manuals share a code with different advice, the answer
says so and its confidence drops (manuals or schemes that give the same advice agree:
that is no ambiguity). "vendor_standard" is the vendor's own entry for a standard
errorCode, when exactly one fits; "standard" always carries the standard entry. A
value with several codes (`F12,F31`) runs the lookup once per code. Repeated queries
are served from an LRU cache.
"""

from __future__ import annotations

import io
import pickle
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, TypeVar

from rapidfuzz import fuzz

from bot import diskcache
from bot import text as text_module
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
from bot.kb.wording import say
from bot.kb.wording import show as show
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
class _Index:
    """What INDEX_STEPS build from the knowledge base, once; the lookup only reads it."""

    kb: KnowledgeBase
    vendors: dict[str, _VendorIndex] = field(default_factory=dict)
    by_format: dict[CodeFormat, dict[str, list[KBEntry]]] = field(default_factory=dict)
    schemes: list[_VendorIndex] = field(default_factory=list)
    phrases: PhraseIndex[PhrasingBlock] = field(default_factory=lambda: PhraseIndex(()))
    vetoes: list[tuple[str, Category]] = field(default_factory=list)
    all_text: PhraseIndex[KBEntry] = field(default_factory=lambda: PhraseIndex(()))
    reader: CodeReader | None = None
    # operator-taught entries: vendor_key -> loose key -> entries (index_taught)
    taught: dict[str, dict[str, list[KBEntry]]] = field(default_factory=dict)


@dataclass(slots=True)
class _Hit:
    entry: KBEntry
    confidence: float
    method: str
    evidence: list[str]
    parts: tuple[KBEntry, ...] = ()


@dataclass(slots=True)
class _Lookup:
    """One code on its way through LOOKUP_STEPS: the query, what the steps found so far."""

    vendor_sent: str
    model: str
    firmware: str
    code: str
    info: str
    error_code: str
    ev: list[str] = field(default_factory=list)
    canonical: str | None = None  # the vendor as the knowledge base names it
    index: _VendorIndex | None = None  # that vendor's manual
    fmt: CodeFormat = CodeFormat.DECIMAL
    named_stranger: bool = False  # the charger names a maker we do not know
    listed: bool = False  # the vendor's manual lists the code (exact or normalised)
    hit: _Hit | None = None
    hint: str | None = None
    ambiguous: tuple[str, ...] = ()
    borrowed_from: str | None = None


# -- INDEX_STEPS: the index, built once per knowledge base ------------------------------
def index_vendors(ix: _Index) -> None:
    for name, spec in ix.kb.vendors.items():
        ix.vendors[name] = _index_vendor(spec, ix.kb.entries_for(name))


def index_code_formats(ix: _Index) -> None:
    for index in ix.vendors.values():
        table = ix.by_format.setdefault(index.spec.code_format, {})
        for key, entries in index.keys.items():
            table.setdefault(key, []).extend(entries)


def index_schemes(ix: _Index) -> None:
    ix.schemes = [i for i in ix.vendors.values() if i.spec.scheme]


def index_phrasings(ix: _Index) -> None:
    ix.phrases = PhraseIndex(
        (phrase, block) for block in ix.kb.phrasings for phrase in block.phrases
    )


def index_false_friends(ix: _Index) -> None:
    ix.vetoes = [
        (process_text(p), block.category) for block in ix.kb.phrasings for p in block.not_phrases
    ]


def index_vendor_text(ix: _Index) -> None:
    ix.all_text = PhraseIndex(
        (p, e) for e in ix.kb.entries if e.vendor is not None for p in e.phrasings
    )


def index_code_reader(ix: _Index) -> None:
    ix.reader = CodeReader(ix.kb.lexicon) if ix.kb.lexicon is not None else None


def index_taught(ix: _Index, entries: Iterable[KBEntry]) -> None:
    """The operator-taught entries, by vendor and every loose reading of their code."""
    index: dict[str, dict[str, list[KBEntry]]] = {}
    for entry in entries:
        table = index.setdefault(vendor_key(entry.vendor or ""), {})
        for key in loose_keys(entry.code or ""):
            table.setdefault(key, []).append(entry)
    ix.taught = index


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


# -- SCOPE_RULES: does an entry apply to this charger? -----------------------------------
# Each returns points for how specifically the entry fits, or None: out of scope.
def model_scope(entry: KBEntry, model: str, firmware: str) -> int | None:
    if not entry.models:
        return 0
    if not model:
        return -1  # scoped to models, and the charger's model is unknown: doubt
    return 2 if model_matches(entry.models, model) else None


def firmware_scope(entry: KBEntry, model: str, firmware: str) -> int | None:
    if not entry.firmware:
        return 0
    fits = in_firmware_range(entry.firmware, firmware) if firmware else None
    if fits is False:
        return None
    return 1 if fits else -1


def _rank(entry: KBEntry, model: str, firmware: str) -> int | None:
    """How specifically `entry` fits the charger (SCOPE_RULES summed); None when out of scope."""
    score = 0
    for rule in SCOPE_RULES:
        points = rule(entry, model, firmware)
        if points is None:
            return None
        score += points
    return score


def _choose(
    entries: list[KBEntry], model: str, firmware: str, ev: list[str], code: str, vendor: str
) -> tuple[KBEntry, float] | None:
    """The most specific in-scope entry and a confidence penalty for doubt about scope."""
    ranked = [(r, e) for e in entries if (r := _rank(e, model, firmware)) is not None]
    if not ranked:
        ev.append(say("out_of_scope", vendor=vendor, code=code, entries=entries, model=model,
                      firmware=firmware))  # fmt: skip
        return None
    ranked.sort(key=lambda re_: -re_[0])
    best_rank, best = ranked[0]
    penalty = 0.0
    if best_rank < 0:
        penalty = SCOPE_UNKNOWN_PENALTY
        ev.append(say("scope_unknown", entry=best))
    rivals = [
        e
        for r, e in ranked[1:]
        if r == best_rank and (e.category, e.meaning) != (best.category, best.meaning)
    ]
    if rivals:
        penalty = max(penalty, SCOPE_RIVAL_PENALTY)
        ev.append(say("scope_rivals", rivals=rivals))
    return best, penalty


def _severity_rank(entry: KBEntry | None) -> int:
    return entry.severity.rank if entry is not None else 0


# -- LOOKUP_STEPS: one code, in order; a step that finds nothing leaves `hit` empty ---------
def resolve_vendor(ix: _Index, s: _Lookup) -> None:
    canonical, how = (
        ix.kb.resolve_vendor_how(s.vendor_sent, s.model) if s.vendor_sent or s.model else (None, "")
    )
    if canonical and how == "model":
        s.ev.append(say("vendor_from_model", vendor=canonical, model=s.model))
    elif canonical and s.vendor_sent != canonical:
        s.ev.append(say("vendor_alias", sent=s.vendor_sent, vendor=canonical))
    elif not canonical and s.vendor_sent:
        s.ev.append(say("vendor_unknown", sent=s.vendor_sent))
    s.canonical = canonical
    s.index = ix.vendors.get(canonical) if canonical else None
    s.fmt = s.index.spec.code_format if s.index else CodeFormat.DECIMAL
    # Scope before similarity: a charger that names a maker we do not know never gets
    # another maker's manual as its answer, only as a labelled hint.
    s.named_stranger = canonical is None and bool(s.vendor_sent)


def taught(ix: _Index, s: _Lookup) -> None:
    vendor = s.canonical or s.vendor_sent
    if not s.code or not vendor:
        return
    table = ix.taught.get(vendor_key(vendor))
    entries = _first_listed(table.get, candidate_keys(s.code, s.fmt)) if table else None
    chosen = _choose(entries, s.model, s.firmware, s.ev, s.code, vendor) if entries else None
    if chosen is not None:
        entry, penalty = chosen
        s.ev.append(say("taught", code=s.code, entry=entry))
        s.hit = _Hit(entry, round(C_TAUGHT - penalty, 3), "exact", s.ev)


def _in_vendor(s: _Lookup) -> _VendorIndex | None:
    """The vendor's manual, while it is the vendor's manual's turn (nothing found yet)."""
    return s.index if s.hit is None and (s.code or s.info) else None


def vendor_exact(ix: _Index, s: _Lookup) -> None:
    if (index := _in_vendor(s)) is None or not s.code:
        return
    entries = index.raw.get(s.code.casefold())
    s.listed = bool(entries)
    if not entries:
        return
    chosen = _choose(entries, s.model, s.firmware, s.ev, s.code, index.spec.name)
    if chosen:
        entry, penalty = chosen
        base = C_EXACT_SCOPED if entry.models or entry.firmware else C_EXACT
        s.ev.append(say("vendor_exact", code=s.code, vendor=index.spec.name, entry=entry))
        s.hit = _Hit(entry, round(base - penalty, 3), "exact", s.ev)


def vendor_normalised(ix: _Index, s: _Lookup) -> None:
    if (index := _in_vendor(s)) is None or not s.code:
        return
    entries = _first_listed(index.keys.get, candidate_keys(s.code, s.fmt))
    if not entries:
        return
    s.listed = True
    chosen = _choose(entries, s.model, s.firmware, s.ev, s.code, index.spec.name)
    if chosen:
        entry, penalty = chosen
        s.ev.append(say("vendor_normalised", code=s.code, vendor=index.spec.name, entry=entry))
        s.hit = _Hit(entry, round(C_NORMALISED - penalty, 3), "normalized", s.ev)


def vendor_scheme(ix: _Index, s: _Lookup) -> None:
    """Cross-vendor schemes (ChargeX, EVerest...) for distinctive codes only."""
    if (index := _in_vendor(s)) is None or not s.code or not is_distinctive(s.code):
        return
    s.hit = _scheme(ix, s.code, s.model, s.firmware, s.ev, exclude=index.spec.name)


def vendor_bitmask(ix: _Index, s: _Lookup) -> None:
    if (index := _in_vendor(s)) is None or not s.code or not s.fmt.bitmask:
        return
    keys = candidate_keys(s.code, s.fmt)
    if keys:
        s.hit = _bitmask(index, s.code, keys[0], s.model, s.firmware, s.ev)


def vendor_unlisted(ix: _Index, s: _Lookup) -> None:
    if (index := _in_vendor(s)) is not None and s.code and not s.listed:
        s.ev.append(say("not_in_manual", code=s.code, vendor=index.spec.name))


def vendor_embedded(ix: _Index, s: _Lookup) -> None:
    if (index := _in_vendor(s)) is None:
        return
    name = index.spec.name
    for source, text in (("vendorErrorCode", s.code), ("info", s.info)):
        for token in _embedded_tokens(text, skip=s.code):
            entries = _first_listed(index.keys.get, candidate_keys(token, s.fmt))
            if not entries or not (
                chosen := _choose(entries, s.model, s.firmware, s.ev, token, name)
            ):
                continue
            entry, penalty = chosen
            s.ev.append(say("embedded", token=token, source=source, vendor=name, entry=entry))
            s.hit = _Hit(entry, round(C_EMBEDDED - penalty, 3), "normalized", s.ev)
            return


def other_vendors(ix: _Index, s: _Lookup) -> None:
    """The charger's vendor is unknown: look the code up in every manual, honestly. A maker
    we do not know gets another maker's reading only as a hint."""
    if s.hit is not None or s.index is not None or not (s.code or s.info):
        return
    found = _other_vendors(ix, s)
    if found is None:
        return
    s.hit, s.ambiguous = found
    if s.named_stranger and _borrowed(ix, s.hit.entry, s.code):
        s.hint = say("hint", entry=s.hit.entry, code=s.code or s.info, sent=s.vendor_sent)
        s.ev = [*s.ev[:1], say("hint_only", hint=s.hint)]
        s.hit, s.ambiguous = None, ()


def text_or_standard(ix: _Index, s: _Lookup) -> None:
    if s.hit is None:
        s.hit = _text_or_standard(ix, s.index, s.code, s.info, s.error_code, s.ev, s.model,
                                  s.firmware, borrow=not s.named_stranger)  # fmt: skip


def link_to_a_device(ix: _Index, s: _Lookup) -> None:
    if ix.reader is not None and s.hit is not None and s.hit.method == "phrasing":
        s.hit = _link_to_a_device(ix, ix.reader, s.hit, s.code, s.info, s.error_code, s.ev)


def code_words(ix: _Index, s: _Lookup) -> None:
    if ix.reader is not None and (s.hit is None or s.hit.method == "standard"):
        s.hit = _with_words(ix, ix.reader, s.hit, s.code, s.info, s.error_code, s.ev)


def borrowed_guess(ix: _Index, s: _Lookup) -> None:
    """No vendor named at all: another maker's manual is only a guess, and says whose."""
    if s.hit is None or s.canonical is not None or not _borrowed(ix, s.hit.entry, s.code):
        return
    s.borrowed_from = s.hit.entry.vendor
    if s.hit.confidence >= C_BORROWED:
        s.hit.confidence = C_BORROWED
    s.hit.evidence.append(say("borrowed", vendor=s.borrowed_from, cap=C_BORROWED))


Step = Callable[[_Index, _Lookup], None]
ScopeRule = Callable[[KBEntry, str, str], int | None]

INDEX_STEPS: tuple[Callable[[_Index], None], ...] = (
    index_vendors,
    index_code_formats,
    index_schemes,
    index_phrasings,
    index_false_friends,
    index_vendor_text,
    index_code_reader,
)

LOOKUP_STEPS: tuple[Step, ...] = (
    resolve_vendor,
    taught,
    vendor_exact,
    vendor_normalised,
    vendor_scheme,
    vendor_bitmask,
    vendor_unlisted,
    vendor_embedded,
    other_vendors,
    text_or_standard,
    link_to_a_device,
    code_words,
    borrowed_guess,
)

SCOPE_RULES: tuple[ScopeRule, ...] = (model_scope, firmware_scope)


def build_index(kb: KnowledgeBase) -> _Index:
    ix = _Index(kb)
    for step in INDEX_STEPS:
        step(ix)
    return ix


def cached_index(kb: KnowledgeBase) -> _Index:
    """build_index, kept in the per-user cache (bot.diskcache) for a base read by
    load_knowledge: its key names the knowledge files and bot.kb's code (this module
    included); bot/text.py, which normalises the indexed text, is added here. Unpickling
    (~5 ms) replaces building (~30 ms). The base's own objects are pickled as references
    (_KBPickler), so the index points at this `kb`'s entries, not at copies."""
    if kb.source_key is None:
        return build_index(kb)
    try:
        text_code = Path(text_module.__file__ or "").read_bytes()
    except OSError:
        return build_index(kb)
    key = diskcache.key_of("matcher", [kb.source_key, text_code])
    objects = _kb_objects(kb)
    ix = diskcache.load_decoded(key, lambda data: _KBUnpickler(io.BytesIO(data), objects).load())
    if isinstance(ix, _Index) and ix.kb is kb:
        return ix
    ix = build_index(kb)
    buffer = io.BytesIO()
    try:
        _KBPickler(buffer, objects).dump(ix)
    except Exception:  # an unpicklable index is built each time, as before the cache
        return ix
    diskcache.store(key, buffer.getvalue())
    return ix


def _kb_objects(kb: KnowledgeBase) -> list[object]:
    """The base's objects the index refers to, in an order fixed by the base."""
    return [
        kb, *kb.entries, *kb.standards.values(), *kb.vendors.values(), *kb.phrasings,
        *([kb.lexicon] if kb.lexicon is not None else []),
    ]  # fmt: skip


class _KBPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, objects: list[object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._ids: dict[int, int] = {}
        for i, obj in enumerate(objects):
            self._ids.setdefault(id(obj), i)

    def persistent_id(self, obj: object) -> int | None:
        return self._ids.get(id(obj))


class _KBUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, objects: list[object]) -> None:
        super().__init__(file)
        self._objects = objects

    def persistent_load(self, pid: object) -> object:
        if not isinstance(pid, int) or not 0 <= pid < len(self._objects):
            raise pickle.UnpicklingError(pid)  # not from this base: rebuild (cached_index)
        return self._objects[pid]


def lookup(ix: _Index, vendor_sent: str, model: str, firmware: str, code: str, info: str,
           error_code: str) -> Match:  # fmt: skip
    """One code through LOOKUP_STEPS; the answer, or an honest unknown."""
    s = _Lookup(vendor_sent, model, firmware, code, info, error_code)
    for step in LOOKUP_STEPS:
        step(ix, s)
    if s.hit is None:
        s.ev.append(say("unknown"))
        return Match(None, C_UNKNOWN, "none", list(dict.fromkeys(s.ev)), s.canonical,
                     s.ambiguous, hint=s.hint)  # fmt: skip
    evidence = list(dict.fromkeys(s.hit.evidence))  # a step may repeat a scope note
    return Match(
        s.hit.entry, s.hit.confidence, s.hit.method, evidence, s.canonical, s.ambiguous,
        s.hit.parts, s.hint, s.borrowed_from,
    )  # fmt: skip


def lookup_many(ix: _Index, vendor_sent: str, model: str, firmware: str,
                codes: tuple[str, ...], info: str, error_code: str) -> Match:  # fmt: skip
    """A value carrying several concurrent codes: each is read on its own, with its own
    measurement from `info` when `info` lists one per code; the most severe one leads."""
    infos = split_codes(info)
    paired = infos if len(infos) == len(codes) else ("",) * len(codes)
    results = [
        lookup(ix, vendor_sent, model, firmware, c, i, error_code)
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
    ev = [say("many_codes", codes=codes, infos=paired, results=results)]
    if not any(i for i in paired) and info:
        ev.append(say("info_not_per_code", info=info))
    if lead.entry is None:
        ev.extend(lead.evidence)
        return Match(None, C_UNKNOWN, "none", ev, lead.vendor, lead.ambiguous, hint=lead.hint)
    ev.append(say("most_severe_leads", code=codes[lead_i]))
    ev.extend(lead.evidence)
    parts = tuple(r.entry for r in results if r.entry is not None)
    return Match(
        lead.entry, lead.confidence, lead.method, list(dict.fromkeys(ev)), lead.vendor,
        lead.ambiguous, parts, lead.hint, lead.borrowed_from,
    )  # fmt: skip


class Matcher:
    def __init__(
        self,
        kb: KnowledgeBase,
        runtime: RuntimeEntries | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.kb = kb
        self.runtime = runtime
        self._ix = cached_index(kb)
        self._runtime_generation = -1
        self._runtime_lock = Lock()
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[object, ...], Match] = OrderedDict()
        self._cache_lock = Lock()
        self.cache_hits = 0

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

    def _refresh_runtime(self) -> int:
        if self.runtime is None:
            return 0
        generation, entries = self.runtime.snapshot()
        if generation != self._runtime_generation:
            with self._runtime_lock:
                index_taught(self._ix, entries)
                self._runtime_generation = generation
        return generation

    def _match(
        self, vendor_sent: str, model: str, firmware: str, code: str, info: str, error_code: str
    ) -> Match:
        codes = split_codes(code)
        if len(codes) > 1:
            return lookup_many(self._ix, vendor_sent, model, firmware, codes, info, error_code)
        return lookup(self._ix, vendor_sent, model, firmware, code, info, error_code)

    def cache_clear(self) -> None:
        with self._cache_lock:
            self._cache.clear()


# -- the steps' helpers -------------------------------------------------------------------
def _borrowed(ix: _Index, entry: KBEntry, code: str = "") -> bool:
    """An entry from a maker's manual, or a scheme entry for a code too plain to name
    the scheme (EVgo's `F004` looks like any maker's code; ChargeX's `CX004` does not)."""
    spec = ix.kb.vendors.get(entry.vendor or "")
    if spec is None:
        return False
    return not spec.scheme or (bool(code) and not names_a_scheme(code))


def _scheme(
    ix: _Index, code: str, model: str, firmware: str, ev: list[str], exclude: str | None = None
) -> _Hit | None:
    if exclude and not names_a_scheme(code):
        return None  # another maker's plain `F004` is its own code, not EVgo's
    for scheme in ix.schemes:
        if scheme.spec.name == exclude:
            continue
        keys = candidate_keys(code, scheme.spec.code_format)
        # as written first, but only for a code that has a key at all
        entries = (scheme.raw.get(code.casefold()) if keys else None) or _first_listed(
            scheme.keys.get, keys
        )
        if not entries or not (
            chosen := _choose(entries, model, firmware, ev, code, scheme.spec.name)
        ):
            continue
        entry, penalty = chosen
        ev.append(say("scheme", code=code, scheme=scheme.spec.name, entry=entry))
        return _Hit(entry, round(C_SCHEME - penalty, 3), "normalized", ev)
    return None


def _bitmask(
    index: _VendorIndex, code: str, key: str, model: str, firmware: str, ev: list[str]
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
        chosen = _choose(entries, model, firmware, [], code, index.spec.name) if entries else None
        if chosen is None:
            unknown.append(bit)
        else:
            parts.append(chosen[0])
    if not parts or len(unknown) > len(parts):
        return None  # mostly unknown bits: this is probably not a sum of known bits
    worst = max(parts, key=lambda e: e.severity.rank)  # first of the most severe
    name = index.spec.name
    ev.append(say("bitmask", code=code, vendor=name, values=bits, hex=fmt.hex, parts=parts,
                  worst=worst))  # fmt: skip
    confidence = C_BITMASK
    if unknown:
        ev.append(say("bits_unknown", values=unknown, hex=fmt.hex, vendor=name))
        confidence = C_BITMASK_PARTIAL
    return _Hit(worst, confidence, "bitmask", ev, tuple(parts))


def _other_vendors(ix: _Index, s: _Lookup) -> tuple[_Hit, tuple[str, ...]] | None:
    """Every manual that lists the code (or a code in the text) and fits the charger."""
    code, model, firmware, ev = s.code, s.model, s.firmware, s.ev
    found: dict[str, list[KBEntry]] = {}
    shown_code = code
    tokens = [code] if code else []
    for source_text in (code, s.info):
        tokens.extend(_embedded_tokens(source_text, skip=code))
    for token in tokens:
        for fmt, table in ix.by_format.items():
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
        best = _choose(entries, model, firmware, [], shown_code, name)
        if best is not None:
            chosen[name] = best
    vendors = tuple(sorted(chosen))
    distinct = is_distinctive(shown_code)
    schemes = tuple(v for v in vendors if ix.kb.vendors[v].scheme)
    # A distinctive code that a scheme lists is the scheme's; vendors' manuals only decide
    # when no scheme lists it.
    pool = schemes if distinct and schemes else vendors
    said = (
        say("said", label="vendorErrorCode", raw=code)
        if shown_code == code
        else say("code_in_text", code=shown_code)
    )
    decider = _text_or_standard(ix, None, "", s.info, s.error_code, [],
                                borrow=not s.named_stranger)  # fmt: skip
    if len({_advice(chosen[v][0]) for v in pool}) == 1:
        return _agreed(ix, pool, chosen, said, shown_code, distinct, s.named_stranger, decider,
                       ev)  # fmt: skip
    # Several manuals share the code and disagree: let the text or the errorCode decide.
    ev.append(say("several_vendors", code=shown_code, vendors=vendors))
    if decider is not None:
        wanted = decider.entry.category
        agreeing = [chosen[v][0] for v in vendors if chosen[v][0].category == wanted]
        ev.extend(decider.evidence)
        confidence = min(decider.confidence, C_AMBIGUOUS_TEXT)
        if agreeing:  # the code matched this entry; the text/errorCode chose among them
            entry = agreeing[0]
            ev.append(say("decider_picks", wanted=wanted, entry=entry))
            return _Hit(entry, confidence, "normalized", ev), vendors
        ev.append(say("decider_none", wanted=wanted))
        return _Hit(decider.entry, confidence, decider.method, ev), vendors
    entries = [chosen[v][0] for v in vendors]
    worst = max(entries, key=lambda e: e.severity.rank)
    if len({e.category for e in entries}) == 1:
        ev.append(say("vendors_agree_on_category", worst=worst))
        return _Hit(worst, C_AMBIGUOUS_AGREE, "normalized", ev), vendors
    ev.append(say("vendors_disagree", meanings=[(v, chosen[v][0]) for v in vendors], worst=worst))
    return _Hit(worst, C_AMBIGUOUS_DISAGREE, "normalized", ev), vendors


def _agreed(
    ix: _Index,
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
    scheme = all(ix.kb.vendors[v].scheme for v in pool)
    if scheme:
        confidence, why = C_SCHEME, "scheme"
    elif distinct:
        confidence, why = C_OTHER_VENDOR_DISTINCT, "distinct"
    elif vendor_named:
        confidence, why = C_OTHER_VENDOR_GUESS, "named"
    else:
        confidence, why = C_OTHER_VENDOR_NUMBER, "unnamed"
    confidence = round(confidence - penalty, 3)
    is_scheme = ix.kb.vendors[name].scheme
    if len(pool) == 1:
        ev.append(say("only_lister", said=said, name=name, scheme=is_scheme, entry=entry, why=why))
    else:
        ev.append(say("listers_agree", said=said, listed=[(v, chosen[v][0]) for v in pool],
                      all_schemes=scheme, name=name, scheme=is_scheme, entry=entry,
                      why=why))  # fmt: skip
    if decider is not None and confidence < C_SCHEME:
        if decider.entry.category == entry.category:
            confidence = round(min(max(confidence, decider.confidence) + 0.05, 0.8), 3)
            ev.append(say("decider_agrees", category=entry.category))
        elif decider.confidence > confidence:
            ev.append(say("may_not_apply", name=name, category=entry.category))
            decider.evidence = ev + decider.evidence
            return decider, pool
    return _Hit(entry, confidence, "normalized", ev), ()


def _text_or_standard(
    ix: _Index,
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
    text = _text(ix, index, code, info, borrow)
    standard = None
    if index is not None:
        standard = _vendor_standard(index, error_code, code, model, firmware)
    if standard is None:
        standard = _standard(ix, error_code, ev)
    if text is not None and standard is not None:
        if text.entry.category == standard.entry.category and (
            standard.method == "vendor_standard" and text.method == "phrasing"
        ):  # the vendor's own advice beats a cross-vendor phrasing of the same fault
            standard.confidence = round(min(standard.confidence + 0.05, 0.9), 3)
            standard.evidence.append(say("text_agrees", first=text.evidence[0]))
            text = None
        elif text.entry.category == standard.entry.category:
            text.confidence = round(min(text.confidence + 0.05, 0.9), 3)
            text.evidence.append(say("error_code_agrees", error_code=error_code))
        elif standard.confidence > text.confidence:
            standard.evidence.append(say("weaker_text", category=text.entry.category))
            text = None
    chosen = text or standard
    if chosen is not None:
        chosen.evidence = ev + chosen.evidence
    return chosen


def _text(ix: _Index, index: _VendorIndex | None, code: str, info: str,
          borrow: bool = True) -> _Hit | None:  # fmt: skip
    """(6) the info text (and a textual code) against phrasings; false friends veto."""
    best: _Hit | None = None
    sources = [("info", info)]
    if code and not is_numeric_code(code):
        sources.append(("vendorErrorCode", code))
    for label, raw in sources:
        query = process_text(raw) if raw else ""
        if len(query) < 3 or not _HAS_WORD.search(query):
            continue  # `F1` is no text: token-set scoring would find it inside any phrase
        vetoed = _vetoed(ix, query)
        said = say("said", label=label, raw=raw)
        candidates: list[_Hit] = []
        if index is not None:
            found = _first_allowed(index.text, query, vetoed, lambda e: e.category)
            if found:
                score, entry, phrase = found
                candidates.append(_Hit(entry, _scaled(score, 0.5, 0.85), "fuzzy", [
                    say("text_vendor", said=said, vendor=index.spec.name, entry=entry,
                        phrase=phrase, score=score)
                ]))  # fmt: skip
        block_found = _first_allowed(ix.phrases, query, vetoed, lambda b: b.category)
        if block_found:
            score, block, phrase = block_found
            candidates.append(_Hit(block.entry, _scaled(score, 0.5, 0.8), "phrasing", [
                say("text_phrasing", said=said, category=block.category, phrase=phrase,
                    score=score)
            ]))  # fmt: skip
        if index is None and borrow:
            found = _first_allowed(ix.all_text, query, vetoed, lambda e: e.category)
            if found:
                score, entry, phrase = found
                candidates.append(_Hit(entry, _scaled(score, 0.45, 0.75), "fuzzy", [
                    say("text_any_vendor", said=said, entry=entry, phrase=phrase, score=score)
                ]))  # fmt: skip
        for category in sorted(vetoed):
            for candidate in candidates:
                candidate.evidence.append(say("false_friend", label=label, category=category))
        for candidate in candidates:  # ties: the vendor's own text, then phrasings
            if best is None or candidate.confidence > best.confidence:
                best = candidate
    return best


def _vetoed(ix: _Index, query: str) -> set[Category]:
    padded = f" {query} "
    return {
        category
        for phrase, category in ix.vetoes
        if phrase and (f" {phrase} " in padded or fuzz.ratio(phrase, query) >= 90)
    }


def _vendor_standard(
    index: _VendorIndex, error_code: str, code: str, model: str, firmware: str
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
    evidence = [say("vendor_standard", error_code=error_code, vendor=index.spec.name, entry=entry)]
    confidence = C_VENDOR_STANDARD_UNREAD if code else C_VENDOR_STANDARD
    if rank < 0:
        confidence -= SCOPE_UNKNOWN_PENALTY
        evidence.append(say("scope_unknown", entry=entry))
    return _Hit(entry, round(confidence, 3), "vendor_standard", evidence)


def _standard(ix: _Index, error_code: str, ev: list[str]) -> _Hit | None:
    if not error_code:
        return None
    if symbol_key(error_code) in UNINFORMATIVE_ERROR_CODES:
        ev.append(say("error_code_uninformative", error_code=error_code))
        return None
    entry = ix.kb.standard(error_code)
    if entry is None:
        ev.append(say("error_code_unknown", error_code=error_code))
        return None
    return _Hit(entry, C_STANDARD, "standard",
                [say("standard", error_code=error_code, entry=entry)])  # fmt: skip


def _link_to_a_device(
    ix: _Index, reader: CodeReader, hit: _Hit, code: str, info: str, error_code: str,
    ev: list[str],
) -> _Hit:  # fmt: skip
    """A generic phrasing (`CommunicationFault`, `self-test failed`) inside a code or info
    text that also names a device (`isolation_monitor/CommunicationFault`, `GFI self test
    failed`): the link or the test is *of* that device, so the fault is the device's. Only
    for link words (lexicon `links`) and a specific, several-word reading of another
    category; otherwise the phrasing stands."""
    for label, text in (("code", code), ("info", info)):
        if not text or not reader.names_a_link(text):
            continue
        got = reader.read(text)
        if not isinstance(got, Reading) or not got.specific:
            continue
        if got.family.entry.category == hit.entry.category:
            return hit
        as_code, as_info = (text, "") if label == "code" else ("", text)
        words = _with_words(ix, reader, None, as_code, as_info, error_code, list(ev))
        if words is None:
            continue
        words.evidence.append(say("link_names_device", category=hit.entry.category, label=label,
                                  family=got.family.name))  # fmt: skip
        return words
    return hit


def _with_words(
    ix: _Index, reader: CodeReader, hit: _Hit | None, code: str, info: str, error_code: str,
    ev: list[str],
) -> _Hit | None:  # fmt: skip
    """The code-text reader, when no table explained the code: never above a table entry.
    Only a bare OCPP errorCode answer is compared with it; the errorCode wins a disagreement."""
    reading: Reading | None = None
    said, notes, agreed = "", [], 0
    for label, raw in (("vendorErrorCode", code), ("info", info)):
        if not raw:
            continue
        got = reader.read(raw)
        if isinstance(got, Reading) and got.family.entry.category in _vetoed(ix, process_text(raw)):
            got = Declined(say("words_false_friend", raw=raw, family=got.family.name))
        if isinstance(got, Declined):
            notes.append(say("words_declined", label=label, why=got.why))
        elif got is None:
            continue
        elif reading is None:
            reading, said = got, say("said", label=label, raw=raw)
        elif got.family.entry.category == reading.family.entry.category:
            notes.append(say("words_agree", label=label))
            agreed += 1
        else:  # the code's own words decide; the disagreement is shown
            notes.append(say("words_differ", label=label, family=got.family.name))
    if reading is None:
        if hit is not None:
            hit.evidence.extend(notes)
        else:
            ev.extend(notes)
        return hit
    family = reading.family
    confidence = C_WORDS + (C_WORDS_STEP if reading.specific else 0.0)
    confidence += C_WORDS_STEP * agreed
    why = [say("words_name", said=said, reading=reading), *notes]
    if hit is not None:  # the bare OCPP errorCode
        if hit.entry.category == family.entry.category:
            confidence += C_WORDS_STEP
            why.append(say("error_code_agrees", error_code=error_code))
        else:
            hit.evidence.append(say("words_overruled", said=said, category=family.entry.category))
            return hit
    return _Hit(family.entry, round(min(confidence, C_WORDS_MAX), 3), "words", ev + why)


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
