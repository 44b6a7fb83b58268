"""Webhook feed: POST /feed/ocpp (aiohttp).

Body: one contract-1 object, a JSON array of them, JSON Lines, or CitrineOS's
OcppRouter message-subscription body ({"stationId","event","origin","message",
"info":{...}}). The answer (2xx, with counts: stored, duplicates, rejected lines and
why) is sent only after the sink returned, i.e. the frames are durably stored; a
redelivered body stores nothing twice (the store dedupes by frame fingerprint) and
reports duplicates.

Per record: the good frames of a body are stored and the answer is 200 with every
rejected item listed (line, reason, excerpt); a body of which nothing can be stored
is 400 (a retry would fail the same way, so no 5xx ever invites endless redelivery).
Only a store outage answers 503 (with Retry-After), so the sender retries. A body
that does not arrive within `body_timeout` seconds is cut with 408 and the
connection closed, so slow senders cannot hold connections open.

Authentication: HMAC-SHA256 over ``v1:{timestamp}:{body}`` with
FAULTBOT_WEBHOOK_SECRET, sent as ``X-Faultbot-Timestamp: <unix seconds>`` and
``X-Faultbot-Signature: v1=<hex>``; requests older or newer than 5 minutes are
refused (replay window), and digests are compared in constant time.

CitrineOS signs nothing and cannot add headers to its subscription POSTs. For it,
configure a secret path token (``path_token``; CitrineOS then posts to
``https://faultbot.example/feed/ocpp/<token>``) and/or make the route reachable only
from the CSMS host (firewall, private network, reverse-proxy allow-list). The token
is compared in constant time; treat it like a password (HTTPS only, rotate it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.feeds.health import FeedHealth
from bot.feeds.sink import FrameSink, SinkRunner
from bot.ocpp.events import LineError, Record
from bot.ocpp.reasons import RejectReason

ROUTE = "/feed/ocpp"
TIMESTAMP_HEADER = "X-Faultbot-Timestamp"
SIGNATURE_HEADER = "X-Faultbot-Signature"
REPLAY_WINDOW_S = 300
DEFAULT_MAX_BODY = 5 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0  # seconds to receive a whole body
MAX_REASONS = 100  # rejected lines listed in one answer (the count covers all)
ACCEPTED_TYPES = frozenset(
    {
        "",
        "application/json",
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
        "text/plain",
        "application/octet-stream",  # what many HTTP clients send for raw bytes
    }
)
SOURCE = "webhook"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Faultbot-Signature for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers a sender adds to a POST of `body` (used by tests, benchmarks, scripts)."""
    ts = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: signature(secret, ts, body)}


class _Refused(Exception):
    """A request refused whole: `kind` is what /health counts, `reason` the detail."""

    def __init__(
        self, status: int, kind: RejectReason, reason: str, *, close: bool = False
    ) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason, self.close = status, kind, reason, close


def _excerpt(text: str, n: int = 60) -> str:
    return text[:n].encode("unicode_escape").decode("ascii", "replace")


def _split_body(text: str) -> tuple[list[tuple[int, Any]], list[LineError]]:
    """(item number, decoded JSON value) pairs, plus lines that are not JSON."""
    stripped = text.strip()
    if not stripped:
        raise _Refused(400, RejectReason.EMPTY_BODY, "empty body")
    try:
        whole = json.loads(stripped)
    except (ValueError, RecursionError):
        whole = None
    else:
        if isinstance(whole, list):
            if whole and not isinstance(whole[0], Mapping):
                raise _Refused(
                    400,
                    RejectReason.MISSING_CHARGER,
                    "a JSON array must hold contract-1 objects; bare frames need the "
                    "charger id, so wrap them as {ts, charger, dir, frame}",
                )
            return list(enumerate(whole, 1)), []
        return [(1, whole)], []
    items: list[tuple[int, Any]] = []
    errors: list[LineError] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line)))
        except (ValueError, RecursionError) as exc:
            reason = f"not JSON: {exc}" if isinstance(exc, ValueError) else "JSON nested too deep"
            errors.append(
                LineError(SOURCE, number, reason[:200], _excerpt(line), kind=RejectReason.NOT_JSON)
            )
    return items, errors


def _is_connection_event(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and "stationId" in obj
        and obj.get("event") in ("connected", "closed")
        and "frame" not in obj
    )


def _records(items: list[tuple[int, Any]]) -> tuple[list[Record], list[LineError], int]:
    """Decoded JSON values (contract 1, CitrineOS bodies, ...) -> Records, refusals, and
    the number of deliveries that carry no frame (CitrineOS connect/close events)."""
    from bot.ocpp.readers import read_json_objects

    # CitrineOS connect/close notifications carry no frame; nothing stores them yet.
    ignored = sum(1 for _, obj in items if _is_connection_event(obj))
    items = [(n, obj) for n, obj in items if not _is_connection_event(obj)]
    numbers = [number for number, _ in items]
    produced = [0] * len(items)
    records: list[Record] = []
    errors: list[LineError] = []
    for item in read_json_objects((obj for _, obj in items), source=SOURCE):
        # The reader numbers the values it was given 1..n; map back to body lines.
        index = (item.line or 1) - 1
        if 0 <= index < len(numbers):
            produced[index] += 1
            item.line = numbers[index]
        if isinstance(item, Record):
            records.append(item)
        else:
            errors.append(item)
    return records, errors, ignored + produced.count(0)


