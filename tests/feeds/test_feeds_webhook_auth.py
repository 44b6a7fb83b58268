"""Webhook authentication at its edges: the replay window both ways, the signature's
exact input, the path token, and which route a configuration opens.

The sink keeps records in memory: these tests are about who gets in, not the store
(test_feeds_webhook.py covers storing on SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from feeds_peers import CollectingSink

from bot.feeds.access_log import mask_path_token
from bot.feeds.health import FeedHealth
from bot.feeds.webhook import add_webhook_routes, signature, signed_headers

SECRET = "s3cret"
TOKEN = "a-long-path-token-0123456789"
LINE = {
    "ts": "2026-11-20T08:00:00Z",
    "charger": "CP-001",
    "dir": "in",
    "frame": [2, "m1", "Heartbeat", {}],
    "ocpp": "1.6",
}
BODY = json.dumps(LINE).encode()
JSON = {"Content-Type": "application/json"}


def exchange(
    secret: str | None, token: str | None, requests: list[tuple[str, dict[str, str]]],
    body: bytes = BODY,
) -> tuple[list[tuple[int, dict[str, Any]]], CollectingSink, FeedHealth]:
    """POST `body` to each (path, headers): (status, JSON answer) each, what was
    stored, and the feed's health."""
    sink = CollectingSink()
    health = FeedHealth("webhook")

    async def main() -> list[tuple[int, dict[str, Any]]]:
        app = web.Application()
        add_webhook_routes(app, sink, secret, path_token=token, health=health)
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for path, headers in requests:
                resp = await client.post(path, data=body, headers={**JSON, **headers})
                answers.append((resp.status, await resp.json()))
        return answers

    return asyncio.run(asyncio.wait_for(main(), 60)), sink, health


def run(secret: str | None, token: str | None, requests: list[tuple[str, dict[str, str]]],
        body: bytes = BODY) -> tuple[list[int], CollectingSink]:
    """POST `body` to each (path, headers); the statuses, and what was stored."""
    answers, sink, _ = exchange(secret, token, requests, body)
    return [status for status, _ in answers], sink


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (-290, True), (290, True), (-310, False), (310, False), (86_400, False)],
)
def test_replay_window_applies_to_past_and_future(offset: int, accepted: bool) -> None:
    headers = signed_headers(SECRET, BODY, now=time.time() + offset)
    (status,), sink = run(SECRET, None, [("/feed/ocpp", headers)])
    assert (status == 200) is accepted, status
    assert len(sink.records) == (1 if accepted else 0)


def test_signature_is_hmac_sha256_over_version_timestamp_and_body() -> None:
    ts = "1790000000"
    expected = hmac.new(SECRET.encode(), f"v1:{ts}:".encode() + BODY, hashlib.sha256)
    assert signature(SECRET, ts, BODY) == "v1=" + expected.hexdigest()
    assert signature(SECRET, ts, BODY) != signature(SECRET, "1790000001", BODY)
    assert signature(SECRET, ts, BODY) != signature("other", ts, BODY)


@pytest.mark.parametrize(
    "change",
    ["other secret", "other body", "other timestamp", "no prefix", "upper hex", "truncated"],
)
def test_any_wrong_signature_is_refused(change: str) -> None:
    now = int(time.time())
    ts, sig = str(now), signature(SECRET, str(now), BODY)
    if change == "other secret":
        sig = signature("not-it", ts, BODY)
    elif change == "other body":
        sig = signature(SECRET, ts, BODY + b" ")
    elif change == "other timestamp":
        ts = str(now - 1)
    elif change == "no prefix":
        sig = sig.removeprefix("v1=")
    elif change == "upper hex":
        sig = "v1=" + sig[3:].upper()
    elif change == "truncated":
        sig = sig[:-2]
    headers = {"X-Faultbot-Timestamp": ts, "X-Faultbot-Signature": sig}
    (status,), sink = run(SECRET, None, [("/feed/ocpp", headers)])
    assert status == 401 and sink.records == []


@pytest.mark.parametrize("ts", ["", "-5", "1e9", "17900000.5", "1" * 13, "now"])
def test_timestamps_that_are_not_unix_seconds_are_refused(ts: str) -> None:
    headers = {"X-Faultbot-Timestamp": ts, "X-Faultbot-Signature": signature(SECRET, ts, BODY)}
    (status,), sink = run(SECRET, None, [("/feed/ocpp", headers)])
    assert status == 401 and sink.records == []


