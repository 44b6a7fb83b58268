"""How the message log stores its bulky columns compactly (issue 18, "a smaller footprint").

At the Python level nothing changes: a fingerprint is a 32-char hex str, a time an aware
UTC datetime, a raw frame the text as sent. At the store boundary:

- fingerprint: its 16 bytes (BLOB / bytea), not 32 hex characters. A fingerprint that is
  not 32 lowercase hex digits (none the parser makes) is kept as 0xFF + its UTF-8 (0xFF
  twice when that would make 16 bytes, the length of a hash).
- ts / occurred_at on SQLite: integer microseconds since the epoch (8 bytes) instead of
  SQLAlchemy's 26-character text. PostgreSQL's timestamptz is 8 bytes already.
- direction, action, ocpp_version: a word of the fixed vocabulary `_WORDS` as a one-
  or two-byte code (0x80 + index; 0xC0 + one byte past the first 64), any other word as
  its UTF-8. No UTF-8 text starts with a byte in 0x80-0xC1, so the first byte tells a
  code from a word. "StatusNotification" is 1 byte instead of 18.
- raw: UTF-8, or when shorter, 0xFF + raw DEFLATE with the preset dictionary below
  (OCPP's own vocabulary, so a 25-byte Heartbeat or a 300-byte MeterValues compresses
  although no two frames share a stream). UTF-8 never starts with 0xFF, so the first
  byte tells the two apart, and a later dictionary can take another marker.

A stored value that cannot be decoded (a damaged DEFLATE stream, a word code past the
vocabulary, bytes that are not UTF-8) reads as an `Unreadable`: a str (U+FFFD, the
Unicode mark for undecodable data) that says which codec failed and why, so one damaged
row never stops a reader; readers show it as unreadable or skip it with a logged reason.

The dictionary and the vocabulary are part of the stored format: NEVER edit `_ZDICT_V1`
(add a new one with its own marker instead); `_WORDS` may only grow at its end.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String, TypeDecorator, TypeEngine

from bot.store.types import UTCDateTime

_OTHER = b"\xff"  # a fingerprint that is not 32 hex digits, as UTF-8
_DEFLATE_V1 = 0xFF  # raw: DEFLATE with _ZDICT_V1

# OCPP 1.6 / 2.0.1 vocabulary, commonest last (DEFLATE reaches the end of the dictionary
# with the shortest distances). Stored data depends on it byte for byte.
_ZDICT_V1 = (
    b'"chargingProfile":{"chargingProfileId":,"stackLevel":,"chargingProfilePurpose":'
    b'"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":'
    b'{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":'
    b'"DataTransfer",{"vendorId":"","messageId":"","data":"'
    b'"SecurityEventNotification",{"type":"","techInfo":"'
    b'"NotifyEvent",{"generatedAt":"","seqNo":0,"tbc":false,"eventData":[{"eventId":,'
    b'"trigger":"Delta","actualValue":"","eventNotificationType":"HardWiredNotification",'
    b'"component":{"name":""},"variable":{"name":"Problem"},"cleared":true}]}'
    b'"BootNotification",{"chargePointVendor":"","chargePointModel":"",'
    b'"chargePointSerialNumber":"","firmwareVersion":""}'
    b'{"reason":"PowerUp","chargingStation":{"vendorName":"","model":"",'
    b'"serialNumber":"","firmwareVersion":""}}'
    b'"Authorize",{"idTag":""}{"idTagInfo":{"status":"Accepted"}}'
    b'"StartTransaction",{"connectorId":1,"idTag":"","meterStart":0,"timestamp":"'
    b'"StopTransaction",{"transactionId":,"meterStop":,"reason":"Local","timestamp":"'
    b'"TransactionEvent",{"eventType":"Updated","timestamp":"","triggerReason":'
    b'"MeterValuePeriodic","seqNo":0,"transactionInfo":{"transactionId":"",'
    b'"chargingState":"Charging","stoppedReason":"EVDisconnected"},"evse":{"id":1,'
    b'"connectorId":1},"idToken":{"idToken":"","type":"ISO14443"},"meterValue":'
    b'[{"timestamp":"","sampledValue":[{"value":,"measurand":'
    b'"Energy.Active.Import.Register","unitOfMeasure":{"unit":"kWh"}},{"value":0,'
    b'"measurand":"Power.Active.Import"}]}]}'
    b'"MeterValues",{"connectorId":1,"transactionId":,"meterValue":[{"timestamp":"",'
    b'"sampledValue":[{"value":"","context":"Sample.Periodic","format":"Raw",'
    b'"measurand":"Current.Import","phase":"L1","location":"Outlet","unit":"A"},'
    b'{"value":"","measurand":"Voltage","unit":"V"},{"value":"","measurand":"SoC",'
    b'"unit":"Percent"},{"value":"","measurand":"Power.Active.Import","unit":"W"},'
    b'{"value":"","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}'
    b'"StatusNotification",{"timestamp":"","connectorStatus":"Available","evseId":1,'
    b'"connectorId":1}'
    b'"StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available",'
    b'"info":"","vendorId":"","vendorErrorCode":"","timestamp":"'
    b'"Preparing","Charging","SuspendedEV","Finishing","Unavailable","Faulted",'
    b'[3,"",{"status":"Accepted"}][3,"",{}]'
    b'[2,"","Heartbeat",{}][3,"",{"currentTime":"","interval":300,"status":"Accepted"}]'
    b'[3,"",{"currentTime":"2026-01-01T00:00:00.000Z"}]'
)


# Directions, OCPP versions and OCPP 1.6 / 2.0.1 / 2.1 actions, commonest first (the
# first 64 take one byte). Stored codes are indexes here: append only, never reorder.
_WORDS = (
    "in", "out", "1.6", "2.0.1", "2.1",
    "Heartbeat", "StatusNotification", "MeterValues", "TransactionEvent", "NotifyEvent",
    "BootNotification", "Authorize", "StartTransaction", "StopTransaction", "DataTransfer",
    "SecurityEventNotification", "FirmwareStatusNotification",
    "DiagnosticsStatusNotification", "LogStatusNotification", "NotifyReport",
    "RemoteStartTransaction", "RemoteStopTransaction", "RequestStartTransaction",
    "RequestStopTransaction", "ChangeAvailability", "ChangeConfiguration",
    "GetConfiguration", "GetVariables", "SetVariables", "GetBaseReport", "Reset",
    "UnlockConnector", "TriggerMessage", "ClearCache", "GetDiagnostics", "GetLog",
    "UpdateFirmware", "GetLocalListVersion", "SendLocalList", "ReserveNow",
    "CancelReservation", "SetChargingProfile", "ClearChargingProfile",
    "GetCompositeSchedule", "GetChargingProfiles", "ReportChargingProfiles",
    "GetTransactionStatus", "SignCertificate", "CertificateSigned",
    "InstallCertificate", "DeleteCertificate", "GetInstalledCertificateIds",
    "Get15118EVCertificate", "GetCertificateStatus", "NotifyChargingLimit",
    "ClearedChargingLimit", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule",
    "ReservationStatusUpdate", "SetNetworkProfile", "CustomerInformation",
    "NotifyCustomerInformation", "NotifyMonitoringReport", "NotifyDisplayMessages",
    # two bytes from here
    "SetMonitoringBase", "SetMonitoringLevel", "SetVariableMonitoring",
    "ClearVariableMonitoring", "GetMonitoringReport", "GetReport", "SetDisplayMessage",
    "GetDisplayMessages", "ClearDisplayMessage", "CostUpdated", "PublishFirmware",
    "PublishFirmwareStatusNotification", "UnpublishFirmware", "ExtendedTriggerMessage",
    "SignedFirmwareStatusNotification", "SignedUpdateFirmware",
)  # fmt: skip
_ONE_BYTE = 64
_LONG = 0xC0  # then one byte: index - 64


def _code(i: int) -> bytes:
    return bytes((0x80 + i,)) if i < _ONE_BYTE else bytes((_LONG, i - _ONE_BYTE))


WORD_CODES = {w: _code(i) for i, w in enumerate(_WORDS)}
_WORD_OF = {c: w for w, c in WORD_CODES.items()}


class Unreadable(str):
    """A stored value that could not be decoded. It is a str so every reader of the
    column keeps working (it is U+FFFD, which no JSON parser or vocabulary accepts);
    `codec`, `error` and `stored` say what failed, for templates and logs."""

    codec: str  # "raw", "word" or "fingerprint": which column type could not decode it
    error: str  # the decoder's own message
    stored: bytes  # the bytes as stored

    def __new__(cls, codec: str, error: str, stored: bytes) -> Unreadable:
        self = super().__new__(cls, "\ufffd")
        self.codec, self.error, self.stored = codec, error, stored
        return self

    @property
    def reason(self) -> str:
        """One line for a log: the codec, the error and the first stored bytes."""
        head = self.stored[:16].hex()
        more = "..." if len(self.stored) > 16 else ""
        return f"unreadable {self.codec} ({self.error}; {len(self.stored)} bytes {head}{more})"

    def __reduce__(self) -> Any:  # pickles (fold checkpoints) as the value it is
        return (Unreadable, (self.codec, self.error, self.stored))


class UnreadableError(ValueError):
    """A stored value that could not be decoded where no stand-in will do (a migration
    rewriting the log must not write U+FFFD over the stored bytes)."""


def first_unreadable(*values: object) -> Unreadable | None:
    """The first of a row's decoded values that is unreadable, else None."""
    for value in values:
        if isinstance(value, Unreadable):
            return value
    return None


