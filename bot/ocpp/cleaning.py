"""Text that every database can take.

JSON lets a charger send what no database column can hold: a lone surrogate escape
(`"\\ud800"` decodes to a Python str that UTF-8 cannot encode) and NUL (`"\\u0000"`,
which PostgreSQL text refuses). Decoded strings that reach facts and the store pass
through `storable`, which puts U+FFFD in their place; the message log keeps the
frame's own text, where both stay as the JSON escapes the charger sent.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """True when `text` holds a lone surrogate or NUL."""
    if text.isascii():
        return "\x00" in text
    return _UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """`text` with each lone surrogate and NUL replaced by U+FFFD (cheap when clean)."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def escaped(text: str) -> str:
    """`text` (JSON text) with lone surrogates written as JSON escapes, so it encodes."""
    if text.isascii() or _UNSTORABLE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
