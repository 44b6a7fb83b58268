"""CitrineOS shapes: its `OcppError` response payloads.

A CitrineOS module that rejects a charger's call answers with an `OcppError` as the
response payload; CitrineOS's own router (AbstractRouter.ts) sees `payload._errorCode`
and sends the charger a CALLERROR built from `_errorCode`, `message` and
`_errorDetails`. On RabbitMQ the payload is the class serialised by class-transformer
(`_messageId`, `_errorCode`, `_errorDetails`, `message`); plain objects carry the same
names without the underscore.
"""

from __future__ import annotations

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
