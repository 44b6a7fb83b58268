"""Timestamp parsing shared by the readers and the parser.

Feeds write times as ISO 8601 (with `Z`, an offset, or no zone at all), as epoch
seconds (`1704067200.123`) and now and then as epoch milliseconds. Everything comes
out as a timezone-aware UTC datetime; a time without a zone is taken as UTC and the
caller is told, so it can record that it guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Anything outside this window is a broken clock or a broken field, not a real time.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Epoch numbers above this are milliseconds (1e11 s is the year 5138).
_MILLIS_THRESHOLD = 1e11
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_NAIVE_YEAR, _LATEST_NAIVE_YEAR = EARLIEST.year, LATEST.year


class BadTimestamp(ValueError):
    """The value is not a usable point in time; str() is a short reason."""


def parse_timestamp(value: object) -> tuple[datetime, bool]:
    """(UTC datetime, had_zone) for an ISO 8601 string or epoch number.

    had_zone is False when the text carried no zone and UTC was assumed
    (epoch numbers are always UTC). Raises BadTimestamp with a short reason.
    """
    if isinstance(value, str):
        try:  # the common case first: an ISO 8601 string
            dt = datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if not text or len(text) > 64:
                raise BadTimestamp(f"timestamp {_show(value)} is not a date-time") from None
            if _looks_numeric(text):
                return _from_epoch(float(text)), True
            try:
                dt = datetime.fromisoformat(text)
            except ValueError:
                raise BadTimestamp(f"timestamp {_show(value)} is not a date-time") from None
        zone = dt.tzinfo
        had_zone = zone is not None
        if zone is not UTC:  # "Z" and "+00:00" come back as the UTC singleton already
            dt = dt.astimezone(UTC) if had_zone else dt.replace(tzinfo=UTC)
        if not _EARLIEST_NAIVE_YEAR <= dt.year < _LATEST_NAIVE_YEAR:
            _check_range(dt, value)
        return dt, had_zone
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value)), True
    raise BadTimestamp(f"timestamp {_show(value)} is not a date-time")


def format_utc(dt: datetime) -> str:
    """ISO 8601 with a Z, seconds precision unless there are fractions."""
    dt = dt.astimezone(UTC)
    text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def describe_gap(delta: timedelta) -> str:
    """'4 years', '3 days', '5 hours', '12 minutes': a rough size for messages."""
    seconds = abs(delta.total_seconds())
    for unit, size in (("year", 365.25 * 86400), ("day", 86400), ("hour", 3600)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = int(seconds // 60)
    return f"{n} minute{'s' if n != 1 else ''}"


def _looks_numeric(text: str) -> bool:
    return text[:1].isdigit() and text.replace(".", "", 1).isdigit()


def _from_epoch(seconds: float) -> datetime:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise BadTimestamp(f"timestamp {seconds} is not a date-time")
    if seconds > _MILLIS_THRESHOLD:
        seconds /= 1000.0
    try:
        dt = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise BadTimestamp(f"timestamp {seconds:.0f} is out of range") from None
    _check_range(dt, seconds)
    return dt


def _check_range(dt: datetime, original: object) -> None:
    if not EARLIEST <= dt < LATEST:
        raise BadTimestamp(f"timestamp {_show(original)} is out of range (1990-2200)")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
