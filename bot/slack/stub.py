"""A small local stand-in for the Slack Web API, for tests and `faultbot demo-slack`.

A real HTTP server on 127.0.0.1 that records every call (method, parameters, blocks)
and answers the methods faultbot uses like Slack does: `ok`, a `ts`, stored messages
that `chat.update` edits in place. It can be scripted to answer 429 + Retry-After,
5xx, `ok:false` errors, or to stop listening altogether (an outage).

It is as strict as Slack where faultbot meets Slack's rules (bot.slack.stub_rules):
a bot token is required and checked, each token has granted scopes (sent back in
`x-oauth-scopes`) and a call without the needed scope answers `missing_scope`; a
declared channel the bot is not in answers `not_in_channel`; text over 40 000
characters answers `msg_too_long` and blocks slack_sdk's models refuse answer
`invalid_blocks` with Slack's `errors` detail. Channels not declared with
`add_channel` exist and have the bot in them (most tests need no set-up).
Switches inject failures: `script()` (the next answers), `lose_replies()` (the call
takes effect, the answer is lost), `outage()` (timed phases of 5xx, resets, 429s).

Files go through Slack's current upload flow, checked step by step:
`files.getUploadURLExternal` (files:write; `filename` and an integer `length` required,
0 answers `missing_argument`, `alt_txt` over 1,000 characters `alt_txt_too_large`) hands
out an upload URL on this server; a POST of the bytes there (raw or multipart) answers
200 "OK - <n>"; `files.completeUploadExternal` (files:write; `files` a JSON array of
`{"id", "title"}`) shares them into `channel_id`, in `thread_ts`'s thread. Like Slack it
needs the bot in the channel (chat:write.public does not help: `not_in_channel`); the
stand-in also refuses a file never uploaded or whose bytes differ from `length`
(`file_not_found`) and a `thread_ts` that is not a parent message there
(`invalid_thread_ts`). Shared files are in `files`.

It also stands in for Socket Mode: `apps.connections.open` (with an xapp- token) hands
out a ws:// URL of a WebSocket server the stub runs (bot/slack/stub_socket.py), and tests
push envelopes to the connected app and read its acks.

    with SlackStub() as stub:
        client = WebClient(token="xoxb-test", base_url=stub.base_url)
        envelope_id = stub.socket_send("slash_commands", {...})   # once the app connected
        ack = stub.wait_socket_ack(envelope_id, timeout=5)       # SocketAck | None
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from bot.slack.stub_rules import (
    DEFAULT_BOT_SCOPES,
    NO_SCOPE_METHODS,
    TEXT_LIMIT,
    Outage,
    Phase,
    StubChannel,
    check_blocks,
    kind_of,
    needed_scope,
)
from bot.slack.stub_socket import SocketAck, SocketConnection, SocketLink

RESET = 0  # a "status" meaning: close the connection without answering
TRIGGER_TTL = 3.0  # seconds a trigger_id may open a view
RESPONSE_USES = 5  # posts to one response_url ...
RESPONSE_TTL = 30 * 60.0  # ... within 30 minutes

_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(slots=True)
class StubCall:
    method: str  # "chat.postMessage", or "response_url" for respond() posts
    params: dict[str, Any]
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    token: str = ""  # the bearer token the caller sent


@dataclass(slots=True)
class Scripted:
    """One scripted answer, used instead of the normal one for the next call."""

    status: int = 200
    error: str | None = None  # ok:false error code (with HTTP 200 unless status says otherwise)
    retry_after: float | None = None  # seconds, sent as the Retry-After header
    delay: float = 0.0  # answer slowly
    when: Callable[[dict[str, Any]], bool] | None = None  # only calls it accepts


@dataclass(slots=True)
class Gate:
    """Holds calls of one method until released, so tests can act while a call is in
    flight (deterministic, no timing)."""

    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


@dataclass(slots=True)
class StubFile:
    """A file announced by files.getUploadURLExternal; `data` once uploaded."""

    id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None  # where files.completeUploadExternal shared it
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass(slots=True)
class StubMessage:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None
    edits: int = 0
    metadata: dict[str, Any] | None = None  # chat.postMessage `metadata` (conversations.replies)


class SlackStub:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self.calls: list[StubCall] = []
        self.messages: dict[tuple[str, str], StubMessage] = {}
        self.missing_channels: set[str] = set()
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}  # channel -> user ids (conversations.members)
        self.channels: dict[str, StubChannel] = {}  # declared channels (others just exist)
        self.grants: dict[str, frozenset[str]] = {}  # token -> scopes (else the defaults)
        self.bad_tokens: set[str] = set()  # answered invalid_auth
        self.outage_plan: Outage | None = None
        self._lost: dict[str, deque[int]] = {}  # method -> statuses to answer after acting
        self._last_ts = 0.0
        self._triggers: dict[str, float] = {}  # trigger_id -> issued (monotonic)
        self._response_uses: dict[str, list[float]] = {}  # response_url path -> uses
        self._scripts: dict[str, deque[Scripted]] = {}
        self._gates: dict[str, Gate] = {}
        self._lock = threading.Lock()
        self._seq = count(1)
        self.files: dict[str, StubFile] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition(self._lock)
        self.socket = SocketLink(host)  # started on the first apps.connections.open

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> SlackStub:
        handler = _make_handler(self)
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((self.host, self._port), handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; clients now get "connection refused" (a Slack outage)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket.stop()

    def __enter__(self) -> SlackStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/api/"

    @property
    def response_url_base(self) -> str:
        return f"http://{self.host}:{self._port}/response/"

    # -- scripting ---------------------------------------------------------------
    def script(self, method: str, *answers: Scripted) -> None:
        """Queue answers for the next calls of `method` ("*" = any method)."""
        with self._lock:
            self._scripts.setdefault(method, deque()).extend(answers)

    def gate(self, method: str) -> Gate:
        """The next calls of `method` wait until `gate.release()` (at most 30 s)."""
        gate = Gate()
        with self._lock:
            self._gates[method] = gate
        return gate

    def add_channel(
        self, channel: str, *, private: bool = False, member: bool = True, archived: bool = False
    ) -> StubChannel:
        """Declare a channel; `member=False`: the bot has not been invited."""
        self.channels[channel] = StubChannel(channel, private, member, archived)
        return self.channels[channel]

    def grant(self, token: str, *scopes: str) -> None:
        """The scopes `token` was installed with (replacing the defaults)."""
        self.grants[token] = frozenset(scopes)

    def lose_replies(self, method: str, *statuses: int) -> None:
        """The next calls of `method` take effect, then answer `status` (500, 502, ...)
        or, with RESET (0), close the connection unanswered: a lost reply."""
        with self._lock:
            self._lost.setdefault(method, deque()).extend(statuses)

    def outage(self, *phases: Phase, scale: float = 1.0) -> Outage:
        """Start a timed outage now: the phases run back to back, each `seconds * scale`
        long (scale < 1 compresses time, keeping every ratio, Retry-After included)."""
        with self._lock:
            self.outage_plan = Outage(list(phases), scale=scale)
            return self.outage_plan

    def trigger_id(self) -> str:
        """A trigger_id as Slack hands one out with a command or a click: views.open
        takes it once, within TRIGGER_TTL (3 s); others answer invalid_trigger_id."""
        with self._lock:
            tid = f"{next(self._seq)}.{int(time.time() * 1000)}.stub{next(self._seq):08x}"
            self._triggers[tid] = time.monotonic()
            return tid

    def response_url(self, tag: str = "r") -> str:
        """A fresh response_url (each one: RESPONSE_USES posts within RESPONSE_TTL)."""
        return f"{self.response_url_base}{tag}-{next(self._seq)}"

    def set_members(self, channel: str, *users: str) -> None:
        self.members[channel] = list(users)

    def add_user(self, user_id: str, name: str, tz: str = "UTC") -> None:
        self.users[user_id] = {"id": user_id, "name": name, "real_name": name, "tz": tz}

    # -- inspection --------------------------------------------------------------
    def calls_to(self, method: str) -> list[StubCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def ok_calls(self, method: str) -> list[StubCall]:
        return [c for c in self.calls_to(method) if c.status == 200 and c.response.get("ok")]

    def wait_for(self, method: str, n: int = 1, timeout: float = 5.0) -> list[StubCall]:
        """Block until `n` calls of `method` arrived (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [c for c in self.calls if c.method == method]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self._changed.wait(left)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self.files.clear()
            self._scripts.clear()

    def transcript(self) -> list[str]:
        """The recorded calls, one readable line (plus indented text) each."""
        lines = []
        for c in list(self.calls):
            p = c.params
            bits = [c.method]
            for key in ("channel", "ts", "thread_ts", "user"):
                if p.get(key):
                    bits.append(f"{key}={p[key]}")
            if c.status != 200 or not c.response.get("ok", True):
                bits.append(f"-> {c.status} {c.response.get('error', '')}".rstrip())
            lines.append("  ".join(bits))
            body = p.get("text") or ""
            if c.method.startswith("views."):
                body = f"[view with {len((p.get('view') or {}).get('blocks', []))} blocks]"
            for text_line in str(body).splitlines()[:6]:
                lines.append(f"    | {text_line}")
        return lines

    # -- Socket Mode -------------------------------------------------------------
    @property
    def socket_connections(self) -> list[SocketConnection]:
        """Every WebSocket connection the app opened, oldest first."""
        return list(self.socket.connections)

    def wait_socket_connections(self, n: int = 1, timeout: float = 10.0) -> list[SocketConnection]:
        """Block until the app has opened `n` connections in all (or the timeout passes)."""
        return self.socket.wait_connections(n, timeout)

    def socket_send(self, envelope_type: str, payload: dict[str, Any], **envelope: Any) -> str:
        """Push an envelope ("slash_commands", "events_api", "interactive") to the app's
        current connection; its envelope_id. Raises RuntimeError if none is open."""
        return self.socket.send(envelope_type, payload, **envelope)

    def wait_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck | None:
        """The app's ack (payload, latency in seconds), or None if none came in time."""
        return self.socket.wait_ack(envelope_id, timeout)

    def socket_disconnect(self, reason: str = "refresh_requested", grace: float = 10.0) -> int:
        """Send Slack's `disconnect` message and close that connection once the app has
        reconnected (or after `grace` s); the number of the connection asked to go."""
        return self.socket.disconnect(reason, grace)

    def socket_drop(self) -> int:
        """Close the current connection without a disconnect message; its number."""
        return self.socket.drop()

    # -- the Web API -------------------------------------------------------------
    def _next_ts(self) -> str:
        # Like Slack: the posting time in seconds with microseconds, always increasing.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def handle(
        self, path: str, params: dict[str, Any], token: str = ""
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        gate = self._gates.get(method)
        if gate is not None:
            gate.entered.set()
            gate.released.wait(30)
        token = token or str(params.get("token") or "")
        fault = self._outage_answer(method, params, path, token)
        if fault is not None:
            return fault
        with self._lock:
            queue = self._scripts.get(method) or self._scripts.get("*")
            scripted = None
            for i, candidate in enumerate(queue or ()):
                if candidate.when is None or candidate.when(params):
                    scripted = candidate
                    del queue[i]  # type: ignore[union-attr]  # non-empty: enumerate gave i
                    break
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            scripted_headers: dict[str, str] = {}
            if scripted.retry_after is not None:
                scripted_headers["Retry-After"] = str(scripted.retry_after)
            if scripted.error is not None:
                body: dict[str, Any] = {"ok": False, "error": scripted.error}
            elif scripted.status == 429:
                body = {"ok": False, "error": "ratelimited"}
            else:
                body = {"ok": False, "error": "internal_error"}
            self._record(method, params, scripted.status, body, path, token)
            return scripted.status, scripted_headers, body
        headers: dict[str, str] = {}
        if method == "response_url":
            with self._lock:
                spent = self._response_url_refusal(path)
            if spent is not None:
                self._record(method, params, spent[0], spent[1], path, token)
                return spent[0], {}, spent[1]
        if method == "apps.connections.open":
            body = self._connections_open(token)  # outside the lock: may start the server
        else:
            with self._lock:
                refused = self._refuse(method, params, token)
                body = refused if refused is not None else self._answer(method, params)
                lost = self._lost.get(method)
                status = lost.popleft() if lost else 200
            if method != "response_url" and token in self._valid_tokens(token):
                headers["x-oauth-scopes"] = ",".join(sorted(self._scopes(token)))
            if status != 200:  # it happened, but the caller will not hear so
                body = {"ok": False, "error": "internal_error"}
                self._record(method, params, status, body, path, token)
                return status, {}, body
        self._record(method, params, 200, body, path, token)
        return 200, headers, body

    # -- strictness ----------------------------------------------------------------
    def _outage_answer(
        self, method: str, params: dict[str, Any], path: str, token: str
    ) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        plan = self.outage_plan
        phase = plan.phase_now() if plan is not None and method != "response_url" else None
        if phase is None or plan is None:
            return None
        if phase.kind == "lost":
            with self._lock:
                self._answer(method, params)  # it lands; the answer will not
            status, headers, body = 500, {}, {"ok": False, "error": "internal_error"}
        elif phase.kind == "429":
            status, headers = 429, {"Retry-After": plan.retry_after(phase)}
            body = {"ok": False, "error": "ratelimited"}
        elif phase.kind == "down":
            status, headers, body = RESET, {}, {}
        else:
            status, headers, body = 503, {}, {"ok": False, "error": "service_unavailable"}
        self._record(method, params, status, body, path, token)
        return status, headers, body

    def _valid_tokens(self, token: str) -> set[str]:
        ok = token.startswith(("xoxb-", "xoxp-")) and token not in self.bad_tokens
        return {token} if ok else set()

    def _scopes(self, token: str) -> frozenset[str]:
        return self.grants.get(token, DEFAULT_BOT_SCOPES)

    def _refuse(self, method: str, p: dict[str, Any], token: str) -> dict[str, Any] | None:
        """Slack's answer when the token, scope or channel does not allow the call."""
        if method == "response_url":
            return None  # response URLs carry no token
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if not self._valid_tokens(token):
            return {"ok": False, "error": "invalid_auth"}
        channel = str(p.get("channel") or "")
        scope = needed_scope(method, channel)
        granted = self._scopes(token)
        if method not in NO_SCOPE_METHODS and scope is not None and scope not in granted:
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": scope,
                "provided": ",".join(sorted(granted)),
            }
        if method in ("views.open", "views.push"):
            return self._spend_trigger(str(p.get("trigger_id") or ""))
        if not channel or kind_of(channel) == "D":
            return None
        if channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        declared = self.channels.get(channel)
        if declared is None:
            return None
        if declared.archived and method in ("chat.postMessage", "chat.update"):
            return {"ok": False, "error": "is_archived"}
        if not declared.bot_member:
            if declared.private:  # a private channel the bot is not in is invisible
                return {"ok": False, "error": "channel_not_found"}
            public_post = method == "chat.postMessage" and "chat:write.public" in granted
            if not public_post and method != "conversations.info":
                return {"ok": False, "error": "not_in_channel"}
        return None

    def _spend_trigger(self, trigger_id: str) -> dict[str, Any] | None:
        issued = self._triggers.pop(trigger_id, None)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - issued > TRIGGER_TTL:
            return {"ok": False, "error": "expired_trigger_id"}
        return None

    def _response_url_refusal(self, path: str) -> tuple[int, dict[str, Any]] | None:
        """Slack lets a response_url be used RESPONSE_USES times within RESPONSE_TTL."""
        now = time.monotonic()
        uses = self._response_uses.setdefault(path, [])
        if uses and now - uses[0] > RESPONSE_TTL:
            return 404, {"ok": False, "error": "expired_url"}
        if len(uses) >= RESPONSE_USES:
            return 404, {"ok": False, "error": "used_url"}
        uses.append(now)
        return None

    def _content_error(self, p: dict[str, Any]) -> dict[str, Any] | None:
        if len(str(p.get("text") or "")) > TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        problems = check_blocks(p.get("blocks"))
        if problems:
            return {
                "ok": False,
                "error": "invalid_blocks",
                "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {m}" for m in problems]},
            }
        return None

    def _connections_open(self, token: str) -> dict[str, Any]:
        # Slack wants the app-level token here; a bot token is refused.
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket.issue_url()}

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        body: dict[str, Any],
        path: str,
        token: str = "",
    ) -> None:
        with self._changed:
            self.calls.append(StubCall(method, params, time.time(), status, body, path, token))
            self._changed.notify_all()

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel", ""))
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://stub.slack.test/",
                "team": "Stub",
                "team_id": "T0STUB",
                "user": "faultbot",
                "user_id": "UBOT",
                "bot_id": "BBOT",
            }
        if method == "chat.postMessage":
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if not p.get("text") and not p.get("blocks"):
                return {"ok": False, "error": "no_text"}
            refused = self._content_error(p)
            if refused is not None:
                return refused
            ts = self._next_ts()
            meta = p.get("metadata") if isinstance(p.get("metadata"), dict) else None
            msg = StubMessage(
                channel,
                ts,
                str(p.get("text", "")),
                p.get("blocks") or [],
                p.get("thread_ts"),
                metadata=meta,
            )
            self.messages[(channel, ts)] = msg
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": msg.text, "ts": ts, "blocks": msg.blocks},
            }
        if method == "chat.update":
            found = self.messages.get((channel, str(p.get("ts"))))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            refused = self._content_error(p)
            if refused is not None:
                return refused
            found.text = str(p.get("text", found.text))
            found.blocks = p.get("blocks") or found.blocks
            found.edits += 1
            return {"ok": True, "channel": channel, "ts": found.ts, "text": found.text}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            view = p.get("view") or {}
            return {"ok": True, "view": {**view, "id": f"V{next(self._seq):08d}"}}
        if method == "conversations.info":
            declared = self.channels.get(channel) or StubChannel(channel, channel[:1] == "G")
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "name": channel.lower(),
                    "is_member": declared.bot_member,
                    "is_private": declared.private,
                    "is_archived": declared.archived,
                },
            }
        if method == "conversations.members":
            # Paged like Slack: `limit` per page, an opaque cursor to the next one.
            members = self.members.get(channel, [])
            start = int(p.get("cursor") or 0)
            size = int(p.get("limit") or 100)
            if not 0 < size <= 1000:  # Slack's documented bounds
                return {"ok": False, "error": "invalid_limit"}
            page = members[start : start + size]
            more = start + size < len(members)
            return {
                "ok": True,
                "members": page,
                "response_metadata": {"next_cursor": str(start + size) if more else ""},
            }
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, channel, p)
        if method == "users.info":
            user = self.users.get(str(p.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "response_url":
            return {"ok": True}
        if method == "files.getUploadURLExternal":
            return self._upload_url(p)
        if method == "files.completeUploadExternal":
            return self._complete_upload(p)
        return {"ok": False, "error": "unknown_method"}

    # -- file uploads ----------------------------------------------------------------
    def _upload_url(self, p: dict[str, Any]) -> dict[str, Any]:
        filename, length, alt = p.get("filename"), str(p.get("length") or ""), p.get("alt_txt")
        if not filename or not length:
            return {"ok": False, "error": "invalid_arguments"}
        if not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        if int(length) == 0:
            return {"ok": False, "error": "missing_argument"}
        if alt is not None and len(str(alt)) > 1000:
            return {"ok": False, "error": "alt_txt_too_large"}
        file_id = f"F{next(self._seq):010d}"
        self.files[file_id] = StubFile(file_id, str(filename), int(length),
                                       None if alt is None else str(alt))
        return {"ok": True, "upload_url": f"http://{self.host}:{self.port}/upload/v1/{file_id}",
                "file_id": file_id}

    def upload(self, path: str, raw: bytes, content_type: str) -> tuple[int, str]:
        """A POST to an upload URL: (status, body text)."""
        file_id = path.rsplit("/", 1)[-1]
        data = _file_part(raw, content_type) if content_type.startswith("multipart/") else raw
        with self._lock:
            found = self.files.get(file_id)
            status, body = (404, "Not Found") if found is None else (200, f"OK - {len(data)}")
            if found is not None:
                found.data = data
            self.calls.append(StubCall("upload_url", {"file_id": file_id, "bytes": len(data)},
                                       time.time(), status, {}, path))
            self._changed.notify_all()
        return status, body

    def _complete_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            items = json.loads(p["files"]) if isinstance(p.get("files"), str) else p.get("files")
        except ValueError:
            items = None
        if not isinstance(items, list) or not items or not all(
                isinstance(i, dict) and i.get("id") for i in items):
            return {"ok": False, "error": "invalid_arguments"}
        channel = str(p.get("channel_id") or "")
        thread = p.get("thread_ts")
        if channel:
            declared = self.channels.get(channel)
            if channel in self.missing_channels:
                return {"ok": False, "error": "channel_not_found"}
            if declared is not None and not declared.bot_member:
                return {"ok": False, "error": "not_in_channel"}
        if thread:
            parent = self.messages.get((channel, str(thread)))
            if not channel or parent is None or parent.thread_ts not in (None, parent.ts):
                return {"ok": False, "error": "invalid_thread_ts"}
        files = []
        for item in items:
            f = self.files.get(str(item["id"]))
            if f is None or f.data is None or len(f.data) != f.length:
                return {"ok": False, "error": "file_not_found"}
            files.append(f)
        out = []
        for f, item in zip(files, items, strict=True):
            f.title = str(item.get("title") or f.filename)
            f.channel, f.thread_ts = channel or None, str(thread) if thread else None
            f.initial_comment = p.get("initial_comment")
            out.append({"id": f.id, "name": f.filename, "title": f.title, "size": f.length,
                        "alt_txt": f.alt_txt, "channels": [channel] if channel else []})
        return {"ok": True, "files": out}

    def _history(self, method: str, channel: str, p: dict[str, Any]) -> dict[str, Any]:
        """Newest first, paged by `limit` with a cursor; metadata only when asked for."""
        oldest = float(p.get("oldest") or 0)
        with_meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        msgs = [m for m in self.messages.values() if m.channel == channel]
        if method == "conversations.replies":
            parent = str(p.get("ts") or "")
            if not parent:
                return {"ok": False, "error": "invalid_arguments"}
            # The stand-in knows only the bot's own posts: a thread a person started
            # shows the bot's replies in it (real Slack would add the person's message).
            msgs = sorted(
                (m for m in msgs if m.ts == parent or m.thread_ts == parent),
                key=lambda m: float(m.ts),
            )
        else:
            msgs = sorted((m for m in msgs if not m.thread_ts), key=lambda m: -float(m.ts))
        msgs = [m for m in msgs if float(m.ts) >= oldest]
        start = int(p.get("cursor") or 0)
        size = int(p.get("limit") or 100)
        page = msgs[start : start + size]
        out = []
        for m in page:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "bot_id": "BBOT"}
            if m.thread_ts or method == "conversations.replies":
                item["thread_ts"] = m.thread_ts or m.ts  # Slack marks the parent too
            if with_meta and m.metadata:
                item["metadata"] = m.metadata
            out.append(item)
        more = start + size < len(msgs)
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return {"_invalid_json": text[:200]}
        return data if isinstance(data, dict) else {"_body": data}
    params: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _file_part(raw: bytes, content_type: str) -> bytes:
    """The file's bytes from a multipart/form-data body (the first part with a filename,
    else the first part)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    parts = [part for part in msg.iter_parts()] if msg.is_multipart() else []
    chosen = next((q for q in parts if q.get_filename()), parts[0] if parts else None)
    if chosen is None:
        return raw
    payload = chosen.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else raw


def _make_handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            if path.startswith("/upload/"):  # an upload URL: the body is the file itself
                status_code, text = stub.upload(path, self.rfile.read(length),
                                                self.headers.get("Content-Type", ""))
                raw_body = text.encode()
                self.send_response(status_code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(raw_body)))
                self.end_headers()
                self.wfile.write(raw_body)
                return
            params = _parse(self.rfile.read(length), self.headers.get("Content-Type", ""))
            params.update(dict(parse_qsl(query)))
            auth = self.headers.get("Authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            status, headers, body = stub.handle(path, params, token)
            if status == RESET:  # the connection drops: the caller hears nothing
                self.close_connection = True
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_POST = _serve
        do_GET = _serve

    return Handler
