"""What people type to the bot -> a Command. Subcommands keep their fixed grammar
(`/faultbot why CP-12`, `code F400 Acme`, `digest 2026-11-20`, `teach`); everything
else is free text, read entity-first against the fleet's own names by bot.ask:

    parse_mention("is depot nroth ok?", index)       -> site Depot North
    parse_mention("what happened to cp30 last night") -> why CP-030, last night
    parse_command("is depot north ok?", index)       -> the same reading as a mention
"""

from __future__ import annotations

import re
from datetime import date

from rapidfuzz import fuzz, process

from bot.ask.entities import MAX_INPUT, clean
from bot.ask.index import NameIndex
from bot.ask.intent import understand
from bot.ask.model import Command, Kind

__all__ = ["MAX_INPUT", "SUBCOMMANDS", "Command", "clean", "parse_command", "parse_mention"]

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
# Heads that keep the fixed grammar in a mention too ("code F400 Acme": Acme as typed).
_GRAMMAR_IN_MENTIONS = frozenset({"code", "lookup", "teach", "site"})

_CHARGER = re.compile(r"^(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,63}$")
_PORT = re.compile(r"\b(?:port|connector|plug|evse|socket)\s*#?\s*(\d{1,3})\b", re.I)
_PORT_SUFFIX = re.compile(r"^(.+?)(?:/|#)(\d{1,3})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SITE_ARG_FIT = 75  # how closely `site X` must spell a site to take its reading
_TRAIL = " \t?!.,;:'\"“”’"


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


def _target(kind: Kind, args: list[str], raw: str, index: NameIndex | None) -> Command:
    """`why …` / `site …`: the arguments read like a question (forgiving names, times),
    falling back to the words as typed so the answer can say "no such charger"."""
    from dataclasses import replace

    read = understand(" ".join(args), index) if args else None
    charger, connector = _charger_arg(args)
    if read is not None and read.kind in ("why", "site", "clarify") and (
        read.has_target or read.options
    ):
        if kind == "site" and read.site and fuzz.token_sort_ratio(
            " ".join(args).lower(), read.site.lower()
        ) < _SITE_ARG_FIT:
            # `site Nowhere Park` is not Harbour Retail Park: the argument is all name.
            return Command("site", site=" ".join(args).strip(_TRAIL), raw=raw)
        if read.connector is None and connector is not None and read.kind == "why":
            read = replace(read, connector=connector)  # "why CP-12 2"
        return replace(read, raw=raw)
    if kind == "why":
        problem = None if charger else "no_charger"
        when = read.when if read is not None else None
        return Command("why", charger=charger, connector=connector, problem=problem,
                       when=when, raw=raw)
    site = " ".join(args).strip(_TRAIL) or None
    return Command("site", site=site, problem=None if site else "no_site", raw=raw)


def parse_command(text: str, index: NameIndex | None = None) -> Command:
    """The text after `/faultbot`."""
    raw = clean(text)
    words = raw.split()
    if not words:
        return Command("help", raw=raw)
    head, args = words[0].lower(), words[1:]
    kind = SUBCOMMANDS.get(head)
    if kind is None:
        cmd = understand(raw, index)
        if cmd.kind == "unknown":
            from dataclasses import replace

            return replace(cmd, suggestion=suggest(head))
        return cmd
    if kind in ("why", "site"):
        return _target(kind, args, raw, index)
    if kind == "code":
        code, vendor = _code_arg(args)
        return Command(
            "code", code=code, vendor=vendor, problem=None if code else "no_code", raw=raw
        )
    if kind == "digest":
        day, word, problem = _day_arg(args)
        if problem is not None:  # "digest for last tuesday": read the words as a question
            read = understand(raw, index)
            if read.kind == "digest" and read.when is not None and read.problem is None:
                return read
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
    if kind == "unknown_codes" or not args:
        return Command(kind, raw=raw)
    return understand(raw, index)  # "help me with CP-12 please"


def parse_mention(text: str, index: NameIndex | None = None) -> Command:
    """A mention or a DM: free text, except a few subcommand shapes."""
    raw = clean(text)
    if not raw:
        return Command("help", raw=raw)
    first = raw.split()[0].lower()
    if first in _GRAMMAR_IN_MENTIONS:
        return parse_command(raw, index)
    return understand(raw, index)
