"""The parser: one `Record` in, one `Message` (or `LineError`) out.

What it decides, in order:

1. Is this a frame at all? Not an array, a message type id other than 2/3/4 (or 0: a
   connection event, events.CONNECTION, read as such and nothing more), no
   unique id, a payload that is not an object, a CALL action that is not an action
   name, an unusable charger id: a LineError with the reason. Nothing else is.
2. The OCPP version: the declared one (an unknown declared version is a LineError),
   unless the CALL's shape contradicts it (a NotifyEvent labelled 1.6, a 1.6-shaped
   StatusNotification labelled 2.0.1): then the shape wins, with a violation saying so;
   else for a result, its CALL's; else from the action and payload shape
   (StatusNotification with connectorStatus/evseId is 2.x, chargePointVendor is 1.6,
   TransactionEvent/NotifyEvent are 2.x, 2.1-only actions or NotifyEvent severity are
   2.1); else what the charger's BootNotification said; else 1.6.
   `version_inferred` is True whenever it was not declared.
3. Correlation: CALLs are remembered per (charger, unique id) in a bounded LRU, so a
   CALLRESULT gets its CALL's action (BootNotification -> BootReply, StartTransaction ->
   TransactionUpdate with the transaction id) and a CALLERROR names what failed.
4. Lenient validation against the `ocpp` package's schemas: problems become short
   strings in `violations` and the message is still kept. An action the version does
   not define is kept too, without a fact, with "unknown action X". A frame whose port
   cannot exist (connectorId -1 or 2**63) is a LineError: no store or rule can use it.
5. occurred_at: the payload's own time when plausible (at most 24 h ahead of and 30
   days behind the CSMS time), else the CSMS time, with a violation saying why.
6. fingerprint: sha256 over charger, direction and the canonical JSON of the frame, so
   the same frame delivered twice by any feed is recognised.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]  # C speedups typeshed omits
from typing import Any

from bot.ocpp.actions import ONLY_16
from bot.ocpp.cleaning import escaped
from bot.ocpp.events import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CONNECTION,
    NO_VIOLATIONS,
    OCPP_VERSIONS,
    ConnectionEvent,
    Fact,
    LineError,
    Message,
    Record,
)
from bot.ocpp.facts import (
    PROBLEM_VARIABLES,
    RESULT_FACT_ACTIONS,
    Unusable,
    call_error_fact,
    call_fact,
    result_fact,
)
from bot.ocpp.reasons import DropReason, NoFact, RejectReason
from bot.ocpp.schemas import known_actions, schema_for
from bot.ocpp.times import BadTimestamp, describe_gap, format_utc, parse_timestamp

FUTURE_LIMIT = timedelta(hours=24)
PAST_LIMIT = timedelta(days=30)
MAX_UNIQUE_ID = 200  # the spec says 36; longer is a violation, absurdly long an error
MAX_CHARGER_ID = 200
RELABELLED = "labelled OCPP "  # how the violation of a frame read by its shape begins
_NO_ACTION = NoFact(DropReason.UNKNOWN_ACTION)
_UNTRACKED = NoFact(DropReason.UNTRACKED_ACTION)


def _dropped(fact: Fact | NoFact) -> DropReason | None:
    """The reason a Message has no fact; None for an action triage does not read (heartbeat
    replies, Authorize, DataTransfer...): nothing in those was meant for a fact."""
    if isinstance(fact, NoFact) and fact.reason is not DropReason.UNTRACKED_ACTION:
        return fact.reason
    return None

_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
try:  # OpenSSL's SHA-256 without hashlib's constructor lookup: it uses the CPU's SHA
    # instructions where there are any, twice as fast as CPython's own at a frame's size
    # (160 bytes) and never slower even at 70; the same digest either way
    from _hashlib import openssl_sha256 as _sha256
except ImportError:  # pragma: no cover - a Python built without OpenSSL
    _sha256 = hashlib.sha256

_VERSION_ALIASES = {v: v for v in OCPP_VERSIONS} | {
    "1.6j": "1.6",
    "1.6-j": "1.6",
    "16": "1.6",
    "ocpp1.6": "1.6",
    "ocpp1.6j": "1.6",
    "2.0": "2.0.1",  # OCPP 2.0 was superseded by 2.0.1 within months; same messages
    "201": "2.0.1",
    "ocpp2.0.1": "2.0.1",
    "ocpp2.0": "2.0.1",
    "21": "2.1",
    "ocpp2.1": "2.1",
}


def _compact_encoder(sort_keys: bool) -> Callable[[Any], str]:
    """json.dumps(x, separators=(',', ':'), sort_keys=sort_keys, ensure_ascii=False),
    minus the Python layers around the C encoder (the fingerprint is on the hot path)."""
    slow = json.JSONEncoder(separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False).encode
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return slow

    def default(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON")

    chunks = c_make_encoder(
        None, default, encode_basestring, None, ":", ",", sort_keys, False, True
    )

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return slow(value)
        return "".join(chunks(value, 0))

    return encode


_dumps = _compact_encoder(sort_keys=True)  # canonical: what the fingerprint hashes
# The stored raw frame when a feed had no text for it (decoded webhook or broker bodies,
# frames built from a broker message's parts): compact, in the order the frame has.
_compact = _compact_encoder(sort_keys=False)

_MISSING: Any = object()

_KIND_NAMES = {CALL: "CALL", CALLRESULT: "CALLRESULT", CALLERROR: "CALLERROR"}


def fingerprint(charger: str, direction: str, frame: Any) -> str:
    """First 32 hex chars of sha256(charger, direction, canonical JSON of the frame)."""
    canonical = _dumps(frame)
    return _sha256(_utf8(f"{charger}\n{direction}\n{canonical}")).hexdigest()[:32]


def _short_canonical(kind: int, uid: str, action: str | None, payload: dict[str, Any]) -> str:
    """The canonical JSON of the commonest frames, written directly; "" for the rest.

    Most frames are Heartbeats, empty replies and one-field replies ([2,"id","Action",{}],
    [3,"id",{}], [3,"id",{"currentTime":"..."}]). With no more than one key there is
    nothing to sort, and each string is written by the encoder's own string function
    (encode_basestring, what _dumps uses for every string), so the text is the
    encoder's without running it. A CALL's action is a checked action name: no escapes.
    """
    if not payload:
        body = "{}"
    elif len(payload) == 1:
        ((key, value),) = payload.items()
        if type(key) is not str or type(value) is not str:
            return ""
        body = f"{{{encode_basestring(key)}:{encode_basestring(value)}}}"
    else:
        return ""
    if kind == CALL:
        return f'[2,{encode_basestring(uid)},"{action}",{body}]'
    if kind == CALLRESULT:
        return f"[3,{encode_basestring(uid)},{body}]"
    return ""


def normalize_version(declared: Any) -> str | None:
    """'1.6' / '2.0.1' / '2.1' for the spellings feeds use; None if unknown."""
    fast = _VERSION_ALIASES.get(declared)
    if fast is not None:
        return fast
    text = str(declared).strip().lower()
    return _VERSION_ALIASES.get(text) or _VERSION_ALIASES.get(text.removeprefix("ocpp"))


def charger_problem(charger: Any) -> str | None:
    """Why a charger id is unusable, or None. Ids are 1..200 printable characters
    without whitespace or '/' (it is the last segment of the charger's URL)."""
    if not isinstance(charger, str):
        return f"charger id {charger!r} is not text"
    if not charger:
        return "charger id is empty"
    shown = repr(charger) if len(charger) <= 40 else repr(charger[:37]) + "..."
    if len(charger) > MAX_CHARGER_ID:
        return f"charger id {shown} is {len(charger)} chars, max {MAX_CHARGER_ID}"
    if any(c.isspace() for c in charger):
        return f"charger id {shown} has whitespace"
    if not charger.isprintable():
        return f"charger id {shown} has control characters"
    if "/" in charger:
        return f"charger id {shown} has '/'"
    return None


class Parser:
    """Turns Records into Messages, remembering recent CALLs to correlate replies.

    Not thread-safe: one Parser per ingest stream (state is per feed anyway).

    validate=False skips the schema check (step 4), and so its violations, wherever the
    check cannot change the message: for a reader that never shows or stores them
    (`faultbot explain`: triage does not read violations). A schema with defaults is
    still checked, because fastjsonschema writes the defaults into the payload, which
    is then fingerprinted and read for the fact. So every message is the same but for
    (some of) its schema violations; a store must never take messages from such a parser.
    """

    def __init__(self, *, pending_limit: int = 100_000, charger_limit: int = 200_000,
                 validate: bool = True) -> None:
        self.pending_limit = pending_limit
        self.charger_limit = charger_limit
        self.validate = validate
        # (charger, unique id) -> (action, version, inferred, CALL payload if needed)
        self._pending: OrderedDict[tuple[str, str], tuple[str, str, bool, Any]] = OrderedDict()
        self._versions: dict[str, str] = {}  # charger -> version from its BootNotification
        self._good_chargers: set[str] = set()
        self._good_actions: set[str] = set()
        # (version, action, kind) -> schema; bounded because actions are (_good_actions)
        self._schemas: dict[tuple[str, str, str], Any] = {}

    def export_state(self) -> dict[str, Any]:
        """What later replies depend on (open CALLs, declared versions), for a checkpoint."""
        return {"pending": self._pending, "versions": self._versions}

    def import_state(self, state: dict[str, Any]) -> None:
        self._pending = state["pending"]
        self._versions = state["versions"]

    def parse_many(
        self, records: Iterable[Record | LineError]
    ) -> tuple[list[Message], list[LineError]]:
        messages: list[Message] = []
        errors: list[LineError] = []
        parse = self.parse
        for record in records:
            if isinstance(record, LineError):
                errors.append(record)
                continue
            result = parse(record)
            if isinstance(result, Message):
                messages.append(result)
            else:
                errors.append(result)
        return messages, errors

    def parse(self, record: Record) -> Message | LineError:
        frame = record.frame
        charger = record.charger
        if charger not in self._good_chargers:
            problem = charger_problem(charger)
            if problem:
                return self._error(record, problem, RejectReason.BAD_CHARGER_ID)
            if len(self._good_chargers) >= self.charger_limit:
                self._good_chargers.clear()
            self._good_chargers.add(charger)
        direction = record.direction
        if direction != "in" and direction != "out":
            return self._error(
                record, f"direction {direction!r} is not 'in' or 'out'", RejectReason.BAD_DIRECTION
            )
        if type(frame) is not list:
            return self._error(
                record, f"not an OCPP-J frame: expected a JSON array, got {_json_type(frame)}"
            )
        size = len(frame)
        if size < 3:
            return self._error(record, f"not an OCPP-J frame: {size} elements, need 3 to 5")
        kind = frame[0]
        if type(kind) is not int or (kind not in _KIND_NAMES and kind != CONNECTION):
            return self._error(
                record,
                f"message type id {_short(kind)} is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)",
            )
        uid = frame[1]
        if type(uid) is not str or not uid:
            return self._error(record, "missing unique id (2nd element must be a non-empty string)")
        if len(uid) > MAX_UNIQUE_ID:
            return self._error(record, f"unique id is {len(uid)} chars, max {MAX_UNIQUE_ID}")

        violations = list(record.notes) if record.notes else []
        if kind == CONNECTION:
            return self._connection(record, uid, frame, violations)
        if len(uid) > 36:
            violations.append(f"unique id: {len(uid)} chars, max 36")
        if kind == CALL:
            if size != 4:
                return self._error(record, f"CALL frame has {size} elements, expected 4")
            action = frame[2]
            if action not in self._good_actions:
                if type(action) is not str or not _ACTION.fullmatch(action):
                    return self._error(
                        record, f"CALL action {_short(action)} is not an action name"
                    )
                if len(self._good_actions) < 10_000:
                    self._good_actions.add(action)
            payload = frame[3]
            if type(payload) is not dict:
                return self._error(
                    record, f"{action} payload is {_json_type(payload)}, not a JSON object"
                )
            return self._call(record, uid, action, payload, violations)
        if kind == CALLRESULT:
            if size != 3:
                return self._error(record, f"CALLRESULT frame has {size} elements, expected 3")
            payload = frame[2]
            if type(payload) is not dict:
                return self._error(
                    record, f"CALLRESULT payload is {_json_type(payload)}, not a JSON object"
                )
            return self._result(record, uid, payload, violations)
        if size not in (4, 5):
            return self._error(record, f"CALLERROR frame has {size} elements, expected 5")
        details = frame[4] if size == 5 else {}
        if type(details) is not dict:
            violations.append(f"CALLERROR details are {_json_type(details)}, not a JSON object")
            details = {}
        elif size == 4:
            violations.append("CALLERROR without errorDetails")
        return self._call_error(record, uid, details, violations)

    # --- per message type ----------------------------------------------------------------

    def _call(
        self, record: Record, uid: str, action: str, payload: dict[str, Any], violations: list[str]
    ) -> Message | LineError:
        charger = record.charger
        declared = record.ocpp
        if declared is not None:
            version = _VERSION_ALIASES.get(declared) or normalize_version(declared)
            if version is None:
                return self._error(
                    record, f"unknown OCPP version {_short(declared)}", RejectReason.UNKNOWN_VERSION
                )
            inferred = False
            # An action without a shape rule (_shape_family) that the declared version
            # defines cannot contradict it: the answer _shape_version gives, sooner.
            shaped = (
                None
                if action not in _SHAPED and action in known_actions(version)
                else self._shape_version(charger, action, payload, version)
            )
            if shaped is not None:
                violations.append(
                    f"{RELABELLED}{version} but shaped like {shaped}: read as {shaped}"
                )
                version, inferred = shaped, True
        else:
            version = self._infer(charger, action, payload)
            inferred = True
        if (action == "BootNotification" or not inferred) and self._versions.get(
            charger
        ) != version:
            self._remember_version(charger, version)

        pending = self._pending
        if len(pending) >= self.pending_limit:
            pending.popitem(last=False)
        pending[(charger, uid)] = (
            action,
            version,
            inferred,
            payload if action == "StartTransaction" else None,
        )

        key = (version, action, "request")
        schema = self._schemas.get(key, _MISSING)
        if schema is _MISSING:
            schema = self._schemas[key] = schema_for(version, action, "request")
        fact: Fact | NoFact = _NO_ACTION
        if schema is None:
            violations.append(f"unknown action {action} in OCPP {version}")
        else:
            if (self.validate or schema.fills_defaults) and not schema.is_valid(payload):
                violations.extend(schema.problems(payload))
            try:
                fact = call_fact(version, action, payload, violations)
            except Unusable as exc:
                return self._error(record, str(exc), RejectReason.UNUSABLE_PORT)
        ts = record.ts
        if (
            "timestamp" in payload
            or "generatedAt" in payload
            or action == "MeterValues"
            or ts.tzinfo is None
        ):
            occurred = self._occurred_at(ts, action, payload, violations)
        else:  # nothing to compare with the CSMS time (e.g. a Heartbeat)
            occurred = ts
        return self._message(
            record, CALL, uid, action, payload, version, inferred, fact, violations, occurred
        )

    def _result(
        self, record: Record, uid: str, payload: dict[str, Any], violations: list[str]
    ) -> Message | LineError:
        charger = record.charger
        call = self._pending.pop((charger, uid), None)
        declared = record.ocpp
        call_payload = None
        action: str | None  # None: a reply whose call we never saw
        if call is not None:
            action, version, inferred, call_payload = call
        else:
            action = record.action_hint
            version = self._versions.get(charger, "1.6")
            inferred = True
        if declared is not None:
            declared_version = _VERSION_ALIASES.get(declared) or normalize_version(declared)
            if declared_version is None:
                return self._error(
                    record, f"unknown OCPP version {_short(declared)}", RejectReason.UNKNOWN_VERSION
                )
            version, inferred = declared_version, False
        fact: Fact | NoFact = _UNTRACKED
        if action is not None:
            key = (version, action, "response")
            schema = self._schemas.get(key, _MISSING)
            if schema is _MISSING:
                schema = self._schemas[key] = schema_for(version, action, "response")
            if (
                schema is not None
                and (self.validate or schema.fills_defaults)
                and not schema.is_valid(payload)
            ):
                violations.extend(schema.problems(payload))
            if action in RESULT_FACT_ACTIONS:
                fact = result_fact(action, payload, call_payload, violations)
        ts = record.ts
        return self._message(
            record,
            CALLRESULT,
            uid,
            action,
            payload,
            version,
            inferred,
            fact,
            violations,
            ts if ts.tzinfo is not None else _aware(ts, violations),
        )

    def _call_error(
        self, record: Record, uid: str, details: dict[str, Any], violations: list[str]
    ) -> Message | LineError:
        charger = record.charger
        call = self._pending.pop((charger, uid), None)
        action: str | None  # None: an error whose call we never saw
        if call is not None:
            action, version, inferred, _ = call
        else:
            action, version, inferred = record.action_hint, self._versions.get(charger, "1.6"), True
        if record.ocpp is not None:
            declared_version = normalize_version(record.ocpp)
            if declared_version is None:
                return self._error(
                    record,
                    f"unknown OCPP version {_short(record.ocpp)}",
                    RejectReason.UNKNOWN_VERSION,
                )
            version, inferred = declared_version, False
        fact = call_error_fact(record.frame, action, violations)
        return self._message(
            record,
            CALLERROR,
            uid,
            action,
            details,
            version,
            inferred,
            fact,
            violations,
            _aware(record.ts, violations),
        )

    # --- helpers -------------------------------------------------------------------------

    def _connection(
        self, record: Record, uid: str, frame: list[Any], violations: list[str]
    ) -> Message | LineError:
        """A connection event (events.CONNECTION): no version, schema or correlation."""
        if len(frame) != 4 or frame[2] not in ("connected", "closed") or type(frame[3]) is not dict:
            return self._error(
                record, 'connection event must be [0, id, "connected" or "closed", {...}]'
            )
        details = frame[3]
        code, reason = details.get("closeCode"), details.get("reason")
        fact = ConnectionEvent(
            frame[2],
            code if type(code) is int else None,
            reason if type(reason) is str else None,
        )
        version = self._versions.get(record.charger, "1.6")
        ts = record.ts if record.ts.tzinfo is not None else _aware(record.ts, violations)
        return self._message(
            record, CONNECTION, uid, None, details, version, True, fact, violations, ts
        )

    def _message(
        self,
        record: Record,
        kind: int,
        uid: str,
        action: str | None,
        payload: dict[str, Any],
        version: str,
        inferred: bool,
        fact: Fact | NoFact,
        violations: list[str],
        occurred: datetime,
    ) -> Message:
        frame = record.frame
        canonical = _short_canonical(kind, uid, action, payload) or _dumps(frame)
        charger, direction = record.charger, record.direction
        text = f"{charger}\n{direction}\n{canonical}"
        raw = record.raw or _compact(frame)  # verbatim when the feed had the text
        try:
            data = text.encode()
        except UnicodeEncodeError:  # a lone surrogate from a JSON \ud800 escape
            data = text.encode("utf-8", "surrogatepass")
            raw = escaped(raw)  # the log keeps it as the escape, which every store takes
        digest = _sha256(data).hexdigest()[:32]
        ts = record.ts if record.ts.tzinfo is not None else record.ts.replace(tzinfo=UTC)
        # Positional: keyword construction costs twice as much on this hot path. The
        # order is Message's field order (events.py; new fields only ever go last).
        return Message(
            ts,
            occurred,
            charger,
            direction,
            kind,
            uid,
            action,
            payload,
            version,
            inferred,
            raw,
            digest,
            None if isinstance(fact, NoFact) else fact,  # the Message keeps None ...
            violations or NO_VIOLATIONS,
            record.source,
            record.line,
            # ... and the reason, unless nothing was meant for triage (an untracked action)
            _dropped(fact),
        )

    def _shape_version(
        self, charger: str, action: str, payload: dict[str, Any], declared: str
    ) -> str | None:
        """The version the CALL's shape says when it contradicts the declared one (1.6
        against 2.x), else None. 2.0.1 and 2.1 share their shapes, so they never
        contradict each other here."""
        family = _shape_family(action, payload)
        if family is None:
            if action in known_actions(declared):
                return None
            if action in ONLY_16 or action in known_actions("1.6"):
                family = "1.6"
            elif action in known_actions("2.1"):
                family = "2.x"
            else:
                return None
        elif action in ONLY_16:
            family = "1.6"
        if (family == "1.6") == (declared == "1.6"):
            return None
        return "1.6" if family == "1.6" else self._infer(charger, action, payload)

    def _infer(self, charger: str, action: str, payload: dict[str, Any]) -> str:
        known = self._versions.get(charger)
        if action in ONLY_16:
            return "1.6"
        family = _shape_family(action, payload)
        if family == "1.6":
            return "1.6"
        if family is None:
            if action not in known_actions("1.6") and action in known_actions("2.1"):
                family = "2.x"
            else:
                return known or "1.6"
        # A 2.x frame: 2.1 if it can only be 2.1, else what the charger said, else 2.0.1.
        if family == "2.1" or action not in known_actions("2.0.1"):
            return "2.1"
        return known if known in ("2.0.1", "2.1") else "2.0.1"

    def _remember_version(self, charger: str, version: str) -> None:
        versions = self._versions
        if versions.get(charger) != version:
            if len(versions) >= self.charger_limit:
                versions.clear()
            versions[charger] = version

    def _occurred_at(
        self, ts: datetime, action: str, payload: dict[str, Any], violations: list[str]
    ) -> datetime:
        ts = _aware(ts, violations)
        stamp = payload.get("timestamp")
        if stamp is None:
            stamp = payload.get("generatedAt")
            if stamp is None and action == "MeterValues":
                values = payload.get("meterValue")
                if type(values) is list and values and type(values[0]) is dict:
                    stamp = values[0].get("timestamp")
            if stamp is None:
                return ts
        try:
            occurred, had_zone = parse_timestamp(stamp)
        except BadTimestamp as exc:
            violations.append(f"{exc}; using the CSMS time")
            return ts
        if not had_zone:
            violations.append("timestamp has no time zone; assumed UTC")
        gap = occurred - ts
        if gap > FUTURE_LIMIT:
            violations.append(
                f"timestamp {format_utc(occurred)} is {describe_gap(gap)} in the future; "
                "using the CSMS time"
            )
            return ts
        if gap < -PAST_LIMIT:
            violations.append(
                f"timestamp {format_utc(occurred)} is {describe_gap(gap)} before the CSMS "
                "time; using the CSMS time"
            )
            return ts
        return occurred

    @staticmethod
    def _error(
        record: Record, reason: str, kind: RejectReason = RejectReason.NOT_A_FRAME
    ) -> LineError:
        error = Parser._line_error(record, reason)
        error.fault = fault_bearing_frame(record.frame)
        error.kind = kind
        return error

    @staticmethod
    def _line_error(record: Record, reason: str) -> LineError:
        if record.raw:
            excerpt = record.raw[:60]
        else:
            try:
                excerpt = _dumps(record.frame)[:60]
            except (TypeError, ValueError):
                excerpt = _short(record.frame, 60)
        if not excerpt.isprintable():
            excerpt = "".join(c if c.isprintable() else repr(c)[1:-1] for c in excerpt)
        return LineError(record.source, record.line, reason, excerpt)


def fault_bearing_frame(frame: Any) -> bool:
    """Whether a (possibly malformed) frame reports a fault, judged from its raw
    payload: a StatusNotification with status or connectorStatus Faulted, or a 1.6
    errorCode other than NoError; a NotifyEvent with an entry whose variable is a
    problem variable. Used to say that a refused frame was a fault report."""
    if type(frame) is not list or len(frame) != 4 or frame[0] != CALL:
        return False
    action, payload = frame[2], frame[3]
    if type(payload) is not dict:
        return False
    if action == "StatusNotification":
        code = payload.get("errorCode")
        return (
            payload.get("status") == "Faulted"
            or payload.get("connectorStatus") == "Faulted"
            or (isinstance(code, str) and code != "NoError" and "status" in payload)
        )
    if action == "NotifyEvent":
        data = payload.get("eventData")
        return type(data) is list and any(
            type(e) is dict
            and type(e.get("variable")) is dict
            and str(e["variable"].get("name", "")).casefold() in PROBLEM_VARIABLES
            for e in data
        )
    return False


_SHAPED = frozenset({"StatusNotification", "BootNotification", "MeterValues", "Authorize",
                     "NotifyEvent", "TransactionEvent"})  # the actions _shape_family reads


def _shape_family(action: str, payload: dict[str, Any]) -> str | None:
    """'1.6', '2.x', '2.1' or None (shape says nothing) for a CALL payload."""
    if action == "StatusNotification":
        if "connectorStatus" in payload or "evseId" in payload:
            return "2.x"
        if "errorCode" in payload or "status" in payload:
            return "1.6"
    elif action == "BootNotification":
        if "chargingStation" in payload:
            return "2.x"
        if "chargePointVendor" in payload or "chargePointModel" in payload:
            return "1.6"
    elif action == "MeterValues":
        if "evseId" in payload:
            return "2.x"
        if "connectorId" in payload:
            return "1.6"
    elif action == "Authorize":
        if "idToken" in payload:
            return "2.x"
        if "idTag" in payload:
            return "1.6"
    elif action == "NotifyEvent":
        data = payload.get("eventData")
        if type(data) is list and any(type(e) is dict and "severity" in e for e in data):
            return "2.1"
        return "2.x"
    elif action == "TransactionEvent":
        return "2.x"
    return None


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate from a JSON \ud800 escape
        return text.encode("utf-8", "surrogatepass")


def _aware(ts: datetime, violations: list[str]) -> datetime:
    if ts.tzinfo is None:
        violations.append("CSMS time has no time zone; assumed UTC")
        return ts.replace(tzinfo=UTC)
    return ts


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
