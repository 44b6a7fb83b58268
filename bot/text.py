"""Charger- and operator-supplied text made safe to show: one pattern, one `clean`.

Vendor strings reach terminals, Markdown and Slack. Control characters could move
the cursor or ring a bell; bidi overrides and zero-width characters make text read
differently from what it is. This module depends on nothing else in `bot`, so
every stage may import it.

May import: nothing
"""

from __future__ import annotations

import re

# C0/C1 controls, zero-width and bidi marks, line/paragraph separators, the invisible
# operators and isolates (U+2060-U+206F) and the byte-order mark.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Line breaks and tabs become a space, so the words on either side stay apart.
_BREAKS = str.maketrans(dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029", " "))
_ELLIPSIS = "…"


def clean(value: object, limit: int = 200) -> str:
    """`value` as one line without control/bidi characters, at most `limit` characters.

    Longer text is cut and ends in an ellipsis. Only a bounded prefix is examined, so
    a 10 MB field costs no more than a short one.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    limit = max(limit, 1)
    bound = limit * 4 + 64  # room for invisible characters that are dropped
    cut = len(text) > bound
    text = CONTROL.sub("", text[:bound].translate(_BREAKS))
    if len(text) <= limit and not cut:
        return text
    return text[: limit - 1] + _ELLIPSIS
