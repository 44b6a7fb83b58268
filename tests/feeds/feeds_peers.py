"""Real OCPP peers for feed tests: a central system and charge points built on the
`ocpp` package over `websockets`, with every raw frame each side sent and received."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v16.enums import AvailabilityStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocpp.v201.enums import RegistrationStatusEnumType
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from bot.feeds.sink import SinkResult
from bot.ocpp.events import Record

TIMEOUT = 10.0


class Recorder:
    """Wraps a websockets connection: what the OCPP peer sends and receives, verbatim."""

    def __init__(self, ws: ServerConnection | ClientConnection) -> None:
        self.ws = ws
        self.sent: list[str] = []
        self.got: list[str] = []

    async def recv(self) -> str:
        msg = await self.ws.recv()
        assert isinstance(msg, str)
        self.got.append(msg)
        return msg

    async def send(self, msg: str) -> None:
        self.sent.append(msg)
        await self.ws.send(msg)


class Csms16(CP16):
    @on(Action16.boot_notification)
    def on_boot(self, **_: Any) -> result16.BootNotification:
        return result16.BootNotification(
            current_time="2026-11-20T08:00:00Z", interval=60, status=RegistrationStatus.accepted
        )

    @on(Action16.status_notification)
    def on_status(self, **_: Any) -> result16.StatusNotification:
        return result16.StatusNotification()

    @on(Action16.heartbeat)
    def on_heartbeat(self) -> result16.Heartbeat:
        return result16.Heartbeat(current_time="2026-11-20T08:00:01Z")


class Csms201(CP201):
    @on(Action201.boot_notification)
    def on_boot(self, **_: Any) -> result201.BootNotification:
        return result201.BootNotification(
            current_time="2026-11-20T08:00:00Z",
            interval=60,
            status=RegistrationStatusEnumType.accepted,
        )

    @on(Action201.status_notification)
    def on_status(self, **_: Any) -> result201.StatusNotification:
        return result201.StatusNotification()


class Charger16(CP16):
    @on(Action16.change_availability)
    def on_change_availability(self, **_: Any) -> result16.ChangeAvailability:
        return result16.ChangeAvailability(status=AvailabilityStatus.accepted)


@dataclass
class CsmsState:
    recorders: dict[str, list[Recorder]] = field(default_factory=dict)
    subprotocols: list[str | None] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    points: dict[str, CP16 | CP201] = field(default_factory=dict)
    require_auth: str | None = None

    def frames_got(self, cp: str) -> list[str]:
        return [m for r in self.recorders.get(cp, []) for m in r.got]

    def frames_sent(self, cp: str) -> list[str]:
        return [m for r in self.recorders.get(cp, []) for m in r.sent]


async def start_csms(
    state: CsmsState, port: int = 0, subprotocols: tuple[str, ...] = ("ocpp1.6", "ocpp2.0.1")
) -> Server:
    async def handler(ws: ServerConnection) -> None:
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        state.subprotocols.append(ws.subprotocol)
        state.paths.append(ws.request.path)
        state.auth.append(ws.request.headers.get("Authorization"))
        rec = Recorder(ws)
        state.recorders.setdefault(cp_id, []).append(rec)
        cls = Csms201 if ws.subprotocol == "ocpp2.0.1" else Csms16
        cp = cls(cp_id, rec)
        state.points[cp_id] = cp
        with contextlib.suppress(Exception):
            await cp.start()

    def check(conn: ServerConnection, request: Request) -> Response | None:
        if state.require_auth and request.headers.get("Authorization") != state.require_auth:
            return conn.respond(401, "who are you?\n")
        return None

    return await serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[*subprotocols],  # type: ignore[list-item]
        process_request=check,
    )


def port_of(server: Server) -> int:
    return int(server.sockets[0].getsockname()[1])


async def run_charger16(
    url: str, cp_id: str, *, prefix: str = "m", subprotocols: tuple[str, ...] = ("ocpp1.6",)
) -> Recorder:
    """Boot, a Faulted StatusNotification, a Heartbeat, with fixed message ids."""
    async with connect(url, subprotocols=[*subprotocols], open_timeout=TIMEOUT) as ws:  # type: ignore[list-item]
        rec = Recorder(ws)
        cp = Charger16(cp_id, rec)
        task = asyncio.create_task(cp.start())
        try:
            await asyncio.wait_for(
                cp.call(
                    call16.BootNotification(charge_point_model="AC22", charge_point_vendor="Acme"),
                    unique_id=f"{prefix}-1",
                ),
                TIMEOUT,
            )
            await asyncio.wait_for(
                cp.call(
                    call16.StatusNotification(
                        connector_id=1,
                        error_code="OtherError",
                        status="Faulted",
                        vendor_id="Acme",
                        vendor_error_code="F400",
                        info="EMERGENCY_STOP_BUTTON_1",
                        timestamp="2026-11-20T07:59:58Z",
                    ),
                    unique_id=f"{prefix}-2",
                ),
                TIMEOUT,
            )
            await asyncio.wait_for(cp.call(call16.Heartbeat(), unique_id=f"{prefix}-3"), TIMEOUT)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return rec


async def csms_calls_charger(state: CsmsState, cp_id: str, unique_id: str) -> None:
    cp = state.points[cp_id]
    assert isinstance(cp, CP16)
    await asyncio.wait_for(
        cp.call(call16.ChangeAvailability(connector_id=1, type="Inoperative"), unique_id=unique_id),
        TIMEOUT,
    )


async def boot201(url: str, cp_id: str) -> tuple[Recorder, str | None]:
    async with connect(url, subprotocols=["ocpp2.0.1"], open_timeout=TIMEOUT) as ws:  # type: ignore[list-item]
        rec = Recorder(ws)
        cp = CP201(cp_id, rec)
        task = asyncio.create_task(cp.start())
        try:
            await asyncio.wait_for(
                cp.call(
                    call201.BootNotification(
                        charging_station={"model": "DC150", "vendor_name": "Acme"},
                        reason="PowerUp",
                    ),
                    unique_id="b-1",
                ),
                TIMEOUT,
            )
            await asyncio.wait_for(
                cp.call(
                    call201.StatusNotification(
                        timestamp=datetime(2026, 11, 20, 8, tzinfo=UTC).isoformat(),
                        connector_status="Faulted",
                        evse_id=1,
                        connector_id=1,
                    ),
                    unique_id="b-2",
                ),
                TIMEOUT,
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        return rec, ws.subprotocol


class CollectingSink:
    """A sink that keeps Records in memory and can be made to fail or stall (tests of
    the feeds' behaviour when the store is down or slow, not of the store)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.down = False
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def __call__(self, records: list[Record]) -> SinkResult:
        self.calls += 1
        if not self.gate.wait(TIMEOUT):
            raise TimeoutError("test gate never opened")
        if self.down:
            raise ConnectionError("database is down")
        self.records.extend(records)
        return SinkResult(stored=len(records))


def frames(records: list[Any]) -> list[Any]:
    """The recorded OCPP frames, without the tap's connection events."""
    return [r for r in records if not (isinstance(r.frame, list) and r.frame[:1] == [0])]


def links(records: list[Any]) -> list[Any]:
    """The connection events (events.CONNECTION) the tap recorded."""
    return [r for r in records if isinstance(r.frame, list) and r.frame[:1] == [0]]
