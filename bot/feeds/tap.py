"""OCPP-J tap: a transparent, fail-open WebSocket proxy that records what it forwards.

A charger connects to ws://HOST:PORT/ocpp/{id} (or /{id}, any path ending in its id);
the tap opens the configured upstream URL with the charger id appended
(FAULTBOT_UPSTREAM_CSMS=wss://csms/ocpp -> wss://csms/ocpp/{id}), offering exactly
the subprotocols the charger offered and passing its Authorization header through
(or the user:password of the upstream URL when the charger sent none), and accepts
the charger with the subprotocol the CSMS chose. If the CSMS refuses (401, 404, ...)
the charger gets the same HTTP status; if it is unreachable, 502. Then every frame is
forwarded unchanged both ways (text stays text, byte for byte) and a copy goes into a
bounded queue that a separate task drains into the sink in batches.

Fail-open: recording never slows forwarding. A full queue drops the copy (counted in
`dropped`); a failing sink keeps its current batch and retries with backoff, so
frames already queued are stored once the database is back, and copies arriving
while the queue is full are dropped and counted. When one side closes, the tap
closes the other with the same close code and reason.

faultbot's own calls (`await tap.call(charger, action, payload)`, remote actions): the
CALL goes on the charger's live connection with a message id of faultbot's own
(`faultbot-...`); the charger's CALLRESULT/CALLERROR for that id is answered to
faultbot and never forwarded (the CSMS never sees a reply to a call it did not make).
Both frames are recorded with source `tap:faultbot`.

Each charger connection is also recorded as connection events (events.CONNECTION:
"connected" when it opens, "closed" with the charger side's close code), so the
connection-health findings see reconnect storms through the tap as they do in logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from bot.feeds.convert import decode_frame
from bot.feeds.health import FeedHealth
from bot.feeds.sink import FrameSink, SinkRunner
from bot.ocpp.events import CONNECTION, Direction, Record

log = logging.getLogger(__name__)

SUBPROTOCOL_VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}
MAX_CHARGER_ID = 200
MAX_FRAME_BYTES = 16 * 1024 * 1024
OWN_SOURCE = "tap:faultbot"  # frames faultbot itself sent or was answered
OWN_PREFIX = "faultbot-"
# Close codes that describe a dropped connection and may not be sent in a close frame.
_UNSENDABLE = {1005: 1000, 1006: 1001, 1015: 1001}


@dataclass(slots=True)
class _Link:
    charger: str
    ocpp: str | None
    upstream: ClientConnection


def charger_id_from_path(path: str) -> str | None:
    """'/ocpp/CP-1?x=1' -> 'CP-1'; '/CP-1' -> 'CP-1'; None when there is no usable id."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        return None
    cp = unquote(segments[-1])
    if len(cp) > MAX_CHARGER_ID or not cp.isprintable():
        return None
    return cp


def upstream_url(base: str, path: str) -> str:
    """The upstream URL for a charger that connected on `path`: its id (the last path
    segment, exactly as sent) appended to the configured CSMS URL, whatever path the
    charger used on the tap. `wss://csms/ocpp` + `/ocpp/CP-1` -> `wss://csms/ocpp/CP-1`;
    `ws://csms:9000` + `/CP-1` -> `ws://csms:9000/CP-1`. The charger's query string is
    kept (else the configured one)."""
    b = urlsplit(base)
    p = urlsplit(path)
    segments = [s for s in p.path.split("/") if s]
    charger = segments[-1] if segments else ""
    return urlunsplit(
        (b.scheme, b.netloc, b.path.rstrip("/") + "/" + charger, p.query or b.query, "")
    )


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _close_args(ws: ServerConnection | ClientConnection) -> tuple[int, str]:
    code = ws.close_code if ws.close_code is not None else 1006
    reason = ws.close_reason or ""
    code = _UNSENDABLE.get(code, code)
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        code = 1000
    return code, reason


class NotConnected(LookupError):
    """The charger has no live connection through this tap."""


def _own_reply_id(msg: str | bytes) -> str | None:
    """The message id of a CALLRESULT/CALLERROR that answers one of faultbot's calls."""
    raw = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
    if OWN_PREFIX not in raw[:80]:  # cheap: most frames are never parsed here
        return None
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if (isinstance(frame, list) and len(frame) >= 2 and frame[0] in (3, 4)
            and isinstance(frame[1], str) and frame[1].startswith(OWN_PREFIX)):
        return frame[1]
    return None