def strict(value: str) -> str:
    """`value`, or UnreadableError when it could not be decoded."""
    if isinstance(value, Unreadable):
        raise UnreadableError(value.reason)
    return value


# --- values ---------------------------------------------------------------------------


def fp_to_db(value: str) -> bytes:
    if len(value) == 32:
        try:
            out = bytes.fromhex(value)
        except ValueError:
            pass
        else:
            if out.hex() == value:  # lowercase only: the text must come back as it went in
                return out
    text = value.encode()
    # 16 bytes always mean a hash; UTF-8 never holds 0xFF, so the marker strips cleanly
    return (_OTHER * 2 if len(text) == 15 else _OTHER) + text


def fp_from_db(value: bytes | str) -> str:
    if isinstance(value, str):  # a log not migrated yet (store_0003 and before)
        return value
    value = bytes(value)  # memoryview from some drivers
    if len(value) == 16:
        return value.hex()
    try:
        return value.lstrip(_OTHER).decode()
    except UnicodeDecodeError as exc:
        return Unreadable("fingerprint", str(exc), value)


# The compressor with _ZDICT_V1 already loaded, copied per frame: setting the dictionary
# and zeroing a fresh 384 KB state cost more than compressing a frame. An 8 KB window
# (the dictionary is 2.4 KB) and memLevel 4 keep the copy small; inflate with the
# default window reads the result, and on the 10,000-charger fleet it is byte for byte
# what the full-size state gave (measured: 7.5 -> 4.0 us a frame).
_PACKER = zlib.compressobj(9, zlib.DEFLATED, -13, 4, zlib.Z_DEFAULT_STRATEGY, zdict=_ZDICT_V1)


