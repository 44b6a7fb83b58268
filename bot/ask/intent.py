"""From what a question names to what it asks: `understand(text, index)`.

Rules, in order (targets first, cue words second):
  help phrase and no target -> help;  unknown-codes cue, no code, no charger -> list;
  a code with a code cue, a vendor or nothing else named -> code;
  digest cue and no charger or site -> digest;
  one charger -> why (a site named too must be its site, or we ask back);
  several chargers or sites that fit equally -> ask back with the readings;
  one site -> site;  a cue but no target -> say what is missing;  else unknown.
"""

from __future__ import annotations

import re

from bot.ask.cues import Cues, load_cues
from bot.ask.entities import Found, SiteHit, clean, find
from bot.ask.index import NameIndex, build_index
from bot.ask.model import Command, Option

MAX_OPTIONS = 4
_ON_VENDOR = re.compile(
    r"\b(?:on|for|from)\s+(?:an?\s+|the\s+|my\s+)?([A-Za-z][\w\- ]{0,40}?)[\s?!.]*$", re.I
)
_CLOSE = 0.34  # two site readings closer than this are a tie: ask back
_EMPTY = build_index(())


def understand(text: str, index: NameIndex | None = None, cues: Cues | None = None) -> Command:
    raw = clean(text)
    if not raw:
        return Command("help", raw=raw)
    return decide(find(raw, index or _EMPTY, cues or load_cues()))


def decide(f: Found) -> Command:
    raw, intents = f.raw, f.intents
    chargers = _charger_ids(f)
    sites = _site_readings(f)
    base = Command("unknown", connector=f.connector, when=f.when, vendor=f.vendor,
                   model=f.model, raw=raw)
    code_cue = "code" in intents
    if f.codes and not code_cue and not f.vendor and set(f.codes) <= f.guessed_codes:
        # Only shaped like a code ("CP-12" on a fleet without it): a charger nobody knows.
        f.loose_ids = [*f.loose_ids, *f.codes]
        f.codes = []
    status_cue = "status" in intents

    if f.when is not None and f.when.key == "bad_date":
        return _with(base, "digest" if "digest" in intents else "why",
                     problem="bad_date", word=f.when.word, when=None)
    if "help" in f.phrases and not (chargers or sites or f.codes):
        return _with(base, "help")
    if "unknown_codes" in intents and not f.codes and not chargers and not code_cue_only(f):
        return _with(base, "unknown_codes")
    if (f.codes and (code_cue or f.vendor or not (chargers or sites or status_cue))
            and (not chargers or code_cue)):
        # "what does 0x0002 mean on CP-001": the charger names the maker (answer time).
        charger = chargers[0] if len(chargers) == 1 else None
        return _with(base, "code", code=f.codes[0], charger=charger,
                     vendor=f.vendor or (None if charger else _typed_vendor(raw)))
    if code_cue and not f.codes and not chargers and not sites and not status_cue:
        return _with(base, "code", problem="no_code")
    if "digest" in intents and not chargers and not sites:
        day = f.when.day if f.when is not None and f.when.key == "date" else None
        return _with(base, "digest", day=day)

    if len(chargers) > 1:
        return _ask_back(base, "why", [Option("charger", c) for c in chargers])
    if chargers:
        charger = chargers[0]
        top = _top_sites(sites)
        if top and f.charger_site.get(charger) not in {s.site for s in top}:
            options = [Option("charger", charger)] + [Option("site", s.site) for s in top]
            return _ask_back(base, "why", options)
        return _with(base, "why", charger=charger)
    if f.loose_ids and not sites and (status_cue or len(f.words) <= 3):
        return _with(base, "why", charger=f.loose_ids[0])
    top = _top_sites(sites)
    if len(top) == 1:
        return _with(base, "site", site=top[0].site, connector=None)
    if top:
        return _ask_back(base, "site", [Option("site", s.site) for s in top])
    if status_cue or f.connector is not None or f.when is not None:
        return _with(base, "why", problem="no_target")
    if "help" in intents:
        return _with(base, "help")
    return base


def _typed_vendor(raw: str) -> str | None:
    """"what does F400 mean on Acme?": a maker the knowledge base does not know is still
    passed on as typed (the matcher answers for it honestly)."""
    m = _ON_VENDOR.search(raw)
    return m[1].strip() if m else None


def code_cue_only(f: Found) -> bool:
    """"codes you don't know" is about unknown codes, "what does code 7 mean" is not."""
    return "code" in f.phrases and "unknown_codes" not in f.phrases


def _charger_ids(f: Found) -> list[str]:
    """Distinct chargers named; a number that fits several chargers adds them all."""
    out: list[str] = []
    for hit in f.chargers:
        for charger in hit.ids[:MAX_OPTIONS]:
            if charger not in out:
                out.append(charger)
    return out[:MAX_OPTIONS]


def _site_readings(f: Found) -> list[SiteHit]:
    return [h for h in f.sites if h.score >= 0.99 or h.unique or h.words >= 2]


def _top_sites(sites: list[SiteHit]) -> list[SiteHit]:
    """The best site reading, or several when they are too close to choose between."""
    if not sites:
        return []
    best = sites[0]
    close = [s for s in sites
             if s is best or (s.words == best.words and best.score - s.score < _CLOSE
                              and (s.score >= 0.99) == (best.score >= 0.99)
                              and s.unique == best.unique)]
    return close[:MAX_OPTIONS]


def _with(base: Command, kind: str, **changes: object) -> Command:
    from dataclasses import replace

    return replace(base, kind=kind, **changes)  # type: ignore[arg-type]  # callers pass Command fields


def _ask_back(base: Command, intent: str, options: list[Option]) -> Command:
    return _with(base, "clarify", intent=intent, options=tuple(options[:MAX_OPTIONS]))
