"""CitrineOS shapes: its `OcppError` response payloads and `OCPPMessages` CSV exports.

A CitrineOS module that rejects a charger's call answers with an `OcppError` as the
response payload; CitrineOS's own router (AbstractRouter.ts) sees `payload._errorCode`
and sends the charger a CALLERROR built from `_errorCode`, `message` and
`_errorDetails`. On RabbitMQ the payload is the class serialised by class-transformer
(`_messageId`, `_errorCode`, `_errorDetails`, `message`); plain objects carry the same
names without the underscore.
"""

from __future__ import annotations

import csv
from typing import Any

from bot.ocpp.events import CALLERROR


def _get(payload: dict[str, Any], key: str) -> Any:
    return payload[key] if key in payload else payload.get("_" + key)


def is_ocpp_error(payload: Any) -> bool:
    """True for an OcppError payload in either key style.

    No OCPP response has an `errorCode` member, but the plain style is only trusted
    with a second OcppError member beside it, so an odd vendor reply is not rewritten.
    """
    if not isinstance(payload, dict):
        return False
    if isinstance(payload.get("_errorCode"), str):
        return True
    return isinstance(payload.get("errorCode"), str) and any(
        k in payload for k in ("errorDetails", "messageId", "errorDescription", "message")
    )


def error_frame(correlation_id: Any, payload: dict[str, Any]) -> list[Any]:
    """The CALLERROR CitrineOS sends for an OcppError payload."""
    description = _get(payload, "message")
    if description is None:
        description = _get(payload, "errorDescription")
    details = _get(payload, "errorDetails")
    return [
        CALLERROR,
        str(correlation_id),
        _get(payload, "errorCode"),
        description if isinstance(description, str) else "",
        details if isinstance(details, dict) else {},
    ]


# --- OCPPMessages exported as CSV (`psql --csv`, `\copy ... csv`) ----------------------

# The table as citrineos-core's migrations build it: the initial migration creates these
# columns in this order; later ones append tenantId, then state and requestMessageId, so
# a header-less export always starts with them.
CSV_LEADING = ("id", "stationId", "correlationId", "origin", "protocol", "action",
               "message", "timestamp")
_NEEDED = frozenset({"stationId", "origin", "message"})


def csv_header(text: str) -> list[str] | None:
    """The column names when `text` is the header line of an OCPPMessages export."""
    if "stationId" not in text or "origin" not in text:
        return None
    names = [c.strip() for c in next(csv.reader([text]))]
    return names if set(names) >= _NEEDED else None


def csv_row(text: str, columns: list[str] | None) -> dict[str, Any] | None:
    """An OCPPMessages CSV line as the JSON export's object, or None when the line is
    not one (wrong width, no cs/csms origin, no JSON array in `message`)."""
    if "," not in text or "[" not in text:
        return None
    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None
    if columns is not None:
        if len(fields) != len(columns):
            return None
        names = columns
    elif len(fields) < len(CSV_LEADING) + 2:  # at least createdAt and updatedAt follow
        return None
    else:
        names = list(CSV_LEADING)
    row = dict(zip(names, fields, strict=False))
    if row.get("origin") not in ("cs", "csms"):
        return None
    message = row.get("message", "").strip()
    if not message.startswith("["):
        return None
    # The frame stays text (jsonb's rendering of it): the reader decodes and keeps it.
    out: dict[str, Any] = {"stationId": row.get("stationId"), "origin": row["origin"],
                           "message": message}
    info: dict[str, str] = {}
    if row.get("timestamp"):
        out["timestamp"] = row["timestamp"]
    if row.get("protocol"):
        out["protocol"] = row["protocol"]
    if row.get("action"):
        info["action"] = row["action"]
    out["info"] = info
    return out
