"""Readers: turn OCPP logs in the formats seen in the wild into `Record`s.

One line in, zero or more Records (or one LineError) out. A bad line never stops the
run and never costs the lines around it. Accepted per line:

- contract 1: `{"ts", "charger", "dir", "frame", "ocpp"?}`
- a bare frame `[2,"id","Action",{...}]` (charger from the caller, direction inferred
  from the action: a CALL the charger starts is "in"; a result goes the other way of
  its CALL) or a JSON array of such frames on one line
- timestamp-prefixed frames: `2024-01-01T10:00:00.000Z [2,...]`, `1704067200.123 [3,...]`
- wrapped objects `{"timestamp": ..., "message": [...]}`
- triples `[ts, direction, frame]`
- SteVe logback lines (`[chargeBoxId=X, sessionId=Y] Received:/Sending: <frame>`)
- mobilityhouse `ocpp` / Home Assistant lines (`<cpid>: receive message <frame>` /
  `<cpid>: send <frame>`)
- MicroOcpp lines (`[MO]`/`[OCPP]`/`[AO]` `Send: <frame>` / `Recv: <frame>`,
  `[sendTXT] <frame>`, `[operator()]` lines with day-first times); it runs on the
  charger, so Send is "in". A serial-monitor line with a second line glued on is cut.
- CitrineOS `OCPPMessages` rows (JSON, or CSV from `psql --csv` with or without the
  header), webhook bodies and broker message bodies (`origin` cs/csms, `message` or
  `payload`, `timestamp`, `stationId`); an OcppError response payload is the CALLERROR
  CitrineOS sends
- a frame logged over several lines (Home Assistant, pretty-printed JSON) is joined

Known non-frame lines (connection opened/closed with its close code, ping/pong, the
log chatter of SteVe, Home Assistant and MicroOcpp: logformats.context) are context,
not errors: they go to the caller's ContextTally, if any. A connection opened or
closed whose charger and time are known is also yielded as a connection event
(events.CONNECTION), so it is stored and folded in order with the frames. Zone-less
log times are in the caller's `timezone`, else UTC with a note.

Lines are read as bytes with a cap (MAX_LINE_BYTES): a longer line is measured and
reported without being decoded. Empty lines and lines starting with `#` are skipped.
When a line has no time of its own, ts comes from the payload's timestamp, else from
the previous line, else from the moment reading started, and the Record says so in
`notes` (the parser turns notes into violations).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from bot.ocpp.actions import call_direction
from bot.ocpp.events import CALL, CALLERROR, CALLRESULT, CONNECTION, LineError, Record
from bot.ocpp.logformats import context as ctx
from bot.ocpp.logformats.citrineos import csv_header, csv_row, error_frame, is_ocpp_error
from bot.ocpp.logformats.joining import RECORD_START, Pending, could_continue, glued_parts
from bot.ocpp.reasons import RejectReason
from bot.ocpp.spans import NotSplit, element_spans, member_span, split_common, split_contract1
from bot.ocpp.times import EARLIEST, LATEST, BadTimestamp, parse_timestamp

MAX_LINE_BYTES = 1 << 20  # 1 MiB: real frames are a few kB; firmware dumps are not frames
_PENDING_LIMIT = 10_000  # CALL directions remembered per stream, for bare results
_BYTES_WS = " \t\n\r\x0b\x0c"  # what bytes.strip() strips
_fromisoformat = datetime.fromisoformat
_YEAR_LO, _YEAR_HI = EARLIEST.year, LATEST.year

_DIRECTION_WORDS = {
    "in": "in",
    "out": "out",
    "incoming": "in",
    "outgoing": "out",
    "received": "in",
    "receive": "in",
    "recv": "in",
    "rx": "in",
    "sent": "out",
    "send": "out",
    "sending": "out",
    "tx": "out",
    "cs": "in",
    "csms": "out",
}

_LOG_TIME = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)")
# Day-first times (`[operator()]` serial logs): DD.MM.YYYY HH:MM:SS
_DMY_TIME = re.compile(r"\b(\d\d)\.(\d\d)\.(\d{4})[ T](\d\d:\d\d:\d\d(?:[.,]\d+)?)")
_STEVE = re.compile(
    r"\[chargeBoxId=(?P<cp>[^,\]]*),\s*sessionId=[^\]]*\]\s*(?P<verb>Received|Sending):\s*(?P<frame>.*)$"
)
_MOBILITYHOUSE = re.compile(
    r"(?P<cp>[^\s:\[\]]+): (?P<verb>receive message|send) (?P<frame>[\[{].*)$"
)
# [MO] today, [OCPP] in late 2023 releases, [AO] in ArduinoOcpp.
_MICROOCPP = re.compile(r"\[(?:AO|MO|OCPP)\]\s*(?P<verb>Send|Recv):\s*(?P<frame>.*)$")
_OPERATOR = re.compile(
    r"\[operator\(\)\]:?\s*(?:\[(?:AO|MO|OCPP)\]\s*)?"
    r"(?:(?P<verb>Send|Recv|Sending|Received|send|recv)\b:?\s*)?(?P<frame>\[.*)$"
)
_MICROOCPP_TXT = re.compile(r"\[(?P<verb>sendTXT|recvTXT)\]\s*(?P<frame>.*)$")


def read_file(
    path: Path | str,
    *,
    charger: str | None = None,
    timezone: ZoneInfo | None = None,
    context: ctx.ContextTally | None = None,
) -> Iterator[Record | LineError]:
    """Records from a log file ("-" reads standard input).

    timezone: the zone of log times written without one (default UTC, with a note).
    context: collects the known non-frame lines (connections, pings, chatter); without
    it they are skipped all the same, never reported as unreadable.
    """
    options = _Options(charger, timezone, context)
    if str(path) == "-":
        yield from _read_stream(sys.stdin.buffer, "<stdin>", options)
        return
    source = str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        yield LineError(
            source,
            None,
            f"cannot open {source}: {exc.strerror or exc}",
            kind=RejectReason.UNREADABLE_SOURCE,
        )
        return
    try:
        yield from _read_stream(stream, source, options)
    finally:
        stream.close()


def read_lines(
    lines: Iterable[bytes | str],
    *,
    source: str,
    charger: str | None = None,
    timezone: ZoneInfo | None = None,
    context: ctx.ContextTally | None = None,
) -> Iterator[Record | LineError]:
    """Records from lines of bytes (str lines are accepted too); options as read_file."""
    reader = _LineReader(source, _Options(charger, timezone, context))
    feed, feed_text, common = reader.feed, reader.feed_text, reader.common
    for number, item in enumerate(lines, 1):
        if isinstance(item, str):
            # ASCII text needs no bytes round trip (its length is its size in bytes);
            # anything else is measured and checked as the bytes a file would hold.
            if item.isascii() and len(item) <= MAX_LINE_BYTES:
                if item[:1] == "{" and reader.pending is None:
                    record = common(number, item)
                    if record is not None:
                        yield record
                        continue
                yield from feed_text(number, item)
                continue
            line = item.encode("utf-8", "surrogatepass")
        else:
            line = item
        if len(line) > MAX_LINE_BYTES:
            yield reader.too_long(number, len(line))
            continue
        if line[:1] == b"{" and reader.pending is None:
            record = _common_bytes(common, number, line)
            if record is not None:
                yield record
                continue
        yield from feed(number, line)
    yield from reader.finish()


def read_json_objects(objs: Iterable[Any], *, source: str) -> Iterator[Record | LineError]:
    """Records from already-decoded JSON bodies (webhook posts, broker messages).

    Each object may be any of the object or array shapes `read_lines` accepts; its
    position (1-based) stands in for the line number.
    """
    reader = _LineReader(source, _Options(None, None, None))
    for number, obj in enumerate(objs, 1):
        yield from reader.decoded(number, obj, None, None)


def _read_stream(stream: BinaryIO, source: str, options: _Options) -> Iterator[Record | LineError]:
    reader = _LineReader(source, options)
    feed, common = reader.feed, reader.common
    number = 0
    readline = stream.readline
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if not line:
            yield from reader.finish()
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            yield from reader.finish()  # a frame cannot continue across a line this long
            # Measure the rest of the line in chunks; never hold or decode all of it.
            size = len(line)
            while True:
                more = readline(MAX_LINE_BYTES)
                if not more:
                    break
                size += len(more)
                if more.endswith(b"\n"):
                    break
            yield reader.too_long(number, size)
            continue
        if line[:1] == b"{" and reader.pending is None:
            record = _common_bytes(common, number, line)
            if record is not None:
                yield record
                continue
        yield from feed(number, line)


def _common_bytes(
    common: Callable[[int, str], Record | LineError | None], number: int, line: bytes
) -> Record | LineError | None:
    try:
        text = line.decode()
    except UnicodeDecodeError:  # feed() says where
        return None
    return common(number, text)


class _Options:
    """What the caller says about a stream: its charger, the zone of zone-less times,
    and where known non-frame lines go."""

    __slots__ = ("charger", "context", "timezone")

    def __init__(
        self, charger: str | None, timezone: ZoneInfo | None, context: ctx.ContextTally | None
    ) -> None:
        self.charger, self.timezone, self.context = charger, timezone, context


class _LineReader:
    """Per-stream state: the source name, the default charger, the last time seen,
    the directions of recent CALLs (so a bare CALLRESULT goes the other way) and a
    frame still open across lines."""

    def __init__(self, source: str, options: _Options) -> None:
        self.source = source
        self.charger = options.charger
        self.timezone = options.timezone
        self.context = options.context
        self.started = datetime.now(UTC)
        self.last_ts: datetime | None = None
        self.call_dirs: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.pending: Pending | None = None
        self.csv_columns: list[str] | None = None  # from a CitrineOS CSV export's header

    def finish(self) -> list[Record | LineError]:
        """At the end of the stream: a frame still open is reported at its first line."""
        pending, self.pending = self.pending, None
        return [] if pending is None else [self._unclosed(pending)]

    # --- entry points --------------------------------------------------------------

    def too_long(self, number: int, size: int) -> LineError:
        return LineError(
            self.source,
            number,
            f"too long ({_size(size)}, limit {_size(MAX_LINE_BYTES)})",
            kind=RejectReason.TOO_LONG,
        )

    def feed(self, number: int, line: bytes) -> list[Record | LineError]:
        line = line.strip()
        if not line or line[0] == 35:  # '#': a comment
            return []
        nul = line.find(b"\x00")
        if nul >= 0:
            return [self._error(number, f"NUL byte at column {nul + 1}", _bytes_excerpt(line),
                                RejectReason.BAD_ENCODING)]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return [
                self._error(number, f"invalid UTF-8 at byte {exc.start + 1}", _bytes_excerpt(line),
                            RejectReason.BAD_ENCODING)
            ]
        if text[0] == "\ufeff":  # a byte-order mark on the first line
            text = text[1:].lstrip()
            if not text:
                return []
        return self._line(number, text)

    def feed_text(self, number: int, line: str) -> list[Record | LineError]:
        """feed() for an ASCII str line: the same checks without encoding it first."""
        text = line.strip(_BYTES_WS)  # what bytes.strip() removes, no more
        if not text or text[0] == "#":
            return []
        if "\x00" in text:
            return self.feed(number, text.encode())
        return self._line(number, text)

    def common(self, number: int, text: str) -> Record | LineError | None:
        """The hot path: a contract-1 line in the shape faultbot's own tools and most
        producers write (spans.split_common), else None. `text` may still carry the
        line's trailing whitespace; a line this accepts has no NUL byte, no BOM and
        nothing else feed() would refuse before decoding."""
        parts = split_common(text)
        if parts is None:
            return None
        stamp, charger, direction, frame, ocpp, start, end = parts
        notes: list[str] = []
        ts = self._stamp(stamp, frame, notes)
        if isinstance(ts, LineError):
            return self._with_line(ts, number)
        # Positional (Record's field order): keywords cost more on this hot path.
        return Record(
            ts, charger, direction, frame, ocpp, text[start:end],  # type: ignore[arg-type]  # direction: "in"/"out" by now
            self.source, number, tuple(notes) if notes else (),
        )  # fmt: skip

    def _line(self, number: int, text: str) -> list[Record | LineError]:
        """One stripped, decoded, non-empty line."""
        if self.pending is not None:
            return self._continue(number, text)
        first = text[0]
        if first == "{":
            # Contract-1 lines, split so the frame is decoded once and kept verbatim:
            # first the shape our own tools write, then any key order and spacing.
            record = self.common(number, text)
            if record is not None:
                return [record]
            try:
                obj, start, end = split_contract1(text)
            except NotSplit:
                pass
            else:
                return [self._contract1(number, obj, text[start:end])]
        if first == "{" or (first == "[" and not (len(text) > 1 and text[1].isalpha())):
            obj = _decode(text)
            if obj is _BAD and could_continue(text, bare=True):  # pretty-printed JSON
                self.pending = Pending(number, text, lambda joined: self._line(number, joined))
                return []
            if obj is _BAD:
                try:
                    json.loads(text)  # again, slowly, for the reason
                except (ValueError, RecursionError) as exc:
                    return [self._error(number, f"not JSON: {_json_reason(exc)}", text,
                                        RejectReason.NOT_JSON)]
            return self.decoded(number, obj, None, text)
        return self._log_line(number, text)

    def decoded(
        self, number: int, obj: Any, ts: datetime | None, text: str | None
    ) -> list[Record | LineError]:
        """Records from one decoded JSON value (ts: a time found outside it)."""
        if isinstance(obj, dict):
            return self._from_object(number, obj, ts, text)
        if isinstance(obj, list):
            return self._from_array(number, obj, ts, text)
        return [self._error(number, f"JSON {type(obj).__name__} is not a record or frame", text)]

    # --- shapes ----------------------------------------------------------------------

    def _from_object(
        self, number: int, obj: dict[str, Any], ts: datetime | None, text: str | None
    ) -> list[Any]:
        if "frame" in obj:
            return [self._contract1(number, obj, _member_text(text, "frame"))]
        if "message" in obj and ("origin" in obj or "stationId" in obj or "event" in obj):
            return self._citrine_row(number, obj, text)
        if "message" in obj:
            return self._wrapped(number, obj, ts, text)
        if ("payload" in obj or "_payload" in obj) and ("origin" in obj or "_origin" in obj):
            return [self._citrine_broker(number, obj)]
        keys = ", ".join(sorted(str(k) for k in obj)[:6])
        return [
            self._error(
                number,
                f"JSON object is not a known record shape (keys: {keys}; "
                "expected ts, charger, dir, frame)",
                None,
            )
        ]

    def _contract1(self, number: int, obj: dict[str, Any], raw: str | None) -> Record | LineError:
        """A contract-1 object; raw is the frame's text in the line (None: no text)."""
        frame = obj["frame"]
        charger = obj.get("charger", self.charger)
        if type(charger) is not str:
            if isinstance(charger, int) and not isinstance(charger, bool):
                charger = str(charger)
            elif not isinstance(charger, str):
                return self._error(
                    number, "no charger id (field 'charger' missing or not text)", None,
                    RejectReason.MISSING_CHARGER,
                )
        notes: list[str] = []
        ts = self._stamp(obj.get("ts"), frame, notes)
        if isinstance(ts, LineError):
            return self._with_line(ts, number)
        direction = obj.get("dir")
        if direction is None:
            direction = self._guess_direction(charger, frame, notes)
            self._remember_call(charger, frame, direction)
        elif direction not in ("in", "out"):
            word = _DIRECTION_WORDS.get(str(direction).lower())
            if word is None:
                return self._error(number, f"dir {_short(direction)} is not 'in' or 'out'", None,
                                   RejectReason.BAD_DIRECTION)
            direction = word
        ocpp = obj.get("ocpp")
        if ocpp is not None and type(ocpp) is not str:
            ocpp = str(ocpp)
        # Positional (Record's field order): keywords cost more on this hot path.
        return Record(
            ts, charger, direction, frame, ocpp, raw or "", self.source, number,  # type: ignore[arg-type]  # direction: "in"/"out" by now
            tuple(notes) if notes else (),
        )  # fmt: skip

    def _wrapped(
        self, number: int, obj: dict[str, Any], ts: datetime | None, text: str | None
    ) -> list[Any]:
        frame = obj["message"]
        if isinstance(frame, str):
            return self._frame_text(number, frame, obj.get("timestamp"), None, None, None)
        charger = obj.get("charger") or obj.get("chargeBoxId") or obj.get("stationId")
        direction = obj.get("direction") or obj.get("dir")
        return [
            self._bare(
                number,
                frame,
                obj.get("timestamp", obj.get("ts")) if ts is None else ts,
                _member_text(text, "message"),
                charger=charger if isinstance(charger, str) else None,
                direction=_DIRECTION_WORDS.get(str(direction).lower()) if direction else None,
                ocpp=obj.get("ocpp"),
            )
        ]

    def _citrine_row(self, number: int, obj: dict[str, Any], text: str | None) -> list[Any]:
        event = obj.get("event")
        if event in ("connected", "closed"):
            # Connection events carry no frame; nothing downstream consumes them yet.
            return []
        given = obj.get("info")
        info: dict[str, Any] = given if isinstance(given, dict) else {}
        charger = obj.get("stationId")
        if not isinstance(charger, str):
            return [self._error(number, "CitrineOS message without a stationId", None,
                                RejectReason.MISSING_CHARGER)]
        origin = obj.get("origin", info.get("origin"))
        direction = {"cs": "in", "csms": "out"}.get(str(origin))
        if direction is None:
            return [self._error(number, f"origin {_short(origin)} is not 'cs' or 'csms'", None,
                                RejectReason.BAD_DIRECTION)]
        stamp = obj.get("timestamp", info.get("timestamp"))
        protocol = obj.get("protocol", info.get("protocol"))
        ocpp = _protocol_version(protocol)
        message = obj["message"]
        if isinstance(message, str):
            records = self._frame_text(number, message, stamp, charger, direction, ocpp)
        else:
            records = [
                self._bare(
                    number,
                    message,
                    stamp,
                    _member_text(text, "message"),
                    charger=charger,
                    direction=direction,
                    ocpp=ocpp,
                )
            ]
        # CitrineOS posts a call and its reply concurrently, so the reply may come
        # first; info.action names it (like the broker's `action` header).
        action = info.get("action")
        for record in records:
            if isinstance(record, Record):
                _citrine_error(record)
                if isinstance(action, str) and action not in ("", "undefined"):
                    record.action_hint = action
        return records

    def _citrine_broker(self, number: int, obj: dict[str, Any]) -> Record | LineError:
        """A CitrineOS broker message body, in either key style (`origin` / `_origin`)."""

        def get(key: str) -> Any:
            return obj[key] if key in obj else obj.get("_" + key)

        given = get("context")
        context: dict[str, Any] = given if isinstance(given, dict) else {}
        ctx = {k.lstrip("_"): v for k, v in context.items()}
        charger, corr = ctx.get("stationId"), ctx.get("correlationId")
        direction = {"cs": "in", "csms": "out"}.get(str(get("origin")))
        if not isinstance(charger, str):
            return self._error(number, "broker message without context.stationId", None,
                               RejectReason.MISSING_CHARGER)
        if direction is None:
            return self._error(
                number, f"origin {_short(get('origin'))} is not 'cs' or 'csms'", None,
                RejectReason.BAD_DIRECTION,
            )
        action, state, payload = get("action"), str(get("state")), get("payload")
        if state == "1":
            frame: list[Any] = [CALL, corr, action, payload]
        elif state == "2" and is_ocpp_error(payload):
            frame = error_frame(corr, payload)
        elif state == "2":
            frame = [CALLRESULT, corr, payload]
        else:
            return self._error(
                number, f"broker message state {_short(get('state'))} is not 1 or 2", None
            )
        record = self._bare(
            number,
            frame,
            ctx.get("timestamp"),
            None,
            charger=charger,
            direction=direction,
            ocpp=_protocol_version(get("protocol")),
        )
        if isinstance(record, Record) and state == "2" and isinstance(action, str):
            record.action_hint = action
        return record

    def _from_array(
        self, number: int, arr: list[Any], ts: datetime | None, text: str | None
    ) -> list[Any]:
        if not arr:
            return [self._error(number, "empty JSON array is not a frame", text,
                                RejectReason.NOT_A_FRAME)]
        head = arr[0]
        if isinstance(head, list):  # a JSON array of frames on one line
            texts = _element_texts(text, len(arr))
            pairs = zip(arr, texts, strict=True)
            return [self._bare(number, frame, ts, raw) for frame, raw in pairs]
        if (
            len(arr) == 3
            and isinstance(arr[1], str)
            and arr[1].lower() in _DIRECTION_WORDS
            and isinstance(arr[2], list)
            and not (isinstance(head, int) and head in (CALL, CALLRESULT, CALLERROR))
        ):  # a [ts, direction, frame] triple
            raw = _element_texts(text, 3)[2]
            return [
                self._bare(number, arr[2], head, raw, direction=_DIRECTION_WORDS[arr[1].lower()])
            ]
        return [self._bare(number, arr, ts, text)]

    def _frame_text(
        self,
        number: int,
        text: str,
        stamp: Any,
        charger: str | None,
        direction: str | None,
        ocpp: str | None,
        notes: tuple[str, ...] = (),
        *,
        joinable: bool = False,
    ) -> list[Any]:
        """A frame given as text; `joinable`: a log line, whose frame may go on over
        the next lines (never for a JSON member's text, which is whole)."""
        text = text.strip()
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError) as exc:
            if joinable and could_continue(text):  # a frame logged across several lines
                self.pending = Pending(
                    number,
                    text,
                    lambda joined: self._frame_text(
                        number, joined, stamp, charger, direction, ocpp, notes
                    ),
                )
                return []
            return [self._error(number, f"frame is not JSON: {_json_reason(exc)}", text,
                                RejectReason.NOT_JSON)]
        if isinstance(frame, dict):
            return [self._error(number, "frame is a JSON object, not an OCPP-J array", text,
                                RejectReason.NOT_A_FRAME)]
        record = self._bare(
            number, frame, stamp, text, charger=charger, direction=direction, ocpp=ocpp
        )
        if notes and isinstance(record, Record):
            record.notes = (*record.notes, *notes)
        return [record]

    def _bare(
        self,
        number: int,
        frame: Any,
        stamp: Any,
        raw: str | None,
        *,
        charger: str | None = None,
        direction: str | None = None,
        ocpp: Any = None,
    ) -> Record | LineError:
        """A Record for a frame whose charger/direction may have to come from elsewhere."""
        charger = charger or self.charger
        if charger is None:
            return self._error(
                number,
                "no charger id for a bare frame (give the charger, e.g. --charger CP-1)",
                raw,
                RejectReason.MISSING_CHARGER,
            )
        notes: list[str] = []
        ts = stamp if isinstance(stamp, datetime) else self._time_of(stamp, frame, notes)
        if isinstance(ts, LineError):
            return self._with_line(ts, number)
        if direction is None:
            direction = self._guess_direction(charger, frame, notes)
        self._remember_call(charger, frame, direction)
        return Record(
            ts=ts,
            charger=charger,
            direction=direction,  # type: ignore[arg-type]  # "in"/"out", guessed or given
            frame=frame,
            ocpp=None if ocpp is None else str(ocpp),
            raw=raw or "",
            source=self.source,
            line=number,
            notes=tuple(notes),
        )

    def _log_line(self, number: int, text: str) -> list[Any]:
        """SteVe, mobilityhouse/HA, MicroOcpp, `<timestamp> <frame>`, or a known
        non-frame line; a serial-monitor line with a second one glued on is cut first."""
        if "O]" in text or "P]" in text or "operator()" in text:
            parts = glued_parts(text)
            if len(parts) > 1:
                return [r for part in parts for r in self._one_log_line(number, part)]
        return self._one_log_line(number, text)

    def _one_log_line(self, number: int, text: str) -> list[Any]:
        if "chargeBoxId=" in text:
            m = _STEVE.search(text)
            if m:
                direction = "in" if m["verb"] == "Received" else "out"
                return self._log_frame(number, text, m, m["cp"], direction)
        if "receive message" in text or ": send " in text:
            m = _MOBILITYHOUSE.search(text)
            if m:
                direction = "in" if m["verb"] == "receive message" else "out"
                return self._log_frame(number, text, m, m["cp"], direction)
        if "O]" in text or "P]" in text or "TXT]" in text:
            if ctx.MICROOCPP_PONG.search(text):  # a WebSocket pong, not a frame
                return self._context(number, ctx.ContextLine("ping"), None)
            m = _MICROOCPP.search(text) or _MICROOCPP_TXT.search(text)
            if m:
                # MicroOcpp runs on the charger: what it sends goes to the CSMS.
                direction = "in" if m["verb"].startswith(("Send", "send")) else "out"
                return self._log_frame(number, text, m, None, direction)
        if "[operator()]" in text:
            m = _OPERATOR.search(text)
            if m:
                verb = (m["verb"] or "").lower()
                guess = None if not verb else ("in" if verb.startswith("send") else "out")
                return self._log_frame(number, text, m, None, guess)
        return self._prefixed(number, text)

    def _log_time(self, text: str) -> tuple[datetime | None, tuple[str, ...]]:
        """The first log time in `text` (ISO or day-first), in UTC; zone-less times are
        in --timezone, else UTC with a note. BadTimestamp when it is not a real time."""
        found = _LOG_TIME.search(text)
        if found:
            value = found[1].replace(",", ".")
        else:
            dmy = _DMY_TIME.search(text)
            if dmy is None:
                return None, ()
            value = f"{dmy[3]}-{dmy[2]}-{dmy[1]} {dmy[4].replace(',', '.')}"
        return self._zoned(value)

    def _zoned(self, value: str) -> tuple[datetime, tuple[str, ...]]:
        stamp, had_zone = parse_timestamp(value)
        if had_zone:
            return stamp, ()
        if self.timezone is not None:
            return stamp.replace(tzinfo=self.timezone).astimezone(UTC), ()
        return stamp, ("log time has no time zone; assumed UTC",)

    def _log_frame(
        self, number: int, text: str, m: re.Match[str], charger: str | None, direction: str | None
    ) -> list[Any]:
        try:
            stamp, notes = self._log_time(text[: m.start()])
        except BadTimestamp as exc:
            return [self._error(number, str(exc), text, RejectReason.BAD_TIMESTAMP)]
        if stamp is not None:
            self.last_ts = stamp
        return self._frame_text(
            number, m["frame"], stamp, charger or None, direction, None, notes, joinable=True
        )

    def _prefixed(self, number: int, text: str) -> list[Any]:
        """`<timestamp> <frame>`; the timestamp may itself contain one space."""
        parts = text.split(None, 2)
        for cut in (1, 2):
            if len(parts) <= cut:
                break
            head = " ".join(parts[:cut])
            rest = text[len(head) :].lstrip() if cut == 1 else (parts[2] if len(parts) > 2 else "")
            if not rest or rest[0] not in "[{":
                continue
            try:
                stamp, had_zone = parse_timestamp(head.replace(",", "."))
            except BadTimestamp:
                continue
            if not had_zone and self.timezone is not None:
                stamp, had_zone = stamp.replace(tzinfo=self.timezone).astimezone(UTC), True
            try:
                obj = json.loads(rest)
            except (ValueError, RecursionError) as exc:
                if could_continue(rest):  # pretty-printed after its time: join the rest
                    self.pending = Pending(
                        number, text, lambda joined: self._prefixed(number, joined)
                    )
                    return []
                return [
                    self._error(
                        number, f"frame after the timestamp is not JSON: {_json_reason(exc)}", text,
                        RejectReason.NOT_JSON,
                    )
                ]
            self.last_ts = stamp
            records = self.decoded(number, obj, stamp, rest)
            if not had_zone:
                for r in records:
                    if isinstance(r, Record):
                        r.notes = (*r.notes, "line time has no time zone; assumed UTC")
            return records
        if "," in text:
            exported = self._citrine_csv(number, text)
            if exported is not None:
                return exported
        known = ctx.classify(text)
        if known is not None:
            return self._context(number, *known)
        return [self._error(number, "not JSON and not a known OCPP log line format", text)]

    def _citrine_csv(self, number: int, text: str) -> list[Any] | None:
        """A CitrineOS OCPPMessages CSV header (remembered) or row (read like the JSON
        export's row); None when the line is neither."""
        header = csv_header(text)
        if header is not None:
            self.csv_columns = header
            return []
        row = csv_row(text, self.csv_columns)
        return None if row is None else self._citrine_row(number, row, None)

    def _context(self, number: int, item: ctx.ContextLine, stamp: str | None) -> list[Any]:
        """A known non-frame line: counted; a connection opened or closed is also a
        connection event Record (events.CONNECTION) when its charger and time are known."""
        item.line = number
        item.charger = item.charger or self.charger
        notes: tuple[str, ...] = ()
        if stamp is not None:
            try:
                item.ts, notes = self._zoned(stamp.replace(",", "."))
            except BadTimestamp:
                item.ts = None
        elif item.kind in ("connected", "closed") and self.last_ts is not None:
            item.ts, notes = self.last_ts, ("no log time; using the previous line's time",)
        out: list[Any] = []
        if item.kind in ("connected", "closed") and item.charger and item.ts is not None:
            self.last_ts = item.ts
            out.append(self._connection_record(number, item, notes))
            item.stored = True
        if self.context is not None:
            self.context.add(item)
        return out

    def _connection_record(
        self, number: int, item: ctx.ContextLine, notes: tuple[str, ...]
    ) -> Record:
        assert item.charger is not None and item.ts is not None  # the caller checked both
        details: dict[str, Any] = {}
        if item.close_code is not None:
            details["closeCode"] = item.close_code
        # The id is the event itself, so reading the same log again stores it once.
        when = item.ts.isoformat() if item.ts else ""
        key = f"{item.charger}|{when}|{item.kind}|{item.close_code}"
        uid = "conn-" + hashlib.sha1(key.encode()).hexdigest()[:20]
        return Record(
            ts=item.ts,
            charger=item.charger,
            direction="in",
            frame=[CONNECTION, uid, item.kind, details],
            source=self.source,
            line=number,
            notes=notes,
        )

    def _continue(self, number: int, text: str) -> list[Any]:
        """The next line of a frame open across lines."""
        pending = self.pending
        assert pending is not None
        if RECORD_START.match(text):  # a new log record: the open frame never closed
            self.pending = None
            return [self._unclosed(pending), *self._line(number, text)]
        if not pending.add(text):
            self.pending = None
            return [self._unclosed(pending)]
        if pending.closed:
            self.pending = None
            return pending.finish(pending.text)
        return []

    def _unclosed(self, pending: Pending) -> LineError:
        lines = len(pending.parts)
        return self._error(
            pending.first,
            f"frame not closed (its brackets stay open over {lines} line"
            f"{'' if lines == 1 else 's'})",
            pending.head,
            RejectReason.NOT_JSON,
        )

    # --- helpers ---------------------------------------------------------------------

    def _stamp(self, stamp: Any, frame: Any, notes: list[str]) -> datetime | LineError:
        """_time_of with the common case first: an ISO time ending in Z, which
        fromisoformat turns into a UTC datetime (the UTC singleton: nothing to convert)."""
        if type(stamp) is str and stamp[-1:] == "Z":
            try:
                ts = _fromisoformat(stamp)
            except ValueError:
                pass
            else:
                if ts.tzinfo is UTC and _YEAR_LO <= ts.year < _YEAR_HI:
                    self.last_ts = ts
                    return ts
        return self._time_of(stamp, frame, notes)

    def _time_of(self, stamp: Any, frame: Any, notes: list[str]) -> datetime | LineError:
        """The CSMS time for a record: its own, else a payload's, else the last seen."""
        if stamp is not None:
            try:
                ts, had_zone = parse_timestamp(stamp)
            except BadTimestamp as exc:
                return LineError(self.source, None, f"ts: {exc}", _short(stamp),
                                 kind=RejectReason.BAD_TIMESTAMP)
            if not had_zone:
                notes.append("ts has no time zone; assumed UTC")
            self.last_ts = ts
            return ts
        payload = frame[3] if isinstance(frame, list) and len(frame) == 4 else None
        if isinstance(payload, dict):
            inner = payload.get("timestamp") or payload.get("generatedAt")
            if inner is not None:
                try:
                    ts, _ = parse_timestamp(inner)
                except BadTimestamp:
                    pass
                else:
                    notes.append("no CSMS time; using the payload timestamp")
                    self.last_ts = ts
                    return ts
        if self.last_ts is not None:
            notes.append("no CSMS time; using the previous line's time")
            return self.last_ts
        notes.append("no CSMS time; using the time it was read")
        return self.started

    def _guess_direction(self, charger: str, frame: Any, notes: list[str]) -> str:
        if not isinstance(frame, list) or len(frame) < 3:
            return "in"
        kind = frame[0]
        if kind == CALL and isinstance(frame[2], str):
            return call_direction(frame[2])
        if kind in (CALLRESULT, CALLERROR):
            uid = frame[1] if isinstance(frame[1], str) else str(frame[1])
            call_dir = self.call_dirs.pop((charger, uid), None)
            if call_dir is not None:
                return "out" if call_dir == "in" else "in"
            notes.append("direction guessed: a reply whose CALL was not seen")
            return "out"  # most exchanges are the CSMS answering a charger's CALL
        return "in"

    def _remember_call(self, charger: str, frame: Any, direction: str) -> None:
        if isinstance(frame, list) and len(frame) >= 3 and frame[0] == CALL:
            calls = self.call_dirs
            if len(calls) >= _PENDING_LIMIT:
                calls.popitem(last=False)
            calls[(charger, str(frame[1]))] = direction

    def _error(
        self,
        number: int,
        reason: str,
        text: str | None,
        kind: RejectReason = RejectReason.UNKNOWN_SHAPE,
    ) -> LineError:
        return LineError(self.source, number, reason, _excerpt(text) if text else "", kind=kind)

    def _with_line(self, error: LineError, number: int) -> LineError:
        error.line = number
        return error


