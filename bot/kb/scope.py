"""Model globs and firmware ranges: does an entry apply to this charger?

Firmware ranges are comma-separated clauses over dotted numeric versions, e.g.
`>=4.0,<7` or `5.8` (a bare version matches every version it prefixes, so `5`
matches `5.8.1`). A charger's firmware string is read from its first dotted number
(`TAC3Z9119006710273::V1.8.21` -> 1.8.21, `4.15.7-4054` -> 4.15.7).
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_DOTTED = re.compile(r"\d{1,9}(?:\.\d{1,9})+")
_NUMBER = re.compile(r"\d{1,9}")
_CLAUSE = re.compile(r"^(>=|<=|==|!=|>|<|=)?\s*v?(\d{1,9}(?:\.\d{1,9}){0,7})(\.[x*])?$", re.I)
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "!=": operator.ne,
}
GLOB_LIMIT = 100


@lru_cache(maxsize=8192)
def version_of(firmware: str) -> tuple[int, ...] | None:
    """The dotted numeric version inside a firmware string, or None."""
    text = firmware[:100]
    m = _DOTTED.search(text) or _NUMBER.search(text)
    if not m:
        return None
    return tuple(int(p) for p in m.group().split(".")[:8])


def _pad(a: tuple[int, ...], n: int) -> tuple[int, ...]:
    return a + (0,) * (n - len(a))


@dataclass(frozen=True, slots=True)
class FirmwareRange:
    spec: str
    clauses: tuple[tuple[str, tuple[int, ...]], ...]

    def contains(self, version: tuple[int, ...]) -> bool:
        for op, bound in self.clauses:
            if op == "prefix":
                if version[: len(bound)] != bound:
                    return False
                continue
            n = max(len(version), len(bound))
            if not _OPS[op](_pad(version, n), _pad(bound, n)):
                return False
        return True


@lru_cache(maxsize=1024)
def parse_firmware_range(spec: str) -> FirmwareRange:
    """Parse `>=4.0,<7`; raises ValueError with a message fit for a lint report."""
    clauses: list[tuple[str, tuple[int, ...]]] = []
    for part in spec.split(","):
        part = part.strip()
        m = _CLAUSE.match(part)
        if not m:
            raise ValueError(
                f"firmware range {spec!r}: cannot read {part!r} "
                "(expected clauses like >=4.0, <7, 5.8 or 5.*, separated by commas)"
            )
        op, version = m.group(1) or "prefix", tuple(int(p) for p in m.group(2).split("."))
        if op in ("=", "==") or m.group(3):
            if op not in ("prefix", "=", "=="):
                raise ValueError(f"firmware range {spec!r}: a wildcard only goes with ==")
            op = "prefix"
        clauses.append((op, version))
    return FirmwareRange(spec, tuple(clauses))


def firmware_problem(spec: str) -> str | None:
    try:
        parse_firmware_range(spec)
    except ValueError as exc:
        return str(exc)
    return None


def in_firmware_range(spec: str, firmware: str) -> bool | None:
    """True/False when the charger's version is known and readable, else None."""
    version = version_of(firmware)
    if version is None:
        return None
    return parse_firmware_range(spec).contains(version)


def glob_problem(pattern: str) -> str | None:
    if not pattern.strip():
        return "empty model pattern"
    if len(pattern) > GLOB_LIMIT:
        return f"model pattern longer than {GLOB_LIMIT} characters"
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if depth not in (0, 1):
            return f"model pattern {pattern!r} has unbalanced brackets"
    if depth:
        return f"model pattern {pattern!r} has an unclosed '['"
    return None


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Case-insensitive fnmatch glob (fnmatch.translate avoids catastrophic backtracking)."""
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def model_matches(patterns: tuple[str, ...], model: str) -> bool:
    model = model[:GLOB_LIMIT]
    return any(compile_glob(p).match(model) for p in patterns)
