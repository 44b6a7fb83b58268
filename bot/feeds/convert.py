"""Format adapters: CSMS-specific shapes -> contract-1 objects for bot.ocpp.readers.

Each adapter returns a contract-1 dict ({"ts","charger","dir","frame","ocpp"}) that
`read_json_objects` validates like any other input, or raises `NotAFrame` for
deliveries that carry no frame (CitrineOS connect/close events), or `ValueError`
with a short reason for shapes that can never be turned into a frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.ocpp.logformats.citrineos import error_frame, is_ocpp_error

_ORIGIN_DIR = {"cs": "in", "csms": "out"}
_PROTOCOL_VERSION = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}


class NotAFrame(Exception):
    """A well-formed delivery that is not an OCPP frame (e.g. a connect event)."""


def decode_frame(text: str) -> Any:
    """The decoded OCPP-J array, or the text itself when it is not JSON (the parser
    then reports it as malformed, with the raw text kept)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def ocpp_version(protocol: Any) -> str | None:
    if not isinstance(protocol, str):
        return None
    return _PROTOCOL_VERSION.get(protocol.strip().lower())


def is_citrineos_webhook(obj: Mapping[str, Any]) -> bool:
    return "stationId" in obj and ("event" in obj or "origin" in obj) and "frame" not in obj


def citrineos_webhook(obj: Mapping[str, Any]) -> dict[str, Any]:
    """CitrineOS OcppRouter subscription POST body -> contract 1.

    {"stationId","event":"message"|"connected"|"closed","origin":"cs"|"csms",
     "message":"<raw OCPP-J text>","info":{"correlationId","origin","timestamp","protocol"}}
    """
    event = obj.get("event", "message")
    if event in ("connected", "closed"):
        raise NotAFrame(f"CitrineOS {event} event")
    if event != "message":
        raise ValueError(f"unknown CitrineOS event {str(event)[:40]!r}")
    given = obj.get("info")
    info: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    origin = obj.get("origin", info.get("origin"))
    direction = _ORIGIN_DIR.get(str(origin))
    if direction is None:
        raise ValueError(f"origin must be 'cs' or 'csms', got {str(origin)[:20]!r}")
    message = obj.get("message")
    if message is None:
        raise ValueError("CitrineOS message event without 'message'")
    frame = decode_frame(message) if isinstance(message, str) else message
    out: dict[str, Any] = {
        "ts": obj.get("timestamp", info.get("timestamp")),
        "charger": obj.get("stationId"),
        "dir": direction,
        "frame": frame,
    }
    version = ocpp_version(info.get("protocol", obj.get("protocol")))
    if version:
        out["ocpp"] = version
    return out


def _pick(body: Mapping[str, Any], key: str) -> Any:
    """CitrineOS serialises plain objects with `key`, Message instances with `_key`."""
    if key in body:
        return body[key]
    return body.get("_" + key)


def citrineos_broker(body: Any, headers: Mapping[str, Any]) -> dict[str, Any]:
    """A message from CitrineOS's `citrineos` headers exchange -> contract 1.

    Rebuilds the OCPP-J frame: state 1 -> [2, correlationId, action, payload],
    state 2 -> [3, correlationId, payload], or the CALLERROR CitrineOS sends when the
    payload is an OcppError; the action of a result comes from the headers. Accepts
    plain and underscore key styles, and header-only routing info.
    """
    if not isinstance(body, Mapping):
        raise ValueError("CitrineOS message body is not a JSON object")
    ctx = _pick(body, "context")
    ctx = ctx if isinstance(ctx, Mapping) else {}

    def get(name: str) -> Any:
        for source in (ctx, body):
            value = _pick(source, name)
            if value is not None:
                return value
        value = headers.get(name)
        return value.decode() if isinstance(value, bytes) else value

    origin = _pick(body, "origin") or headers.get("origin")
    origin = origin.decode() if isinstance(origin, bytes) else origin
    direction = _ORIGIN_DIR.get(str(origin))
    if direction is None:
        raise ValueError(f"origin must be 'cs' or 'csms', got {str(origin)[:20]!r}")
    station = get("stationId")
    if not isinstance(station, str) or not station:
        raise ValueError("no stationId in context or headers")
    correlation = get("correlationId")
    if correlation is None:
        raise ValueError("no correlationId in context or headers")
    state = _pick(body, "state")
    if state is None:
        state = headers.get("state")
    try:
        state_n = int(state.decode() if isinstance(state, bytes) else state)
    except (TypeError, ValueError):
        raise ValueError(f"unknown message state {str(state)[:10]!r}") from None
    payload = _pick(body, "payload")
    action = _pick(body, "action") or headers.get("action")
    action = action.decode() if isinstance(action, bytes) else action
    if state_n == 1:
        if not isinstance(action, str) or not action:
            raise ValueError("request without action")
        frame: list[Any] = [2, str(correlation), action, payload if payload is not None else {}]
    elif state_n == 2 and is_ocpp_error(payload):
        frame = error_frame(correlation, payload)
    elif state_n == 2:
        frame = [3, str(correlation), payload if payload is not None else {}]
    else:
        raise ValueError(f"message state {state_n} is neither request (1) nor response (2)")
    out: dict[str, Any] = {
        "ts": get("timestamp"),
        "charger": station,
        "dir": direction,
        "frame": frame,
    }
    version = ocpp_version(_pick(body, "protocol") or headers.get("protocol"))
    if version:
        out["ocpp"] = version
    return out