def _rejections(errors: list[LineError]) -> list[dict[str, Any]]:
    return [
        {"line": e.line, "reason": e.reason, "excerpt": e.excerpt, "kind": str(e.kind)}
        for e in sorted(errors, key=lambda e: e.line or 0)[:MAX_REASONS]
    ]


def add_webhook_routes(
    web_app: web.Application,
    sink: FrameSink | SinkRunner,
    secret: str | None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    path_token: str | None = None,
    health: FeedHealth | None = None,
    replay_window: int = REPLAY_WINDOW_S,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> FeedHealth:
    """Mount POST /feed/ocpp (HMAC) and, with `path_token`, POST /feed/ocpp/<token>."""
    if not secret and not path_token:
        raise ValueError("the webhook needs a secret (FAULTBOT_WEBHOOK_SECRET) or a path token")
    runner = sink if isinstance(sink, SinkRunner) else SinkRunner(sink)
    feed = health or FeedHealth(SOURCE)
    feed.live = True

    def check_signature(request: web.Request, body: bytes) -> None:
        if not secret:
            raise _Refused(
                401, RejectReason.UNAUTHENTICATED, "this webhook accepts only the path-token route"
            )
        ts = request.headers.get(TIMESTAMP_HEADER)
        sig = request.headers.get(SIGNATURE_HEADER)
        if not ts or not sig:
            raise _Refused(
                401,
                RejectReason.UNAUTHENTICATED,
                f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header",
            )
        if not ts.isdigit() or len(ts) > 12:
            raise _Refused(
                401, RejectReason.UNAUTHENTICATED, f"{TIMESTAMP_HEADER} must be unix seconds"
            )
        if abs(time.time() - int(ts)) > replay_window:
            raise _Refused(
                401,
                RejectReason.UNAUTHENTICATED,
                "request timestamp outside the replay window (5 minutes)",
            )
        expected = signature(secret, ts, body)
        if not hmac.compare_digest(expected.encode(), sig.strip().encode("utf-8", "replace")):
            raise _Refused(401, RejectReason.UNAUTHENTICATED, "bad signature")

    async def read_body(request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > max_body:
            raise _Refused(413, RejectReason.BODY_TOO_LARGE, f"body over {max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(body_timeout):
                async for chunk in request.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_body:
                        raise _Refused(
                            413, RejectReason.BODY_TOO_LARGE, f"body over {max_body} bytes"
                        )
                    chunks.append(chunk)
        except TimeoutError:
            raise _Refused(
                408,
                RejectReason.BODY_TIMEOUT,
                f"body not received within {body_timeout:g} s",
                close=True,
            ) from None
        return b"".join(chunks)

    async def handle(request: web.Request, *, token_ok: bool) -> web.Response:
        try:
            ctype = request.content_type if request.headers.get("Content-Type") else ""
            if ctype not in ACCEPTED_TYPES:
                raise _Refused(
                    415,
                    RejectReason.UNSUPPORTED_TYPE,
                    f"unsupported content type {ctype!r}; send JSON or JSON Lines",
                )
            body = await read_body(request)
            if not token_ok:
                check_signature(request, body)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise _Refused(400, RejectReason.BAD_ENCODING, "body is not UTF-8") from None
            items, errors = _split_body(text)
            received = len(items) + len(errors)
            records, more_errors, ignored = _records(items)
            errors += more_errors
        except _Refused as exc:
            feed.note_request_refused(exc.kind)
            refusal = web.json_response(
                {"error": exc.reason, "reason": str(exc.kind)}, status=exc.status
            )
            if exc.close:
                # Answer, then drop the connection at once: aiohttp would otherwise
                # linger, reading the rest of the slow body for up to 10 s.
                refusal.force_close()
                await refusal.prepare(request)
                await refusal.write_eof()
                if request.transport is not None:
                    request.transport.close()
            return refusal
        feed.received += len(records)
        feed.note_rejected(errors)
        stored = duplicates = 0
        if records:
            try:
                result = await runner(records)
            except Exception as exc:  # store down: tell the sender to retry
                feed.sink_failures += 1
                feed.last_error = f"sink: {type(exc).__name__}: {exc}"[:300]
                return web.json_response(
                    {"error": "store unavailable, retry later"},
                    status=503,
                    headers={"Retry-After": "5"},
                )
            feed.note_stored(records, result.stored, result.duplicates)
            feed.note_result(result)
            errors += result.rejected
            stored, duplicates = result.stored, result.duplicates
        answer = {
            "received": received,
            "stored": stored,
            "duplicates": duplicates,
            "ignored": ignored,
            "rejected_count": len(errors),
            "rejected": _rejections(errors),
        }
        # Nothing stored, nothing already stored, nothing ignored, something refused:
        # the body is poison. 400, because sending it again cannot succeed.
        poison = errors and not stored and not duplicates and not ignored
        status = 400 if poison else 200
        if poison:
            answer["error"] = (
                "no frame in the body could be read" if not records
                else "no frame in the body could be stored"
            )
        return web.json_response(answer, status=status)

    async def handle_signed(request: web.Request) -> web.Response:
        return await handle(request, token_ok=False)

    async def handle_token(request: web.Request) -> web.Response:
        given = request.match_info["token"].encode("utf-8", "replace")
        if not path_token or not hmac.compare_digest(given, path_token.encode()):
            return web.json_response({"error": "unknown feed path"}, status=404)
        return await handle(request, token_ok=True)

    web_app.router.add_post(ROUTE, handle_signed)
    web_app.router.add_post(ROUTE + "/{token}", handle_token)
    return feed