_BAD = object()
_scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner; not in typeshed


def _decode(text: str) -> Any:
    """json.loads for a stripped line, without its Python layers; _BAD on any error."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return _BAD
    return value if end == len(text) else _BAD


def _citrine_error(record: Record) -> None:
    """A CitrineOS reply frame whose payload is an OcppError becomes the CALLERROR
    CitrineOS turns it into (its stored text is then the rebuilt frame)."""
    frame = record.frame
    is_reply = isinstance(frame, list) and len(frame) == 3 and frame[0] == CALLRESULT
    if is_reply and is_ocpp_error(frame[2]):
        record.frame = error_frame(frame[1], frame[2])
        record.raw = ""


def _protocol_version(protocol: Any) -> str | None:
    if not isinstance(protocol, str):
        return None
    return protocol.removeprefix("ocpp") or None


def _member_text(text: str | None, key: str) -> str | None:
    """The verbatim text of a top-level member's value, when the line's text is known."""
    if text is None:
        return None
    span = member_span(text, key)
    return None if span is None else text[span[0] : span[1]]


def _element_texts(text: str | None, count: int) -> list[str | None]:
    """The verbatim text of each element of a top-level array (None where unknown)."""
    spans = element_spans(text) if text is not None else None
    if text is None or spans is None or len(spans) != count:
        return [None] * count
    return [text[a:b] for a, b in spans]


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        # json's messages either end in "at" ("Unterminated string starting at") or
        # not ("Expecting value"); the position reads cleanly either way.
        msg = exc.msg[:1].lower() + exc.msg[1:]
        return f"{msg.removesuffix(' at')} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:80]


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0 and n < 10 << 20:
        return f"{n >> 20} MiB"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n / 1000:.1f} kB"
    return f"{n} bytes"


def _excerpt(text: str, limit: int = 60) -> str:
    """The start of a line, safe to print: control characters escaped."""
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return cut + ("..." if len(text) > limit else "")


def _bytes_excerpt(line: bytes) -> str:
    return _excerpt(line[:60].decode("utf-8", "backslashreplace"))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
