"""Deterministic parsing of what people type: slash-command text and mentions/DMs.

    parse_command("why CP-12")                     -> why, charger CP-12
    parse_mention("<@U1> why is charger CP-12 faulted?") -> why, charger CP-12
    parse_mention("what's wrong at Depot North?")  -> site "Depot North"
    parse_mention("what does F400 mean on Acme?")  -> code F400, vendor Acme

No guessing beyond fixed patterns; anything else is "unknown" with a "did you mean"
suggestion for a mistyped subcommand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from rapidfuzz import fuzz, process

Kind = Literal["why", "site", "code", "digest", "unknown_codes", "teach", "help", "unknown"]

SUBCOMMANDS: dict[str, Kind] = {
    "why": "why",
    "status": "why",
    "charger": "why",
    "explain": "why",
    "site": "site",
    "code": "code",
    "lookup": "code",
    "digest": "digest",
    "unknown": "unknown_codes",
    "unknowns": "unknown_codes",
    "teach": "teach",
    "help": "help",
}
MAX_INPUT = 500  # longer input is cut: nobody types a 10 kB charger id

_MENTION = re.compile(r"<[@#!][^>]*>")
_WS = re.compile(r"\s+")
# A charger id: letters/digits with separators, at least one digit (CP-12, ACME_0042, 17).
_CHARGER = re.compile(r"^(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,63}$")
_PORT = re.compile(r"\b(?:port|connector|plug|evse|socket)\s*#?\s*(\d{1,3})\b", re.I)
_PORT_SUFFIX = re.compile(r"^(.+?)(?:/|#)(\d{1,3})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRAIL = " \t?!.,;:'\"“”’"

# Mention patterns, tried in order.
_WHY_NL = re.compile(
    r"\b(?:why|what(?:'s|’s|s| is)?\s+(?:wrong|up|happening)\s+with|status\s+of|explain|"
    r"check)\b.*?\b(?:charger|station|unit|cp|evse)?\s*([A-Za-z0-9][A-Za-z0-9_.:\-/]*\d"
    r"[A-Za-z0-9_.:\-/]*)",
    re.I,
)
_CODE_NL = re.compile(
    r"\bwhat\s+(?:does|do|is)\s+(?:code\s+|error\s+)?([A-Za-z0-9_.:\-/x]+)\s+mean"
    r"(?:\s+(?:on|for|from|with)\s+(?:an?\s+|the\s+)?(.+?))?[\s?!.]*$",
    re.I,
)
_SITE_NL = re.compile(
    r"\b(?:what(?:'s|’s|s| is)?\s+(?:wrong|up|happening|broken|down)|how\s+is|status)"
    r"\s+(?:at|in|with|of)\s+(?:site\s+|the\s+)?(.+?)[\s?!.]*$",
    re.I,
)

_HOW_NL = re.compile(
    r"^how(?:'s|’s| is| are)\s+(?:things\s+(?:at|in)\s+)?(?:site\s+|the\s+)?(.+?)"
    r"(?:\s+doing)?[\s?!.]*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Command:
    kind: Kind
    charger: str | None = None
    connector: int | None = None
    site: str | None = None
    code: str | None = None
    vendor: str | None = None
    day: date | None = None
    word: str | None = None  # the day word ("today", "yesterday", or what was mistyped)
    suggestion: str | None = None  # "did you mean" for a mistyped subcommand
    problem: str | None = None  # no_charger, no_site, no_code, bad_date (templates word it)
    raw: str = ""


def clean(text: str) -> str:
    """Slack text -> plain words: entities undone, mentions dropped, whitespace folded."""
    text = (text or "")[: MAX_INPUT * 2]
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _MENTION.sub(" ", text)
    return _WS.sub(" ", text).strip()[:MAX_INPUT]


def _charger_arg(words: list[str]) -> tuple[str | None, int | None]:
    """`CP-12`, `CP-12 2`, `CP-12 port 2`, `CP-12/2`, `charger CP-12`."""
    text = " ".join(words)
    connector = None
    if m := _PORT.search(text):
        connector = int(m[1])
        text = (text[: m.start()] + text[m.end() :]).strip()
    words = [w.strip(_TRAIL) for w in text.split() if w.strip(_TRAIL)]
    words = [w for w in words if w.lower() not in ("charger", "station", "is", "the", "of")]
    if not words:
        return None, connector
    charger = words[0]
    if m := _PORT_SUFFIX.match(charger):
        charger, connector = m[1], int(m[2])
    if connector is None and len(words) > 1 and words[1].isdigit() and len(words[1]) <= 3:
        connector = int(words[1])
    if not _CHARGER.match(charger):
        return None, connector
    return charger, connector


def _code_arg(words: list[str]) -> tuple[str | None, str | None]:
    """`F400`, `F400 Acme`, `F400 on Acme`, `F400 for ABB Terra`."""
    if not words:
        return None, None
    code = words[0].strip(_TRAIL)
    rest = words[1:]
    if rest and rest[0].lower() in ("on", "for", "from", "with", "@"):
        rest = rest[1:]
    vendor = " ".join(rest).strip(_TRAIL) or None
    return code or None, vendor


def _day_arg(words: list[str]) -> tuple[date | None, str | None, str | None]:
    if not words:
        return None, None, None
    word = words[0].lower()
    if word in ("today", "yesterday"):
        return None, word, None
    if _DATE.match(word):
        try:
            return date.fromisoformat(word), None, None
        except ValueError:
            return None, words[0], "bad_date"
    return None, words[0], "bad_date"


def suggest(word: str) -> str | None:
    found = process.extractOne(word.lower(), list(SUBCOMMANDS), scorer=fuzz.ratio)
    if found and found[1] >= 60:
        return str(found[0])
    return None


def parse_command(text: str) -> Command:
    """The text after `/faultbot`."""
    raw = clean(text)
    words = raw.split()
    if not words:
        return Command("help", raw=raw)
    head, args = words[0].lower(), words[1:]
    kind = SUBCOMMANDS.get(head)
    if kind is None:
        # "/faultbot CP-12" is a why; anything else gets a suggestion.
        charger, connector = _charger_arg(words)
        if charger and len(words) <= 3:
            return Command("why", charger=charger, connector=connector, raw=raw)
        return Command("unknown", suggestion=suggest(head), raw=raw)
    if kind == "why":
        charger, connector = _charger_arg(args)
        problem = None if charger else "no_charger"
        return Command("why", charger=charger, connector=connector, problem=problem, raw=raw)
    if kind == "site":
        site = " ".join(args).strip(_TRAIL) or None
        return Command("site", site=site, problem=None if site else "no_site", raw=raw)
    if kind == "code":
        code, vendor = _code_arg(args)
        return Command(
            "code", code=code, vendor=vendor, problem=None if code else "no_code", raw=raw
        )
    if kind == "digest":
        day, word, problem = _day_arg(args)
        return Command("digest", day=day, word=word, problem=problem, raw=raw)
    if kind == "teach":
        # The code is taken as written, even when it looks like Slack markup (<!here>,
        # &lt;E1&gt;): entities undone, nothing dropped as a mention.
        written = (text or "")[:MAX_INPUT]
        written = written.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        args = written.split()[1:]
        raw = " ".join(written.split())
        code, vendor = (None, None)
        if len(args) >= 2:  # "teach Acme F400": vendor first, the code last
            vendor, code = " ".join(args[:-1]), args[-1]
        elif args:
            code = args[0]
        return Command("teach", code=code, vendor=vendor, raw=raw)
    return Command(kind, raw=raw)


def parse_mention(text: str) -> Command:
    """A mention or a DM: the slash-command grammar first, then fixed sentence shapes."""
    raw = clean(text)
    if not raw:
        return Command("help", raw=raw)
    first = raw.split()[0].lower()
    if first in SUBCOMMANDS and first not in ("charger", "status"):
        return parse_command(raw)
    if m := _CODE_NL.search(raw):
        vendor = m[2].strip(_TRAIL) if m[2] else None
        return Command("code", code=m[1].strip(_TRAIL), vendor=vendor or None, raw=raw)
    if m := _WHY_NL.search(raw):
        tail = raw[m.start(1) :].split()
        charger, connector = _charger_arg(tail)
        if connector is None and (pm := _PORT.search(raw)):
            connector = int(pm[1])
        if charger:
            return Command("why", charger=charger, connector=connector, raw=raw)
    if m := _SITE_NL.search(raw):
        site = m[1].strip(_TRAIL)
        if site:
            return Command("site", site=site, raw=raw)
    if (m := _HOW_NL.search(raw)) and m[1].strip(_TRAIL):
        return Command("site", site=m[1].strip(_TRAIL), raw=raw)
    if first in ("hi", "hello", "hey", "help", "?"):
        return Command("help", raw=raw)
    charger, connector = _charger_arg(raw.split())
    if charger and len(raw.split()) <= 3:
        return Command("why", charger=charger, connector=connector, raw=raw)
    return Command("unknown", suggestion=suggest(first), raw=raw)
