"""Code and text normalisation: the many spellings of one code become one key.

Chargers write the same code as `0x6012`, `6012`, `[6012]`, `E6012`, `Err 6012`,
`#6012` or with leading zeros. Keys depend on the vendor's code format: for a hex
vendor `0022` is hex, for a decimal-bitmask vendor an explicit `0x1000` is 4096.
Everything here is linear-time (no backtracking-prone regexes) and works on input
that has already been capped by `clean`.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

from bot.text import CONTROL

CODE_LIMIT = 200  # longest code we look at (OCPP allows 50; chargers exceed it)
TEXT_LIMIT = 500  # longest info/techInfo text we look at (techInfo max is 500)


class CodeFormat(StrEnum):
    DECIMAL = "decimal"
    HEX = "hex"
    HEX_BITMASK = "hex_bitmask"
    DECIMAL_BITMASK = "decimal_bitmask"
    SYMBOLIC = "symbolic"
    URN = "urn"
    PREFIXED = "prefixed"
    TEXT = "text"

    @property
    def numeric(self) -> bool:
        return self in _NUMERIC

    @property
    def bitmask(self) -> bool:
        return self in (CodeFormat.HEX_BITMASK, CodeFormat.DECIMAL_BITMASK)

    @property
    def hex(self) -> bool:
        return self in (CodeFormat.HEX, CodeFormat.HEX_BITMASK)


_NUMERIC = frozenset(
    {CodeFormat.DECIMAL, CodeFormat.HEX, CodeFormat.HEX_BITMASK, CodeFormat.DECIMAL_BITMASK}
)

_SPACES = re.compile(r"\s+")
_WRAP_HEAD = re.compile(r"^[\[\(\{<\"'`]+")
_WRAP_TAIL = re.compile(r"[\]\)\}>\"'`.,;:!]+$")
# Decorations around a number: "Error Code 12", "Err: 12", "E12", "#12", "No. 12".
_DECOR = re.compile(r"^(?:error[\s_\-]*code|error|err|code|no\.?|nr\.?|e|#)[\s:#=\-]*")
_DEC = re.compile(r"^[0-9]{1,40}$")
_HEXDIGITS = re.compile(r"^[0-9a-f]{1,40}$")
_HEX_PREFIXED = re.compile(r"^0x([0-9a-f]{1,40})$")
_HEX_SUFFIXED = re.compile(r"^([0-9a-f]{1,40})h$")
_SEPARATORS = re.compile(r"[\s_\-.:/\\|]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_NON_ALNUM = re.compile(r"[\W_]+")


def clean(value: object, limit: int) -> str:
    """Printable, NFKC-normalised, whitespace-collapsed text of at most `limit` chars.

    The input is cut before any O(n) work, so a 10 MB string costs no more than a
    short one; fullwidth digits and similar odd Unicode become plain ASCII.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 2]
    text = unicodedata.normalize("NFKC", text)
    text = CONTROL.sub(" ", text)  # a space, so the words on either side stay apart
    text = _SPACES.sub(" ", text).strip()
    return text[:limit].strip()


def symbol_key(code: str) -> str:
    """Format-free key: case-folded, separators removed, leading zeros of numbers dropped.

    `F-0101` -> `f101`, `CC_a005` -> `cca5`, `RCD/Tripped` -> `rcdtripped`.
    """
    key = _SEPARATORS.sub("", code.casefold())
    return _LEADING_ZEROS.sub("", key)


def _unwrap(code: str) -> str:
    code = _WRAP_HEAD.sub("", code.strip())
    return _WRAP_TAIL.sub("", code).strip()


def _number_key(text: str, fmt: CodeFormat) -> str | None:
    """The key of `text` read as a number in `fmt`, or None if it is not one."""
    m = _HEX_PREFIXED.match(text) or (_HEX_SUFFIXED.match(text) if fmt.hex else None)
    if m:
        digits = m.group(1).lstrip("0") or "0"
        if fmt == CodeFormat.DECIMAL_BITMASK:
            return str(int(digits, 16))  # an explicit hex bit value of a decimal-sum vendor
        return digits
    if _DEC.match(text) or (fmt.hex and _HEXDIGITS.match(text)):
        return text.lstrip("0") or "0"
    return None


@lru_cache(maxsize=65536)
def candidate_keys(code: str, fmt: CodeFormat) -> tuple[str, ...]:
    """Keys to try for `code` in a vendor whose codes are written in `fmt`, best first.

    For numeric formats: the code read as a number, then the number left after
    removing a decoration (`E`, `Err`, `#`...), then the format-free key. For hex
    vendors `E1` is first tried as the hex number E1, then as a decorated 1.
    """
    text = _unwrap(code.casefold())
    keys: list[str] = []
    if fmt.numeric and text:
        for variant in (text, _DECOR.sub("", text, count=1)):
            key = _number_key(variant.replace(" ", ""), fmt)
            if key is not None and key not in keys:
                keys.append(key)
    sym = symbol_key(text)
    if sym and sym not in keys:
        keys.append(sym)
    return tuple(keys)


def index_key(code: str, fmt: CodeFormat) -> str:
    """The key a manual's code is filed under (its first candidate key)."""
    keys = candidate_keys(code, fmt)
    return keys[0] if keys else ""


def loose_keys(code: str) -> frozenset[str]:
    """Every key `code` could have in any numeric or symbolic format (for taught codes)."""
    out: set[str] = set()
    for fmt in (CodeFormat.DECIMAL, CodeFormat.HEX, CodeFormat.SYMBOLIC):
        out.update(candidate_keys(code, fmt))
    return frozenset(out)


def bit_value(key: str, fmt: CodeFormat) -> int | None:
    """The integer value of a numeric key in a bitmask vendor's format."""
    try:
        if fmt == CodeFormat.HEX_BITMASK and _HEXDIGITS.match(key):
            return int(key, 16)
        if fmt == CodeFormat.DECIMAL_BITMASK and _DEC.match(key):
            return int(key)
    except ValueError:
        return None
    return None


def is_numeric_code(code: str) -> bool:
    """True for codes that are bare numbers once decorations are removed (`E210`, `0x22`)."""
    text = _unwrap(code.casefold())
    text = _DECOR.sub("", text, count=1).replace(" ", "")
    return bool(_DEC.match(text) or _HEX_PREFIXED.match(text))


def is_distinctive(code: str) -> bool:
    """Codes specific enough to name a scheme across vendors (`CX002`, `MREC8EmergencyStop`).

    Bare numbers and very short tokens never are: the same digits mean different
    faults for different vendors.
    """
    if is_numeric_code(code):
        return False
    compact = _SEPARATORS.sub("", code.casefold())
    return len(compact) >= 4 and any(c.isalpha() for c in compact)


@lru_cache(maxsize=65536)
def process_text(text: str) -> str:
    """Text for fuzzy matching: camelCase and digits split, punctuation to spaces, folded.

    `MREC8EmergencyStop` -> `mrec 8 emergency stop`; `EMERGENCY_STOP_BUTTON_1` ->
    `emergency stop button 1`.
    """
    text = _CAMEL.sub(" ", text)
    text = _NON_ALNUM.sub(" ", text.casefold())
    return " ".join(text.split())