def test_a_signature_with_surrounding_whitespace_is_accepted() -> None:
    headers = signed_headers(SECRET, BODY)
    headers["X-Faultbot-Signature"] = " " + headers["X-Faultbot-Signature"] + " "
    (status,), _ = run(SECRET, None, [("/feed/ocpp", headers)])
    assert status == 200


def test_the_path_token_route() -> None:
    statuses, sink = run(
        SECRET,
        TOKEN,
        [
            (f"/feed/ocpp/{TOKEN}", {}),  # the token alone is enough
            (f"/feed/ocpp/{TOKEN[:-1]}", {}),  # a near miss is not
            (f"/feed/ocpp/{TOKEN}x", {}),
            ("/feed/ocpp", {}),  # and the signed route still wants its signature
        ],
    )
    assert statuses == [200, 404, 404, 401]
    assert len(sink.records) == 1


def test_without_a_secret_only_the_token_route_is_open() -> None:
    statuses, sink = run(
        None, TOKEN, [("/feed/ocpp", signed_headers(SECRET, BODY)), (f"/feed/ocpp/{TOKEN}", {})]
    )
    assert statuses == [401, 200] and len(sink.records) == 1


def test_without_a_token_the_token_route_is_closed() -> None:
    statuses, sink = run(SECRET, None, [("/feed/ocpp/anything-at-all-123456", {})])
    assert statuses == [404] and sink.records == []


def test_a_webhook_with_neither_secret_nor_token_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="secret"):
        add_webhook_routes(web.Application(), CollectingSink(), None, path_token=None)


def test_access_log_lines_lose_the_token() -> None:
    line = f'127.0.0.1 "POST /feed/ocpp/{TOKEN}?x=1 HTTP/1.1" 200'
    assert mask_path_token(line) == '127.0.0.1 "POST /feed/ocpp/***?x=1 HTTP/1.1" 200'
    assert mask_path_token("POST /feed/ocpp HTTP/1.1") == "POST /feed/ocpp HTTP/1.1"


def refusal(headers: dict[str, str], secret: str | None = SECRET) -> str:
    ((status, answer),), sink, _ = exchange(secret, TOKEN, [("/feed/ocpp", headers)])
    assert status == 401 and sink.records == []
    return str(answer["error"])


def test_each_refusal_says_why() -> None:
    good = signed_headers(SECRET, BODY)
    ts = good["X-Faultbot-Timestamp"]
    missing = "missing X-Faultbot-Timestamp or X-Faultbot-Signature header"
    assert refusal({}) == missing
    assert refusal({"X-Faultbot-Timestamp": ts}) == missing  # either one missing
    assert refusal({"X-Faultbot-Signature": good["X-Faultbot-Signature"]}) == missing
    assert refusal({**good, "X-Faultbot-Timestamp": "soon"}) == (
        "X-Faultbot-Timestamp must be unix seconds")
    # 12 digits are still read as seconds (and are far off); 13 are not seconds at all.
    assert refusal({**good, "X-Faultbot-Timestamp": "9" * 12}) == (
        "request timestamp outside the replay window (5 minutes)")
    assert refusal({**good, "X-Faultbot-Timestamp": "1" * 13}) == (
        "X-Faultbot-Timestamp must be unix seconds")
    assert refusal({**good, "X-Faultbot-Signature": "v1=00"}) == "bad signature"
    assert refusal(good, secret=None) == "this webhook accepts only the path-token route"


def test_the_feed_is_live_once_mounted_and_counts_what_it_took() -> None:
    answers, _, health = exchange(SECRET, None, [("/feed/ocpp", signed_headers(SECRET, BODY))])
    assert answers[0][0] == 200
    assert health.live is True and health.received == 1


def test_the_missing_configuration_error_names_the_settings() -> None:
    with pytest.raises(ValueError) as err:
        add_webhook_routes(web.Application(), CollectingSink(), None)
    assert str(err.value) == (
        "the webhook needs a secret (FAULTBOT_WEBHOOK_SECRET) or a path token")
