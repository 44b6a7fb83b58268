"""Where a JSON value sits in the text it was decoded from.

The message log keeps each frame verbatim: the exact characters the feed wrote, not a
re-serialisation. A contract-1 line wraps the frame in an envelope object, so the
readers need the frame's span inside the line. Everything here uses the C scanner of
the standard `json` module for the values themselves, so a span is found while the
value is decoded (no second decode), and follows json's rules exactly (whitespace set,
the last of duplicate keys wins).
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # C speedup typeshed omits
from typing import Any

_scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner; not in typeshed
_WS = " \t\n\r"  # JSON whitespace, exactly the set json skips
_KEY = '"frame"'


# The envelope as faultbot's own tools and most producers write it: keys in contract
# order, string values without escapes or control characters (json rejects raw control
# characters, and with neither such a string decodes to itself), JSON whitespace only.
_W = r"[ \t\n\r]*"
_STR = r'"([^"\\\x00-\x1f]*)"'
_COMMON_HEAD = re.compile(
    f'{{{_W}"ts"{_W}:{_W}{_STR}{_W},{_W}"charger"{_W}:{_W}{_STR}{_W},'
    f'{_W}"dir"{_W}:{_W}"(in|out)"{_W},{_W}"frame"{_W}:{_W}'
)
# After the closing brace: what a line reader strips (JSON whitespace, \v, \f).
_COMMON_TAIL = re.compile(f'{_W}(?:,{_W}"ocpp"{_W}:{_W}{_STR}{_W})?}}[ \\t\\n\\r\\v\\f]*')


def split_common(text: str) -> tuple[str, str, str, Any, str | None, int, int] | None:
    """(ts, charger, dir, frame, ocpp, start, end) for a contract-1 line in the common
    shape (see _COMMON_HEAD; trailing whitespace allowed), else None. The values equal
    what json.loads would give; the frame is decoded once, straight from
    text[start:end], which is its exact text."""
    head = _COMMON_HEAD.match(text)
    if head is None:
        return None
    start = head.end()
    try:
        frame, end = _scan_once(text, start)
    except (StopIteration, ValueError, RecursionError):
        return None
    tail = _COMMON_TAIL.fullmatch(text, end)
    if tail is None:
        return None
    ts, charger, direction = head.groups()
    return ts, charger, direction, frame, tail[1], start, end


class NotSplit(Exception):
    """The fast split does not apply to this line; decode it the general way."""


def split_contract1(text: str) -> tuple[dict[str, Any], int, int]:
    """(decoded line, start, end) for a stripped contract-1 line `{..."frame":...}`.

    The frame is decoded straight from its place in the line and the rest (the
    envelope) from the line with the frame cut out, so the line is decoded once and
    `text[start:end]` is the frame exactly as written. The decoded line equals
    json.loads(text). Raises NotSplit when that cannot be proven cheaply: the key is
    not plainly at the top level, is spelled with escapes, or occurs twice; or the text
    is not valid JSON. Callers then take the general path, which gives the exact error
    or walks the object with member_span.
    """
    i = text.find(_KEY)
    # Before the key: no nesting and no escapes, and an even number of quotes, so the
    # key is outside any string at the top level of the object.
    if (
        i < 0
        or text.find("\\", 0, i) >= 0
        or text.find("{", 1, i) >= 0
        or text.find("[", 0, i) >= 0
        or text.count('"', 0, i) & 1
    ):
        raise NotSplit
    try:
        j = _skip(text, i + 7)
        if text[j] != ":":
            raise NotSplit
        j = _skip(text, j + 1)
    except IndexError:
        raise NotSplit from None
    try:
        frame, end = _scan_once(text, j)
    except (StopIteration, ValueError, RecursionError):
        raise NotSplit from None
    # After the frame: no escapes and no second "frame", so no key after it can be a
    # duplicate (a duplicate would win in json.loads).
    if text.find("\\", end) >= 0 or text.find(_KEY, end) >= 0:
        raise NotSplit
    # `null` (not a number) as the stand-in: nothing can follow it and still parse
    # unless something could have followed the frame too.
    envelope_text = text[:j] + "null" + text[end:]
    try:
        envelope, stop = _scan_once(envelope_text, 0)
    except (StopIteration, ValueError, RecursionError):
        raise NotSplit from None
    if stop != len(envelope_text) or type(envelope) is not dict or envelope["frame"] is not None:
        raise NotSplit
    envelope["frame"] = frame
    return envelope, j, end


def member_span(text: str, key: str) -> tuple[int, int] | None:
    """(start, end) of the value of `key` in the top-level JSON object `text`, or None.

    `text` must already be known to decode; None also when it is not an object or the
    key is absent. The last duplicate wins, as in json.loads.
    """
    try:
        pos = _skip(text, 0)
        if text[pos] != "{":
            return None
        pos = _skip(text, pos + 1)
        if text[pos] == "}":
            return None
        found = None
        while True:
            if text[pos] != '"':
                return None
            name, pos = scanstring(text, pos + 1)
            pos = _skip(text, pos)
            if text[pos] != ":":
                return None
            pos = _skip(text, pos + 1)
            _, end = _scan_once(text, pos)
            if name == key:
                found = (pos, end)
            pos = _skip(text, end)
            if text[pos] == "}":
                return found
            if text[pos] != ",":
                return None
            pos = _skip(text, pos + 1)
    except (StopIteration, ValueError, RecursionError, IndexError):
        return None


def element_spans(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each element of the top-level JSON array `text`, or None."""
    try:
        pos = _skip(text, 0)
        if text[pos] != "[":
            return None
        pos = _skip(text, pos + 1)
        spans: list[tuple[int, int]] = []
        if text[pos] == "]":
            return spans
        while True:
            _, end = _scan_once(text, pos)
            spans.append((pos, end))
            pos = _skip(text, end)
            if text[pos] == "]":
                return spans
            if text[pos] != ",":
                return None
            pos = _skip(text, pos + 1)
    except (StopIteration, ValueError, RecursionError, IndexError):
        return None


def _skip(text: str, pos: int) -> int:
    while text[pos] in _WS:
        pos += 1
    return pos
