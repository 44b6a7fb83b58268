"""The stand-in is as strict as Slack where faultbot meets Slack's rules: tokens,
scopes per token, channel membership, the 40k text limit, Block Kit validation
(slack_sdk's models), trigger_id expiry, response_url limits, 429 + Retry-After."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import stub as stub_module
from bot.slack.stub import Phase, SlackStub


def _client(stub: SlackStub, token: str = "xoxb-test") -> WebClient:
    return WebClient(token=token, base_url=stub.base_url, retry_handlers=[], timeout=5)


def _error(call) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.status_code, dict(info.value.response.data)


def test_tokens(stub: SlackStub) -> None:
    ok = _client(stub).auth_test()
    assert "chat:write" in ok.headers["x-oauth-scopes"]
    assert (
        _error(lambda: _client(stub, "").chat_postMessage(channel="C1", text="x"))[1]["error"]
        == "not_authed"
    )
    stub.bad_tokens.add("xoxb-revoked")
    assert _error(lambda: _client(stub, "xoxb-revoked").auth_test())[1]["error"] == "invalid_auth"
    app_token = _client(stub, "xapp-1-A-1-x")
    assert _error(lambda: app_token.chat_postMessage(channel="C1", text="x"))[1]["error"] == (
        "not_allowed_token_type"
    )


def test_scopes_per_token(stub: SlackStub) -> None:
    stub.grant("xoxb-narrow", "chat:write")
    narrow = _client(stub, "xoxb-narrow")
    narrow.chat_postMessage(channel="C1", text="fine")
    _, body = _error(lambda: narrow.conversations_history(channel="G1"))
    assert (body["error"], body["needed"], body["provided"]) == (
        "missing_scope",
        "groups:history",
        "chat:write",
    )


def test_channel_membership(stub: SlackStub) -> None:
    stub.add_channel("CPUB", member=False)
    stub.add_channel("GPRIV", private=True, member=False)
    client = _client(stub)
    client.chat_postMessage(channel="CPUB", text="chat:write.public lets this through")
    assert _error(lambda: client.conversations_history(channel="CPUB"))[1]["error"] == (
        "not_in_channel"
    )
    assert _error(lambda: client.chat_postMessage(channel="GPRIV", text="x"))[1]["error"] == (
        "channel_not_found"
    )
    stub.grant("xoxb-nopublic", "chat:write")
    other = _client(stub, "xoxb-nopublic")
    assert _error(lambda: other.chat_postMessage(channel="CPUB", text="x"))[1]["error"] == (
        "not_in_channel"
    )


def test_text_limit_and_block_validation(stub: SlackStub) -> None:
    client = _client(stub)
    client.chat_postMessage(channel="C1", text="x" * 40_000)
    assert (
        _error(lambda: client.chat_postMessage(channel="C1", text="x" * 40_001))[1]["error"]
        == "msg_too_long"
    )
    bad = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    _, body = _error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=bad))
    assert body["error"] == "invalid_blocks"
    assert "3000" in body["errors"][0] and "/blocks/0" in body["errors"][0]
    unknown = [{"type": "no_such_block"}]
    assert (
        _error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=unknown))[1]["error"]
        == "invalid_blocks"
    )
    too_many = [{"type": "divider"}] * 51
    assert (
        _error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=too_many))[1]["error"]
        == "invalid_blocks"
    )


def test_trigger_id_once_and_within_three_seconds(
    stub: SlackStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(stub)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    tid = stub.trigger_id()
    client.views_open(trigger_id=tid, view=view)
    assert _error(lambda: client.views_open(trigger_id=tid, view=view))[1]["error"] == (
        "invalid_trigger_id"  # spent
    )
    assert _error(lambda: client.views_open(trigger_id="1.2.3", view=view))[1]["error"] == (
        "invalid_trigger_id"  # never handed out
    )
    monkeypatch.setattr(stub_module, "TRIGGER_TTL", 0.05)
    late = stub.trigger_id()
    time.sleep(0.1)
    assert _error(lambda: client.views_open(trigger_id=late, view=view))[1]["error"] == (
        "expired_trigger_id"
    )


def _respond(url: str) -> int:
    req = urllib.request.Request(
        url, data=json.dumps({"text": "hi"}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_response_url_five_uses(stub: SlackStub) -> None:
    url = stub.response_url()
    assert [_respond(url) for _ in range(6)] == [200] * 5 + [404]
    assert stub.calls_to("response_url")[-1].response["error"] == "used_url"
    assert _respond(stub.response_url()) == 200  # another command, another URL


def test_429_with_retry_after_during_an_outage(stub: SlackStub) -> None:
    stub.outage(Phase(60, "429", retry_after=7))
    status, body = _error(lambda: _client(stub).chat_postMessage(channel="C1", text="x"))
    assert (status, body["error"]) == (429, "ratelimited")
    assert stub.calls_to("chat.postMessage")[0].status == 429
    with pytest.raises(SlackApiError) as info:
        _client(stub).chat_postMessage(channel="C1", text="x")
    assert info.value.response.headers["Retry-After"] == "7"
    assert stub.messages == {}  # nothing landed