def pack_raw(text: str) -> bytes:
    data = text.encode()
    z = _PACKER.copy()
    packed = z.compress(data) + z.flush()
    if len(packed) + 1 < len(data):
        return bytes((_DEFLATE_V1,)) + packed
    return data


def unpack_raw(value: bytes | str) -> str:
    if isinstance(value, str):  # a log not migrated yet (store_0003 and before)
        return value
    value = bytes(value)
    try:  # free unless it raises (Python 3.11+): the hot path pays nothing for it
        if value[:1] == b"\xff":
            z = zlib.decompressobj(-15, zdict=_ZDICT_V1)
            text = z.decompress(value[1:]) + z.flush()
            if not z.eof:  # a cut-off stream inflates to a prefix without raising
                return Unreadable("raw", "DEFLATE stream ends early", value)
            return text.decode()
        return value.decode()
    except (zlib.error, UnicodeDecodeError) as exc:
        return Unreadable("raw", str(exc), value)


def word_to_db(value: str) -> bytes:
    return WORD_CODES.get(value) or value.encode()


def word_from_db(value: bytes | str) -> str:
    if isinstance(value, str):  # a log not migrated yet (store_0004 and before)
        return value
    value = bytes(value)
    try:  # free unless it raises (Python 3.11+)
        if value and 0x80 <= value[0] <= _LONG:
            return _WORD_OF[value]
        return value.decode()
    except KeyError:
        return Unreadable("word", f"no word has code 0x{value.hex()}", value)
    except UnicodeDecodeError as exc:
        return Unreadable("word", str(exc), value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    d = value - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


# --- column types ---------------------------------------------------------------------


class _BytesCodec(TypeDecorator[str]):
    """A str in Python stored as bytes: `encode` on the way in, `decode` on the way out
    (None stays NULL). Subclasses name the two functions."""

    impl = LargeBinary
    cache_ok = True
    encode: Callable[[str], bytes]
    decode: Callable[[bytes], str]

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else type(self).encode(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else type(self).decode(value)


class Fingerprint(_BytesCodec):
    """A frame fingerprint: hex str in Python, its 16 bytes in the database."""

    cache_ok = True  # SQLAlchemy reads it from each class itself, not a base
    encode = staticmethod(fp_to_db)
    decode = staticmethod(fp_from_db)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return self  # a compared literal is a fingerprint too, so it is encoded


class RawFrame(_BytesCodec):
    """A frame's text: str in Python, UTF-8 or dictionary-DEFLATE bytes in the database."""

    cache_ok = True  # SQLAlchemy reads it from each class itself, not a base
    encode = staticmethod(pack_raw)
    decode = staticmethod(unpack_raw)


class Word(_BytesCodec):
    """A short word from a known vocabulary (direction, action, OCPP version): str in
    Python, a one- or two-byte code in the database (any other word as UTF-8)."""

    cache_ok = True  # SQLAlchemy reads it from each class itself, not a base
    encode = staticmethod(word_to_db)
    decode = staticmethod(word_from_db)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return self  # a compared literal is a word too, so it is encoded


class _Micros(TypeDecorator[datetime]):
    """SQLite's side of LOG_TIME: integer microseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(value)


# The log's times: timestamptz on PostgreSQL, microsecond integers on SQLite; aware UTC
# datetimes in Python on both.
LOG_TIME = UTCDateTime().with_variant(_Micros(), "sqlite")


class fp_hex(FunctionElement[str]):  # lowercase: used like a SQL function
    """SQL: a stored fingerprint as its hex text, to compare with text columns that
    hold fingerprints (diagnoses.message_fingerprint)."""

    type = String()
    inherit_cache = True


@compiles(fp_hex, "sqlite")
def _fp_hex_sqlite(element: fp_hex, compiler: Any, **kw: Any) -> str:
    return f"lower(hex({compiler.process(element.clauses, **kw)}))"


@compiles(fp_hex, "postgresql")
def _fp_hex_pg(element: fp_hex, compiler: Any, **kw: Any) -> str:
    return f"encode({compiler.process(element.clauses, **kw)}, 'hex')"


class Violations(TypeDecorator[list[Any]]):
    """A frame's schema violations: a list in Python, JSON in the database, NULL for
    none (most frames; store_0007). Readers get [] for NULL, as for a stored "[]"."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[Any] | None:
        return value or None

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Any]:
        return [] if value is None else value
