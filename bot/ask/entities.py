"""Find what a question names: chargers, ports, sites, vendors, models, codes, times.

Everything is matched against the fleet's own names (a NameIndex), never guessed from
sentence shapes. Spans taken by one kind of thing are not read again as another
("port 2" is not charger 2, "2026-11-20" is not a code). Cue words are collected on
the whole text; the decision is bot.ask.intent's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

from bot.ask.cues import Cues
from bot.ask.index import NameIndex
from bot.ask.model import TimeRef
from bot.store.names import normalize_name

MAX_INPUT = 500  # longer input is cut: nobody types a 10 kB question

_MENTION = re.compile(r"<[@#!][^>]*>")
_WS = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"[a-z0-9]+")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DMY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d{1,3})\s*(?:h|hr|hrs|hour|hours)\b")
_LAST_DAYS = re.compile(r"\b(?:last|past|previous)\s+(\d{1,2})\s*(?:d|days?)\b")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.:\-/#]*[a-z0-9]|[a-z0-9]")
_ID_GLUED = re.compile(r"\b([a-z]{1,8})[\s\-_#.:]?0*(\d{1,6})(?:\s*/\s*(\d{1,3}))?\b")
_PORT_SUFFIX = re.compile(r"^(.+?)[/#](\d{1,3})$")  # CP-12/2
_HEX = re.compile(r"\b0x[0-9a-f]{1,8}\b")
_CODE_LIKE = re.compile(r"\b[a-z]{1,4}-?\d{2,6}[a-z]?\b")
_MAX_ID = 64  # a longer token is no charger id anybody typed
_SITE_FUZZ = 80  # rapidfuzz ratio for a site word typed with a typo ("nroth")
_CUE_FUZZ = 85  # and for a cue word ("stauts")
_VENDOR_FUZZ = 88


@dataclass(slots=True)
class ChargerHit:
    text: str  # as typed
    ids: tuple[str, ...]  # the fleet's chargers it can mean (empty: none known)


@dataclass(slots=True)
class SiteHit:
    site: str
    score: float  # share of the site's words found, typo-weighted (0..1)
    words: int  # how many of its words were found
    unique: bool  # found through a word no other site has


@dataclass(slots=True)
class Found:
    raw: str
    folded: str
    words: list[str] = field(default_factory=list)
    chargers: list[ChargerHit] = field(default_factory=list)
    loose_ids: list[str] = field(default_factory=list)  # id-like tokens nothing knows
    connector: int | None = None
    sites: list[SiteHit] = field(default_factory=list)  # ranked, best first
    codes: list[str] = field(default_factory=list)
    guessed_codes: set[str] = field(default_factory=set)  # only shaped like a code (F400)
    vendor: str | None = None
    model: str | None = None
    when: TimeRef | None = None
    intents: dict[str, int] = field(default_factory=dict)  # intent -> cue hits
    phrases: set[str] = field(default_factory=set)  # intents found through a phrase
    charger_site: dict[str, str] = field(default_factory=dict)  # found charger -> its site


def clean(text: str) -> str:
    """Slack text -> plain words: entities undone, mentions dropped, whitespace folded."""
    text = (text or "")[: MAX_INPUT * 2]
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _MENTION.sub(" ", text)
    text = _INVISIBLE.sub(" ", text)
    return _WS.sub(" ", text).strip()[:MAX_INPUT]


class _Text:
    """The folded question with a mask of the characters already read as something."""

    def __init__(self, raw: str) -> None:
        straight = raw.replace("’", "'").replace("'", "")
        low = straight.lower()
        if len(low) != len(straight):  # a letter whose lower case is longer: give up case
            straight = low
        self.orig = straight
        self.low = low
        self.used = bytearray(len(low))

    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def take(self, start: int, end: int) -> None:
        self.used[start:end] = b"\x01" * (end - start)

    def words(self) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), m[0]) for m in _WORD.finditer(self.low)
                if self.free(m.start(), m.end())]


def find(raw: str, index: NameIndex, cues: Cues) -> Found:
    t = _Text(raw)
    found = Found(raw=raw, folded=t.low, words=_WORD.findall(t.low))
    _intents(found, cues)
    _times(t, found, cues)
    _ports(t, found, cues)
    _chargers(t, found, index, cues)
    _codes(t, found, index, cues)
    _vendors(t, found, index)
    _vendor_numbers(t, found)
    _sites(t, found, index, cues)
    return found


# --- cue words ----------------------------------------------------------------------


def _intents(found: Found, cues: Cues) -> None:
    padded = f" {' '.join(found.words)} "
    for intent, phrases in cues.intent_phrases.items():
        for phrase in phrases:
            if f" {phrase} " in padded:
                found.intents[intent] = found.intents.get(intent, 0) + 2
                found.phrases.add(intent)
    for word in found.words:
        intents = cues.intents_of(word)
        if not intents and len(word) >= 5 and not word.isdigit():
            near = process.extractOne(word, cues.all_words, scorer=fuzz.ratio,
                                      score_cutoff=_CUE_FUZZ)
            intents = cues.intents_of(near[0]) if near else []
        for intent in intents:
            found.intents[intent] = found.intents.get(intent, 0) + 1


# --- times --------------------------------------------------------------------------


def _times(t: _Text, found: Found, cues: Cues) -> None:
    for m in _ISO.finditer(t.low):
        t.take(m.start(), m.end())
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            found.when = found.when or TimeRef("bad_date", t.orig[m.start():m.end()])
            continue
        found.when = found.when or TimeRef("date", m[0], day=day)
    for m in _DMY.finditer(t.low):
        if not t.free(m.start(), m.end()):
            continue
        t.take(m.start(), m.end())
        try:
            found.when = found.when or TimeRef("date", m[0],
                                               day=date(int(m[3]), int(m[2]), int(m[1])))
        except ValueError:
            found.when = found.when or TimeRef("bad_date", m[0])
    for pattern, per in ((_LAST_N, 1), (_LAST_DAYS, 24)):
        for m in pattern.finditer(t.low):
            t.take(m.start(), m.end())
            hours = max(1, min(int(m[1]) * per, 24 * 31))
            found.when = found.when or TimeRef("last_hours", m[0], hours=hours)
    for m in cues.time_re.finditer(t.low) if cues.time_re else ():
        if not t.free(m.start(), m.end()):
            continue
        t.take(m.start(), m.end())
        key = cues.time_key[m[0]]
        if key == "last_hours":
            found.when = found.when or TimeRef("last_hours", m[0], hours=1)
        else:
            found.when = found.when or TimeRef(key, m[0])
    for start, end, word in t.words():
        if word in cues.weekdays and (len(word) > 3 or _before(t.low, start) == "on"):
            t.take(start, end)
            found.when = found.when or TimeRef("weekday", word, weekday=cues.weekdays[word])


def _before(low: str, start: int) -> str:
    words = _WORD.findall(low[:start])
    return words[-1] if words else ""


# --- ports and chargers -------------------------------------------------------------


def _ports(t: _Text, found: Found, cues: Cues) -> None:
    for m in cues.port_re.finditer(t.low):
        t.take(m.start(), m.end())
        found.connector = found.connector if found.connector is not None else int(m[1])
    if cues.ordinal_re is not None:
        for m in cues.ordinal_re.finditer(t.low):
            if t.free(m.start(), m.end()):
                t.take(m.start(), m.end())
                if found.connector is None:
                    found.connector = cues.ordinals[m[1]]


def _chargers(t: _Text, found: Found, index: NameIndex, cues: Cues) -> None:
    seen: set[tuple[str, ...]] = set()

    def hit(text: str, ids: tuple[str, ...], start: int, end: int) -> None:
        t.take(start, end)
        if ids and ids not in seen:
            seen.add(ids)
            for charger in ids:
                found.charger_site[charger] = index.site_of.get(charger, charger)
            found.chargers.append(ChargerHit(text, ids))

    # Whole tokens spelled like an id: CP-012, cp12, ACME_0042, FLT-00012/2.
    for m in _TOKEN.finditer(t.low):
        if not t.free(m.start(), m.end()) or not any(c.isdigit() for c in m[0]):
            continue
        token, port = m[0], None
        cut = _PORT_SUFFIX.match(token)
        if cut and normalize_name(cut[1]) in index.by_key:
            token, port = cut[1], int(cut[2])
        ids = index.by_key.get(normalize_name(token))
        if ids:
            hit(t.orig[m.start():m.start() + len(token)], ids, m.start(), m.end())
            if port is not None and found.connector is None:
                found.connector = port
    # A known prefix and a number apart: "CP 12", "cp#7".
    for m in _ID_GLUED.finditer(t.low):
        if not t.free(m.start(), m.end()) or m[1] not in index.prefixes:
            continue
        ids = index.by_key.get(f"{m[1]}{int(m[2])}", ())
        if ids:
            hit(t.orig[m.start():m.end()], ids, m.start(), m.end())
            if m[3] and found.connector is None:
                found.connector = int(m[3])
        else:
            t.take(m.start(), m.end())
            found.loose_ids.append(t.orig[m.start():m.end(2)])
            if m[3] and found.connector is None:
                found.connector = int(m[3])
    # A charger word and a number: "charger 9", "station #12".
    for m in cues.charger_re.finditer(t.low):
        if not t.free(m.start(), m.end()):
            continue
        ids = index.by_number.get(int(m[1]), ())
        if ids:
            hit(t.orig[m.start():m.end()], ids, m.start(), m.end())
        else:  # "cp12" as typed; "charger 99" is charger "99"
            t.take(m.start(), m.end())
            typed = t.orig[m.start():m.end()]
            found.loose_ids.append(m[1] if " " in typed else typed)
    # Anything else that looks like an id (letters and digits) may be a charger nobody
    # knows, or a code: intent decides.
    for m in _TOKEN.finditer(t.low):
        token = m[0]
        if (t.free(m.start(), m.end()) and any(c.isdigit() for c in token)
                and any(c.isalpha() for c in token) and not _HEX.fullmatch(token)
                and not _CODE_LIKE.fullmatch(token) and len(token) <= _MAX_ID):
            typed = t.orig[m.start():m.end()]
            if cut := _PORT_SUFFIX.match(typed):
                typed = cut[1]
                if found.connector is None:
                    found.connector = int(cut[2])
            found.loose_ids.append(typed)


# --- codes, vendors, models ---------------------------------------------------------


def _codes(t: _Text, found: Found, index: NameIndex, cues: Cues) -> None:
    def add(start: int, end: int) -> None:
        code = t.orig[start:end].strip("#:.-")
        t.take(start, end)
        if code and code not in found.codes:
            found.codes.append(code)

    for m in _HEX.finditer(t.low):
        if t.free(m.start(), m.end()):
            add(m.start(), m.end())
    for m in cues.code_re.finditer(t.low):
        token = m[1]
        if t.free(m.start(1), m.end(1)) and (any(c.isdigit() for c in token)
                                             or token in index.codes):
            add(m.start(1), m.end(1))
    for m in _TOKEN.finditer(t.low):
        if t.free(m.start(), m.end()) and m[0] in index.codes:
            t.take(m.start(), m.end())
            if index.codes[m[0]] not in found.codes:
                found.codes.append(index.codes[m[0]])
    for m in _CODE_LIKE.finditer(t.low):
        if t.free(m.start(), m.end()):
            add(m.start(), m.end())
            found.guessed_codes.add(found.codes[-1])
    if found.codes:  # what looked like an unknown charger was the code
        found.loose_ids = [x for x in found.loose_ids if x not in found.codes]


def _vendors(t: _Text, found: Found, index: NameIndex) -> None:
    words = t.words()
    i = 0
    while i < len(words):
        for n in range(min(index.max_vendor_words, len(words) - i), 0, -1):
            part = words[i:i + n]
            key = "".join(w for _, _, w in part)  # words are lower-case alphanumerics
            vendor = index.vendors.get(key)
            model = index.models.get(key)
            if vendor is None and model is None and n == 1 and len(key) >= 6 and not key.isdigit():
                near = process.extractOne(key, index.vendors, scorer=fuzz.ratio,
                                          score_cutoff=_VENDOR_FUZZ)
                vendor = near[0] if near else None
            if vendor or model:
                t.take(part[0][0], part[-1][1])
                if model and found.model is None:
                    found.model = model[0]
                    found.vendor = found.vendor or model[1]
                if vendor and found.vendor is None:
                    found.vendor = vendor
                i += n - 1
                break
        i += 1


def _vendor_numbers(t: _Text, found: Found) -> None:
    """"zaptec 4096?": next to a maker's name, a bare number is that maker's code."""
    if found.vendor is None or found.codes:
        return
    for start, end, word in t.words():
        if word.isdigit() and len(word) <= 6:
            t.take(start, end)
            found.codes.append(t.orig[start:end])
            return


# --- sites --------------------------------------------------------------------------


def _sites(t: _Text, found: Found, index: NameIndex, cues: Cues) -> None:
    if not index.sites:
        return
    words = [w for w in t.words() if not w[2].isdigit()]
    matched: dict[str, dict[str, float]] = {}  # site -> its word -> quality
    unique: set[str] = set()

    def mark(word: str, quality: float) -> None:
        for s in index.word_sites.get(word, ()):
            if quality > matched.setdefault(s, {}).get(word, 0.0):
                matched[s][word] = quality
            if len(index.word_sites[word]) == 1 and len(word) >= 4:
                unique.add(s)

    for i, (_, _, w) in enumerate(words):
        if (s := index.site_keys.get(w)) and len(index.site_words[s]) > 1:  # "depotnorth"
            for sw in index.site_words[s]:
                mark(sw, 1.0)
        if i + 1 < len(words) and (s := index.site_keys.get(w + words[i + 1][2])):
            for sw in index.site_words[s]:
                mark(sw, 1.0)
        if len(w) < 3 or w in cues.not_site_words:
            continue
        if w in index.word_sites:
            mark(w, 1.0)
        elif len(w) >= 5 and not cues.intents_of(w):
            near = process.extractOne(w, index.vocab, scorer=fuzz.ratio, score_cutoff=_SITE_FUZZ)
            if near:
                mark(near[0], near[1] / 100)
    hits = []
    for s, got in matched.items():
        total = len(index.site_words[s]) or 1
        score = sum(got.values()) / total
        hits.append(SiteHit(s, score, len(got), s in unique))
    hits.sort(key=lambda h: (-(h.score >= 0.99 or h.unique), -h.score, -h.words, h.site))
    found.sites = hits
