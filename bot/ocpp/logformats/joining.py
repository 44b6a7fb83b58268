"""Frames written across several lines, and frames glued onto one line.

A charger that pretty-prints its JSON, or a logger that prints the message as it came
(Home Assistant's `ocpp` logs `receive message <text>` verbatim), leaves a frame over
several lines: the readers hold the first line (`Pending`) and add lines until the
brackets close. A line that starts a new log record ends the wait instead, so one
truncated frame never swallows the lines after it.

A serial monitor that missed a newline glues two MicroOcpp lines together:
`glued_parts` cuts such a line where the second one's timestamp or tag begins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_LINES = 500  # a real frame is a few hundred lines pretty-printed at most
MAX_CHARS = 1 << 20

# The start of a log record (or of a one-line frame): never the inside of a frame.
RECORD_START = re.compile(
    r"^(?:\[[A-Z]+\s*\]\s+\d{4}-|\d{4}-\d\d-\d\d[ T]\d\d:|\d\d\.\d\d\.\d{4}[ T]|"
    r"\d\d:\d\d:\d\d\.\d+\s|\[(?:MO|AO|OCPP|operator\(\))\]|\{\"(?:ts|charger)\"|"
    r"\[\s*[234]\s*,)"
)
# Where a glued second line begins, right after the first one's frame closed.
_GLUE = re.compile(
    r"(?<=[\]}])\s*(?=\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d|\d\d\.\d\d\.\d{4}[ T]\d\d:\d\d|"
    r"\d\d:\d\d:\d\d\.\d+\s*-?>|\[(?:MO|AO|OCPP)\]\s*(?:Send|Recv):|\[operator\(\)\])"
)


_FRAME_START = re.compile(r"\[\s*[234]\s*,")


def could_continue(text: str, *, bare: bool = False) -> bool:
    """Whether `text` can be the first line of a frame that goes on over more lines:
    brackets left open, not cut inside a string (JSON strings never span lines). A
    line that is only JSON (`bare`) must be only the opening bracket(s), as pretty
    printers write it; anything else there is a broken line, not the start of a frame."""
    if bare:
        return text.replace(" ", "") in ("[", "{", "[{")
    return _scan(text) == (True, False)


def open_depth(text: str) -> int:
    """How many brackets are still open at the end of `text` (JSON strings skipped):
    0 when balanced, negative when it closes more than it opened. JSON strings never
    span lines, so the depths of a frame's lines add up."""
    return _depth(text)[0]


def _scan(text: str) -> tuple[bool, bool]:
    """(brackets left open, ends inside a string)."""
    depth, in_string = _depth(text)
    return depth > 0, in_string


def _depth(text: str) -> tuple[int, bool]:
    depth = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
    return depth, in_string


@dataclass(slots=True)
class Pending:
    """A frame open since line `first`; `finish(joined_text)` reads it when it closes."""

    first: int
    head: str
    finish: Callable[[str], list[Any]]
    parts: list[str] = field(default_factory=list)
    size: int = 0
    depth: int = 0

    def __post_init__(self) -> None:
        self.parts = [self.head]
        self.size = len(self.head)
        self.depth = open_depth(self.head)

    def add(self, text: str) -> bool:
        """Add a line; False when the frame has grown past any real frame's size."""
        self.parts.append(text)
        self.size += len(text) + 1
        self.depth += open_depth(text)
        return len(self.parts) <= MAX_LINES and self.size <= MAX_CHARS

    @property
    def closed(self) -> bool:
        return self.depth <= 0

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def glued_parts(text: str) -> list[str]:
    """A line cut where a glued second log line begins (one part when not glued)."""
    parts: list[str] = []
    start = 0
    for m in _GLUE.finditer(text):
        head = text[start : m.start()]
        # Only after a whole frame: `[operator()] [MO] Recv:` is one line's own prefix.
        frame = _FRAME_START.search(head)
        if frame is not None and open_depth(head[frame.start() :]) == 0:
            parts.append(head.strip())
            start = m.start()
    parts.append(text[start:].strip())
    return [p for p in parts if p]
