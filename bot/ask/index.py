"""The names a question can be about, indexed once per fleet snapshot.

Built from the charger ids, the site map and the knowledge base; questions are then
read against plain dictionaries (no database work per question). `index_for` keeps
one index per database and rebuilds it when the number of chargers changes or it is
older than a short TTL (new chargers appear without a restart).
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.kb.vendors import vendor_key
from bot.store.names import normalize_name

_ID_PARTS = re.compile(r"^([A-Za-z]*)[^A-Za-z0-9]*0*(\d+)$")  # CP-012 -> (CP, 12)
_WORD = re.compile(r"[a-z0-9]+")
_TTL_S = 30.0
_MAX_CACHED = 8  # databases x site maps x knowledge bases held at once
_MIN_VENDOR_KEY = 3  # "UC", "GE": too short to find in free text
_MIN_MODEL_KEY = 4


@dataclass(slots=True)
class NameIndex:
    chargers: frozenset[str]
    by_key: dict[str, tuple[str, ...]]  # normalize_name(id) -> ids (cp12 -> CP-012)
    by_number: dict[int, tuple[str, ...]]  # 12 -> CP-012 (for "charger 12")
    prefixes: frozenset[str]  # letter prefixes of ids, lower case ("cp", "flt")
    site_of: dict[str, str]  # charger -> named site
    sites: tuple[str, ...]  # named sites (not one-charger sites)
    site_words: dict[str, tuple[str, ...]]  # site -> its words, lower case
    word_sites: dict[str, frozenset[str]]  # word -> sites having it
    site_keys: dict[str, str]  # normalize_name(site) -> site ("depotnorth")
    vocab: tuple[str, ...]  # every site word, for typo matching
    site_zone: dict[str, str]  # site -> IANA zone
    vendors: dict[str, str]  # vendor_key of a name or sent string -> canonical vendor
    models: dict[str, tuple[str, str]]  # model key -> (model as written, vendor)
    codes: dict[str, str]  # casefolded symbolic code -> code as written
    max_vendor_words: int = 3

    @property
    def size(self) -> int:
        return len(self.chargers)


def build_index(charger_ids: Iterable[str], sites: Any = None, kb: Any = None) -> NameIndex:
    ids = sorted(set(charger_ids))
    by_key: dict[str, list[str]] = defaultdict(list)
    by_number: dict[int, list[str]] = defaultdict(list)
    prefixes: set[str] = set()
    for charger in ids:
        by_key[normalize_name(charger)].append(charger)
        m = _ID_PARTS.match(charger)
        if m:
            by_number[int(m[2])].append(charger)
            if m[1]:
                prefixes.add(m[1].lower())
    site_of: dict[str, str] = {}
    named: list[str] = []
    zones: dict[str, str] = {}
    if sites is not None:
        id_set = set(ids)
        named = [s for s in sites.sites(ids) if s not in id_set]
        for charger in ids:
            s = sites.site_of(charger)
            if s != charger:
                site_of[charger] = s
        for s in named:
            zone = sites.timezone_of(s)
            if zone is not None:
                zones[s] = str(zone)
    site_words = {s: tuple(_WORD.findall(s.lower())) for s in named}
    word_sites: dict[str, set[str]] = defaultdict(set)
    for s, words in site_words.items():
        for w in words:
            word_sites[w].add(s)
    vendors: dict[str, str] = {}
    models: dict[str, tuple[str, str]] = {}
    codes: dict[str, str] = {}
    longest = 1
    if kb is not None:
        for spec in kb.vendors.values():
            if spec.scheme:
                continue
            for name in (spec.name, *spec.sends):
                key = vendor_key(name)
                if len(key) >= _MIN_VENDOR_KEY and not key.isdigit():
                    vendors.setdefault(key, spec.name)
                    longest = max(longest, len(name.split()))
            for glob in spec.models:
                plain = glob.strip("*").strip()
                key = vendor_key(plain)
                if len(key) >= _MIN_MODEL_KEY and "*" not in plain and "?" not in plain:
                    models.setdefault(key, (plain, spec.name))
        for entry in kb.entries:
            code = entry.code or ""
            # Symbolic codes only ("GroundFailure", "EV0081"): bare numbers are codes
            # only after a code word, or they would swallow port and charger numbers.
            if len(code) >= 4 and not code.isdigit() and " " not in code:
                codes.setdefault(code.casefold(), code)
        for code in getattr(kb, "standards", {}).values():
            if code.code and len(code.code) >= 4 and " " not in code.code:
                codes.setdefault(code.code.casefold(), code.code)
    return NameIndex(
        chargers=frozenset(ids),
        by_key={k: tuple(v) for k, v in by_key.items()},
        by_number={k: tuple(v) for k, v in by_number.items()},
        prefixes=frozenset(prefixes),
        site_of=site_of,
        sites=tuple(named),
        site_words=site_words,
        word_sites={k: frozenset(v) for k, v in word_sites.items()},
        site_keys={normalize_name(s): s for s in named},
        vocab=tuple(sorted(word_sites)),
        site_zone=zones,
        vendors=vendors,
        models=models,
        codes=codes,
        max_vendor_words=min(longest, 4),
    )


_lock = threading.Lock()
_cache: dict[tuple[str, int, int], tuple[float, int, NameIndex]] = {}


def index_for(session: Any, sites: Any = None, kb: Any = None) -> NameIndex:
    """The index for this database, site map and knowledge base (cached)."""
    from sqlalchemy import func, select

    from bot.store.models import Charger
    from bot.store.queries import all_charger_ids

    key = (str(session.get_bind().url), id(sites), id(kb))
    count = session.scalar(select(func.count()).select_from(Charger)) or 0
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[1] == count and now - hit[0] < _TTL_S:
        return hit[2]
    index = build_index(all_charger_ids(session), sites, kb)
    with _lock:
        if len(_cache) >= _MAX_CACHED and key not in _cache:
            _cache.pop(min(_cache, key=lambda k: _cache[k][0]))  # the oldest goes
        _cache[key] = (now, count, index)
    return index
