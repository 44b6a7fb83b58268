"""Log lines that are not frames but are known: connection opened/closed, ping/pong,
and the ordinary chatter of the software that wrote the log.

Formats, from each peer's source:
- SteVe: logback pattern `[%-5level] %d %c (%thread) - %msg` (logback-spring-prod.xml);
  WebSocketLogger writes "[chargeBoxId=X, sessionId=Y] Connection is established",
  "Connection is closed, status: CloseStatus[code=1006, reason=null]", "Sending ping
  message", "Received pong message" ("Connection ended unexpectedly" is followed by
  the "Connection is closed" line, so only that one counts as the disconnect).
- Home Assistant: `YYYY-MM-DD HH:MM:SS.fff LEVEL (Thread) [logger] message`; the ocpp
  integration logs "Charger websocket path=/CP-1" on connect and "Connection closed to
  'CP-1': <websockets reason>", where the reason is "received 1006 (...)..." or "no close
  frame received or sent" (websockets' way of saying 1006); websockets itself logs
  "% sending keepalive ping" / "% received keepalive pong".
- MicroOcpp: `[MO] <level> (<file>:<line>): <text>` (`[OCPP]` before late 2023,
  `[AO]` in ArduinoOcpp), "Disconnected" / "Connected" from its Connection, and the
  traffic macro's `[MO] Recv: WS pong`.
- stack traces under a Java or Python log record.

Anything else that is neither a frame nor one of these stays an unreadable line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["connected", "closed", "ping", "chatter"]

# A whole SteVe logback line / a whole Home Assistant line: (time, message).
STEVE_LINE = re.compile(
    r"^\[(?P<level>[A-Z]+)\s*\]\s+(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?)\s+"
    r"(?P<logger>\S+)\s+\((?P<thread>[^)]*)\)\s+-\s+(?P<msg>.*)$"
)
HA_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?)\s+(?P<level>[A-Z]+)\s+"
    r"\((?P<thread>[^)]*)\)\s+\[(?P<logger>[^\]]+)\]\s+(?P<msg>.*)$"
)
# MicroOcpp's debug prefix (any of its three names), after an optional serial-monitor time.
MICROOCPP_DEBUG = re.compile(
    r"\[(?:MO|OCPP|AO)\]\s+(?P<level>ERROR|warning|info|debug|verbose)\s+\([^)]*\):\s*(?P<msg>.*)$"
)
MICROOCPP_PONG = re.compile(r"\[(?:MO|OCPP|AO)\]\s*Recv:\s*WS pong\s*$")
_STACK = re.compile(
    r"^(?:at [\w$.<>]+\(.*\)|Caused by: |\.\.\. \d+ (?:more|common frames omitted)|"
    r"Traceback \(most recent call last\):|File \".*\", line \d+)"
)

_SESSION = re.compile(r"\[chargeBoxId=(?P<cp>[^,\]]*),\s*sessionId=[^\]]*\]\s*(?P<rest>.*)$")
_CLOSE_STATUS = re.compile(r"CloseStatus\[code=(?P<code>\d+)")
_HA_OPEN = re.compile(r"Charger websocket path=/?(?:.*/)?(?P<cp>[^/\s]+)\s*$")
_HA_CLOSED = re.compile(r"Connection closed to '(?P<cp>[^']+)':\s*(?P<why>.*)$")
_WS_CODE = re.compile(r"(?:received|sent) (?P<code>\d{4})\b")
_PING = re.compile(r"keepalive (?:ping|pong)|^[<>] (?:PING|PONG)\b|ping message|pong message",
                   re.IGNORECASE)


@dataclass(slots=True)
class ContextLine:
    """One known non-frame line."""

    kind: Kind
    line: int | None = None
    charger: str | None = None
    close_code: int | None = None  # for "closed", when the log gives it
    ts: datetime | None = None
    stored: bool = False  # also read as a connection event Record (charger and time known)


@dataclass(slots=True)
class ContextTally:
    """What the readers put aside: counts per kind and the disconnects in order."""

    counts: Counter[str] = field(default_factory=Counter)
    closes: list[ContextLine] = field(default_factory=list)
    opened_stored: int = 0

    def add(self, item: ContextLine) -> None:
        self.counts[item.kind] += 1
        if item.kind == "closed":
            self.closes.append(item)
        elif item.kind == "connected" and item.stored:
            self.opened_stored += 1

    @property
    def events(self) -> int:
        """Connection events read as Records (the store counts them with the frames)."""
        return sum(1 for c in self.closes if c.stored) + self.opened_stored

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close_codes(self) -> list[tuple[str, int]]:
        """(close code or "?", how many), most frequent first, then by code."""
        codes = Counter(str(c.close_code) if c.close_code is not None else "?"
                        for c in self.closes)
        return sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))


def steve_message(msg: str) -> ContextLine:
    """A SteVe log record's message that is not a frame."""
    m = _SESSION.match(msg)
    if m is None:
        return ContextLine("chatter")
    charger, rest = m["cp"] or None, m["rest"]
    if rest.startswith("Connection is established"):
        return ContextLine("connected", charger=charger)
    if rest.startswith("Connection is closed"):
        code = _CLOSE_STATUS.search(rest)
        return ContextLine("closed", charger=charger,
                           close_code=int(code["code"]) if code else None)
    if _PING.search(rest):
        return ContextLine("ping", charger=charger)
    return ContextLine("chatter", charger=charger)


def ha_message(msg: str) -> ContextLine:
    """A Home Assistant log record's message that is not a frame."""
    m = _HA_CLOSED.search(msg)
    if m:
        why = m["why"]
        code = _WS_CODE.search(why)
        if code:
            close_code: int | None = int(code["code"])
        elif "no close frame" in why:
            close_code = 1006  # websockets: the connection dropped without a close frame
        else:
            close_code = None
        return ContextLine("closed", charger=m["cp"], close_code=close_code)
    m = _HA_OPEN.search(msg)
    if m:
        return ContextLine("connected", charger=m["cp"])
    if _PING.search(msg):
        return ContextLine("ping")
    return ContextLine("chatter")


def microocpp_message(msg: str) -> ContextLine:
    text = msg.strip()
    if text == "Disconnected":
        return ContextLine("closed")
    if text == "Connected":
        return ContextLine("connected")
    return ContextLine("chatter")


def classify(text: str) -> tuple[ContextLine, str | None] | None:
    """(the context line, its time text) for a known non-frame line, else None.

    `text` is a stripped line already known not to hold a readable frame.
    """
    m = STEVE_LINE.match(text)
    if m:
        return steve_message(m["msg"]), m["ts"]
    m = HA_LINE.match(text)
    if m:
        return ha_message(m["msg"]), m["ts"]
    if MICROOCPP_PONG.search(text):
        return ContextLine("ping"), None
    m = MICROOCPP_DEBUG.search(text)
    if m:
        return microocpp_message(m["msg"]), None
    if _STACK.match(text):
        return ContextLine("chatter"), None
    return None
