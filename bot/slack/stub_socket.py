"""The Socket Mode side of the local Slack stand-in: a WebSocket server on 127.0.0.1.

Slack's Socket Mode, as slack_sdk's SocketModeClient speaks it: the app calls
`apps.connections.open` with its xapp- token and gets a one-ticket URL; on connect the
server says `hello`; then it pushes envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload", ...}` and the app answers
each with `{"envelope_id", "payload"?}` (the ack). Slack refreshes connections now and
then: it sends `{"type": "disconnect", "reason": "refresh_requested"}`, expects the app to
open a new connection, and closes the old one a few seconds later.

The server runs in its own thread and event loop; the blocking methods below are for
tests (each takes a timeout). Nothing here trusts what the app sends: anything that is not
an ack of an envelope we sent is recorded in `unexpected`, never raised.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

APP_ID = "A0FAULTBOT"
MAX_MESSAGE = 1 << 20  # an ack is small; a client sending more is misbehaving
_OP_TIMEOUT = 5.0  # every hop to the server thread is bounded


@dataclass(slots=True)
class SocketConnection:
    """One WebSocket connection the app opened."""

    number: int  # 1, 2, ... in the order they opened
    ticket: str
    opened_at: float  # time.time()
    closed_at: float | None = None
    close_code: int | None = None
    retiring: bool = False  # asked to reconnect (a disconnect message was sent)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(slots=True)
class SocketAck:
    envelope_id: str
    payload: dict[str, Any] | None  # what the app answered with (e.g. the ack's text)
    latency: float  # seconds from our send to the ack's arrival
    connection: int  # SocketConnection.number it came back on


@dataclass(slots=True)
class _Sent:
    envelope: dict[str, Any]
    at: float  # time.monotonic()
    connection: int


@dataclass(slots=True)
class _Live:
    record: SocketConnection
    ws: ServerConnection


@dataclass
class SocketLink:
    host: str = "127.0.0.1"
    app_id: str = APP_ID
    connections: list[SocketConnection] = field(default_factory=list)
    acks: dict[str, SocketAck] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)  # non-ack or unknown messages

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._sent: dict[str, _Sent] = {}
        self._live: dict[int, _Live] = {}
        self._numbers = count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._start_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> SocketLink:
        """Start listening (once; later calls return at once)."""
        with self._start_lock:
            if self._thread is not None:
                return self
            ready = threading.Event()
            failure: list[BaseException] = []
            self._thread = threading.Thread(
                target=self._run, args=(ready, failure), name="slack-stub-socket", daemon=True
            )
            self._thread.start()
            if not ready.wait(_OP_TIMEOUT) or failure:
                self._thread = None  # a later start() tries again
                raise RuntimeError(f"Socket Mode stand-in did not start: {failure or 'timeout'}")
        return self

    def stop(self) -> None:
        """Close every connection (1001 going away) and stop the loop."""
        loop, server, thread = self._loop, self._server, self._thread
        if loop is None or server is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(server.close)
        thread.join(_OP_TIMEOUT * 2)
        self._thread = self._loop = self._server = None

    @property
    def started(self) -> bool:
        return self._server is not None

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        except BaseException as exc:  # reported to start(), never a thread traceback
            failure.append(exc)
            ready.set()
        finally:
            loop.close()

    async def _main(self, ready: threading.Event) -> None:
        async with serve(
            self._handle,
            self.host,
            0,
            process_request=self._check_ticket,
            max_size=MAX_MESSAGE,
            close_timeout=2,
        ) as server:
            self._server = server
            self._port = next(iter(server.sockets)).getsockname()[1]
            ready.set()
            await server.wait_closed()

    # -- the Web API side --------------------------------------------------------
    def issue_url(self) -> str:
        """A fresh connection URL, as apps.connections.open answers it."""
        self.start()
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://{self.host}:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, ws: ServerConnection, request: Request) -> Response | None:
        # Only URLs we issued connect, like Slack's tickets.
        parts = urlsplit(request.path)
        tickets = parse_qs(parts.query).get("ticket", [])
        with self._cond:
            issued = bool(tickets) and tickets[0] in self._tickets
        known = issued and parts.path.rstrip("/") == "/link"
        if not known:
            return ws.respond(HTTPStatus.FORBIDDEN, "unknown ticket\n")
        return None

    # -- connections -------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        ticket = parse_qs(urlsplit(ws.request.path if ws.request else "").query)["ticket"][0]
        record = SocketConnection(next(self._numbers), ticket, time.time())
        hello = {
            "type": "hello",
            "num_connections": 1 + len(self._live),
            "debug_info": {"host": "stub-applink", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        # Live before the hello goes out: an app that reacts to the hello at once (or a
        # test sending right after it) must find the connection, never a gap.
        with self._cond:
            self.connections.append(record)
            self._live[record.number] = _Live(record, ws)
            self._cond.notify_all()
        await ws.send(json.dumps(hello))
        try:
            async for message in ws:
                self._on_message(record, message)
        except ConnectionClosed:
            pass  # the app went away; recorded below
        finally:
            with self._cond:
                record.closed_at = time.time()
                record.close_code = ws.close_code
                self._live.pop(record.number, None)
                self._cond.notify_all()

    def _on_message(self, record: SocketConnection, message: str | bytes) -> None:
        arrived = time.monotonic()
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        with self._cond:
            sent = self._sent.get(envelope_id) if isinstance(envelope_id, str) else None
            if sent is None or not isinstance(envelope_id, str) or envelope_id in self.acks:
                self.unexpected.append(text[:2000])
            else:
                payload = data.get("payload") if isinstance(data, dict) else None
                self.acks[envelope_id] = SocketAck(
                    envelope_id,
                    payload if isinstance(payload, dict) else None,
                    arrived - sent.at,
                    record.number,
                )
            self._cond.notify_all()

    def _current(self) -> _Live:
        # Slack sends to a live connection it has not asked to go away.
        with self._cond:
            live = [c for c in self._live.values() if not c.record.retiring]
        if not live:
            raise RuntimeError("no Socket Mode connection is open: the app is not connected")
        return max(live, key=lambda c: c.record.number)

    def _call(self, coro: Any) -> Any:
        if self._loop is None:
            raise RuntimeError("the Socket Mode stand-in is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_OP_TIMEOUT)

    # -- what tests do -----------------------------------------------------------
    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Push one envelope to the app's current connection; its envelope_id."""
        live = self._current()
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            # Slack lets commands and interactivity answer in the ack; events never.
            "accepts_response_payload": (
                envelope_type != "events_api"
                if accepts_response_payload is None
                else accepts_response_payload
            ),
        }
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or ""
        with self._cond:
            self._sent[envelope_id] = _Sent(envelope, time.monotonic(), live.record.number)
        self._call(live.ws.send(json.dumps(envelope)))
        return envelope_id

    def send_raw(self, text: str) -> None:
        """Push any text frame (malformed envelopes, unknown types) to the app."""
        live = self._current()
        self._call(live.ws.send(text))

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck | None:
        """The app's ack of `envelope_id`, or None if none came within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.acks[envelope_id]

    def wait_connections(self, n: int = 1, timeout: float = 10.0) -> list[SocketConnection]:
        """Block until `n` connections have opened (in all); the list so far."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.connections) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.connections)

    def wait_closed(self, number: int, timeout: float = 10.0) -> bool:
        """Whether connection `number` has closed within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.connections if c.number == number]
                if found and not found[0].open:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def open_connections(self) -> list[SocketConnection]:
        with self._cond:
            return [c for c in self.connections if c.open]

    def disconnect(self, reason: str = "refresh_requested", grace: float = 10.0) -> int:
        """Ask the current connection to go (Slack's periodic refresh) and close it once
        the app has opened a new one, or after `grace` seconds; its number."""
        live = self._current()
        live.record.retiring = True
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "stub-applink"},
        }
        self._call(live.ws.send(json.dumps(message)))
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._retire(live, grace), self._loop)
        return live.record.number

    def drop(self, code: int = 1001) -> int:
        """Close the current connection without warning (a network cut, a server
        restart); its number."""
        live = self._current()
        live.record.retiring = True
        self._call(live.ws.close(code=code, reason="stub drop"))
        return live.record.number

    async def _retire(self, live: _Live, grace: float) -> None:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and live.record.open:
            with self._cond:
                replaced = any(
                    c.number > live.record.number and c.open for c in self.connections
                )
            if replaced:
                break
            await asyncio.sleep(0.02)
        if live.record.open:
            await live.ws.close(code=1000, reason="refresh")
