"""Why something was dropped: closed sets of reasons, as values, not sentences.

Two kinds of dropping, each with its own enum:

- `RejectReason`: a line, delivery or request that never became a Message (a
  `LineError`, or a webhook request refused whole). Counted by `faultbot ingest`,
  `faultbot explain` and each feed's `/health`.
- `DropReason`: a frame that was read and stored but yields no fact about a port or
  a charger (`NoFact`): e.g. a StatusNotification without a status. The Message is
  kept (its `fact` is None, its `no_fact` says why).

The values are stable identifiers (JSON keys, counters); the words people read for
them live in templates/cli/_reasons.j2, not here. Defined in the protocol stage so
that feeds, store and CLI can all import them (layers only import downwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class RejectReason(StrEnum):
    """Why a line, delivery or request was refused (never became a Message)."""

    # reading a line (bot.ocpp.readers)
    UNREADABLE_SOURCE = "unreadable_source"  # the file could not be opened
    TOO_LONG = "too_long"  # a line over the reader's size cap
    BAD_ENCODING = "bad_encoding"  # NUL bytes or invalid UTF-8
    NOT_JSON = "not_json"  # JSON expected and not found (or nested too deep)
    UNKNOWN_SHAPE = "unknown_shape"  # JSON, or a log line, of no known record shape
    MISSING_CHARGER = "missing_charger"  # no charger id to file the frame under
    BAD_DIRECTION = "bad_direction"  # direction/origin is neither in nor out
    BAD_TIMESTAMP = "bad_timestamp"  # the CSMS time cannot be read
    # the OCPP-J frame itself (bot.ocpp.parse)
    NOT_A_FRAME = "not_a_frame"  # not an OCPP-J array of the right shape
    BAD_CHARGER_ID = "bad_charger_id"  # a charger id no store or Slack line can use
    UNKNOWN_VERSION = "unknown_version"  # a declared OCPP version nobody defines
    UNUSABLE_PORT = "unusable_port"  # a port number that cannot exist (-1, 2**63)
    # the store (bot.store)
    UNSTORABLE = "unstorable"  # the database refused this one record
    # a webhook request refused whole (bot.feeds.webhook)
    UNAUTHENTICATED = "unauthenticated"  # missing or bad signature, stale timestamp
    UNSUPPORTED_TYPE = "unsupported_type"  # a Content-Type that is not JSON
    BODY_TOO_LARGE = "body_too_large"
    BODY_TIMEOUT = "body_timeout"  # the body did not arrive in time
    EMPTY_BODY = "empty_body"


class DropReason(StrEnum):
    """Why a frame that was read gives no fact (see bot.ocpp.facts)."""

    UNTRACKED_ACTION = "untracked_action"  # an action triage has no fact for
    UNKNOWN_ACTION = "unknown_action"  # an action the OCPP version does not define
    NO_STATUS = "no_status"  # a StatusNotification without a status to place on a port
    NO_IDENTITY = "no_identity"  # a BootNotification without vendor and model
    NO_EVENT_DATA = "no_event_data"  # a NotifyEvent without an eventData list
    NO_EVENT_TYPE = "no_event_type"  # a SecurityEventNotification without a type
    UNKNOWN_TRANSACTION_EVENT = "unknown_transaction_event"  # eventType not Started/...
    NO_BOOT_STATUS = "no_boot_status"  # a BootNotification reply without a status
    NO_TRANSACTION_ID = "no_transaction_id"  # a StartTransaction reply without an id


@dataclass(frozen=True, slots=True)
class NoFact:
    """A fact builder's answer when the frame cannot be turned into a fact.

    Falsy, so a caller that only asks "is there a fact?" with `if fact:` reads it as
    the None it replaces; the parser stores None in `Message.fact` (so `is None`
    callers are unchanged) and the reason in `Message.no_fact`.
    """

    reason: DropReason

    def __bool__(self) -> bool:
        return False


def counts(reasons: Mapping[str, int]) -> dict[str, int]:
    """Counts per reason in the order they are shown: most first, ties in enum order."""
    order = {r.value: i for i, r in enumerate([*RejectReason, *DropReason])}
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
    return {str(k): n for k, n in ranked if n}