class OcppTap:
    """The tap server plus its recorder. `await start()`, then `await stop()`."""

    def __init__(
        self,
        upstream: str,
        sink: FrameSink | SinkRunner,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        health: FeedHealth | None = None,
        queue_size: int = 20_000,
        batch_size: int = 500,
        linger: float = 0.05,
        open_timeout: float = 10.0,
        ssl: Any = None,
        upstream_ssl: Any = None,
    ) -> None:
        if urlsplit(upstream).scheme not in ("ws", "wss"):
            raise ValueError("upstream CSMS URL must start with ws:// or wss://")
        self.upstream = upstream
        self.runner = sink if isinstance(sink, SinkRunner) else SinkRunner(sink)
        self.host, self._port = host, port
        self.health = health or FeedHealth("tap")
        self.queue: asyncio.Queue[
            tuple[float, str, Direction, str | bytes, str | None, str]
        ] = asyncio.Queue(maxsize=queue_size)
        self.batch_size, self.linger = batch_size, linger
        self.open_timeout = open_timeout
        self.ssl, self.upstream_ssl = ssl, upstream_ssl
        self.connections = 0  # chargers currently connected through the tap
        self.forwarded = 0
        self._pending: dict[int, _Link] = {}
        self._server: Server | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._in_hand = 0  # copies taken off the queue but not yet stored
        self._live: dict[str, tuple[ServerConnection, _Link]] = {}  # charger -> connection
        self._own: dict[str, asyncio.Future[list[Any]]] = {}  # faultbot's calls awaiting
        self._links = itertools.count(1)

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    # --- opening handshake: connect upstream first, then mirror its answer --------

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        charger = charger_id_from_path(request.path)
        if charger is None:
            return conn.respond(404, "Expected /ocpp/<charge point id>\n")
        offered = [
            Subprotocol(p.strip())
            for value in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in value.split(",")
            if p.strip()
        ]
        url = upstream_url(self.upstream, request.path)
        headers = Headers()
        auth = request.headers.get("Authorization")
        if auth is not None:
            headers["Authorization"] = auth
            url = _without_userinfo(url)
        try:
            up = await connect(
                url,
                subprotocols=offered or None,
                additional_headers=headers,
                open_timeout=self.open_timeout,
                max_size=MAX_FRAME_BYTES,
                compression=None,
                ssl=self.upstream_ssl if url.startswith("wss") else None,
                user_agent_header=request.headers.get("User-Agent"),
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            log.info("upstream refused %s: HTTP %s", charger, status, extra={"charger": charger})
            return conn.respond(status, f"Upstream CSMS answered HTTP {status}\n")
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            log.warning("upstream unreachable for %s: %s", charger, exc, extra={"charger": charger})
            return conn.respond(502, "Upstream CSMS unreachable\n")
        version = SUBPROTOCOL_VERSIONS.get(up.subprotocol or "")
        self._pending[id(conn)] = _Link(charger, version, up)
        return None

    def _select_subprotocol(
        self, conn: ServerConnection, offered: Any
    ) -> Subprotocol | None:
        link = self._pending.get(id(conn))
        chosen = link.upstream.subprotocol if link else None
        return chosen if chosen in offered else None

    async def _process_response(
        self, conn: ServerConnection, _request: Request, response: Response
    ) -> None:
        if response.status_code != 101:  # handshake failed after upstream opened
            link = self._pending.pop(id(conn), None)
            if link is not None:
                await link.upstream.close(1001, "charger handshake failed")

    # --- forwarding ---------------------------------------------------------------

    def _record(
        self, charger: str, direction: Direction, msg: str | bytes, ocpp: str | None,
        source: str = "tap",
    ) -> None:
        try:
            self.queue.put_nowait((time.time(), charger, direction, msg, ocpp, source))
        except asyncio.QueueFull:
            self.health.dropped += 1

    def _record_link(self, link: _Link, event: str, code: int | None) -> None:
        """A connection event for the recorder (unique id: the same event never twice)."""
        uid = f"tap-{time.time_ns()}-{next(self._links)}"
        details = {} if code is None else {"closeCode": code}
        self._record(link.charger, "in", json.dumps([CONNECTION, uid, event, details]), link.ocpp)

    async def _pump(
        self,
        src: ServerConnection | ClientConnection,
        dst: ServerConnection | ClientConnection,
        link: _Link,
        direction: Direction,
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                msg = await src.recv()
                if direction == "in" and self._own:
                    own = _own_reply_id(msg)
                    if own is not None and own in self._own:
                        self._answer_own(link, own, msg)
                        continue  # never forwarded: the CSMS made no such call
                await dst.send(msg)
                self.forwarded += 1
                self._record(link.charger, direction, msg, link.ocpp)

    async def _handle(self, charger_ws: ServerConnection) -> None:
        link = self._pending.pop(id(charger_ws), None)
        if link is None:
            await charger_ws.close(1011, "no upstream connection")
            return
        up = link.upstream
        self.connections += 1
        self._live[link.charger] = (charger_ws, link)
        self._record_link(link, "connected", None)
        pumps = [
            asyncio.create_task(self._pump(charger_ws, up, link, "in")),
            asyncio.create_task(self._pump(up, charger_ws, link, "out")),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            # Whichever side went first decides the code the other side sees.
            charger_first = charger_ws.close_code is not None
            first, other = (charger_ws, up) if charger_first else (up, charger_ws)
            code, reason = _close_args(first)
            await other.close(code, reason)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            await up.close()
            self.connections -= 1
            self._record_link(link, "closed", charger_ws.close_code)
            if self._live.get(link.charger, (None,))[0] is charger_ws:
                del self._live[link.charger]

    # --- faultbot's own calls -------------------------------------------------------

    def is_connected(self, charger: str) -> bool:
        return charger in self._live

    def ocpp_version(self, charger: str) -> str | None:
        live = self._live.get(charger)
        return live[1].ocpp if live else None

    async def call(
        self, charger: str, action: str, payload: dict[str, Any], *, timeout: float = 30.0
    ) -> list[Any]:
        """Send a CALL to the charger on its live connection; its CALLRESULT or
        CALLERROR frame (a list), kept from the CSMS. NotConnected / TimeoutError."""
        live = self._live.get(charger)
        if live is None:
            raise NotConnected(charger)
        ws, link = live
        message_id = f"{OWN_PREFIX}{uuid.uuid4().hex}"
        frame = json.dumps([2, message_id, action, payload], separators=(",", ":"))
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._own[message_id] = answer
        try:
            await ws.send(frame)
            self._record(charger, "out", frame, link.ocpp, OWN_SOURCE)
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._own.pop(message_id, None)

    def _answer_own(self, link: _Link, message_id: str, msg: str | bytes) -> None:
        self._record(link.charger, "in", msg, link.ocpp, OWN_SOURCE)
        answer = self._own.get(message_id)
        raw = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
        if answer is not None and not answer.done():
            answer.set_result(json.loads(raw))

    # --- recording ------------------------------------------------------------------

    async def _next_batch(self) -> list[Record]:
        first = await self.queue.get()
        items = [first]
        deadline = time.monotonic() + self.linger
        while len(items) < self.batch_size:
            try:
                items.append(self.queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                items.append(await asyncio.wait_for(self.queue.get(), remaining))
            except TimeoutError:
                break
        return [self._to_record(*item) for item in items]

    @staticmethod
    def _to_record(
        ts: float, charger: str, direction: Direction, msg: str | bytes, ocpp: str | None,
        source: str = "tap",
    ) -> Record:
        raw = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
        return Record(
            ts=datetime.fromtimestamp(ts, UTC),
            charger=charger,
            direction=direction,
            frame=decode_frame(raw),
            ocpp=ocpp,
            raw=raw,
            source=source,
        )

    async def _store(self, batch: list[Record]) -> None:
        delay = 0.2
        while True:
            try:
                result = await self.runner(batch)
            except Exception as exc:  # any sink failure: keep batch, retry
                self.health.sink_failures += 1
                self.health.last_error = f"sink: {type(exc).__name__}: {exc}"[:300]
                log.warning("tap sink failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.health.received += len(batch)
            self.health.note_result(result)
            self.health.note_stored(batch, result.stored, result.duplicates)
            return

    async def _drain(self) -> None:
        while True:
            batch = await self._next_batch()
            self._in_hand = len(batch)
            await self._store(batch)
            self._in_hand = 0

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self._port,
            process_request=self._process_request,
            process_response=self._process_response,
            select_subprotocol=self._select_subprotocol,
            max_size=MAX_FRAME_BYTES,
            compression=None,
            ssl=self.ssl,
        )
        self._drainer = asyncio.create_task(self._drain())
        self.health.live = True

    async def stop(self, flush_timeout: float = 5.0) -> None:
        """Close chargers (1001 going away), store what is queued, count the rest dropped."""
        self.health.live = False
        if self._server is not None:
            self._server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), flush_timeout)
        if self._drainer is not None:
            # Let the drainer finish the batch in hand and empty the queue.
            deadline = time.monotonic() + flush_timeout
            while (not self.queue.empty() or self._in_hand) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(self.linger * 2)
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        lost = self.queue.qsize() + self._in_hand
        self.health.dropped += lost
        self._in_hand = 0
        if self.health.dropped:
            # Forwarding never waited for these; the operator must still hear of them.
            log.warning(
                "tap stopped: %d recorded cop%s could not be stored and %s dropped "
                "(%d at shutdown); the frames were forwarded, only faultbot's record lacks them",
                self.health.dropped, "y" if self.health.dropped == 1 else "ies",
                "was" if self.health.dropped == 1 else "were", lost,
            )
        for link in self._pending.values():
            await link.upstream.close()
        self._pending.clear()

    async def serve_until(self, stop_event: asyncio.Event) -> None:
        await self.start()
        try:
            await stop_event.wait()
        finally:
            await self.stop()
