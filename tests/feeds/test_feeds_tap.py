"""The OCPP-J tap between a real `ocpp` charge point and a real `ocpp` central system."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from feeds_peers import (
    TIMEOUT,
    CollectingSink,
    CsmsState,
    boot201,
    csms_calls_charger,
    port_of,
    run_charger16,
    start_csms,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bot.feeds.tap import OcppTap, charger_id_from_path, upstream_url


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(coro_fn(), 60))


async def wait_until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), timeout)


def frames(records: list[Any]) -> list[Any]:
    """The recorded OCPP frames, without the tap's connection events."""
    return [r for r in records if not (isinstance(r.frame, list) and r.frame[:1] == [0])]


def links(records: list[Any]) -> list[Any]:
    """The connection events (events.CONNECTION) the tap recorded."""
    return [r for r in records if isinstance(r.frame, list) and r.frame[:1] == [0]]


def test_paths() -> None:
    assert charger_id_from_path("/ocpp/CP-1") == "CP-1"
    assert charger_id_from_path("/CP%201?x=1") == "CP 1"
    assert charger_id_from_path("/") is None
    assert charger_id_from_path("/" + "x" * 500) is None
    assert upstream_url("ws://h:1/steve/ws/", "/CP-1?a=b") == "ws://h:1/steve/ws/CP-1?a=b"


def test_csms_sees_exactly_what_it_would_see_directly() -> None:
    async def scenario() -> None:
        direct, tapped = CsmsState(), CsmsState()
        csms_a = await start_csms(direct)
        csms_b = await start_csms(tapped)
        sink = CollectingSink()
        # the CSMS's own charger URL without the id: the tap appends the id
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms_b)}/ocpp", sink, linger=0.01)
        await tap.start()
        try:
            await run_charger16(f"ws://127.0.0.1:{port_of(csms_a)}/ocpp/CP-1", "CP-1")
            rec = await run_charger16(f"ws://127.0.0.1:{tap.port}/ocpp/CP-1", "CP-1")
            # A CSMS-initiated call through the tap, on a second connection.
            async def with_call(url: str, state: CsmsState) -> None:
                from feeds_peers import Charger16, Recorder

                async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                    cp = Charger16("CP-2", Recorder(ws))
                    task = asyncio.create_task(cp.start())
                    await wait_until(lambda: "CP-2" in state.points)
                    await csms_calls_charger(state, "CP-2", "c-1")
                    task.cancel()

            await with_call(f"ws://127.0.0.1:{port_of(csms_a)}/ocpp/CP-2", direct)
            await with_call(f"ws://127.0.0.1:{tap.port}/ocpp/CP-2", tapped)
            await wait_until(lambda: len(frames(sink.records)) == 8
                             and len(links(sink.records)) == 4)
        finally:
            await tap.stop()
            csms_a.close()
            csms_b.close()

        for cp in ("CP-1", "CP-2"):
            assert tapped.frames_got(cp) == direct.frames_got(cp)
            assert tapped.frames_sent(cp) == direct.frames_sent(cp)
        assert tapped.paths == direct.paths == ["/ocpp/CP-1", "/ocpp/CP-2"]
        assert tapped.subprotocols == ["ocpp1.6", "ocpp1.6"]
        assert rec.sent == tapped.frames_got("CP-1")
        # Every forwarded frame was recorded verbatim, with its direction and version.
        by_cp = {cp: [r for r in frames(sink.records) if r.charger == cp]
                 for cp in ("CP-1", "CP-2")}
        assert [r.raw for r in by_cp["CP-1"] if r.direction == "in"] == tapped.frames_got("CP-1")
        assert [r.raw for r in by_cp["CP-1"] if r.direction == "out"] == tapped.frames_sent("CP-1")
        assert [r.raw for r in by_cp["CP-2"] if r.direction == "out"] == tapped.frames_sent("CP-2")
        assert all(r.ocpp == "1.6" and r.source == "tap" for r in sink.records)
        assert by_cp["CP-1"][2].frame == json.loads(tapped.frames_got("CP-1")[1])
        assert tap.health.dropped == 0
        # each connection: "connected" when it opened, "closed" with the charger's code
        for cp in ("CP-1", "CP-2"):
            events = [r.frame for r in links(sink.records) if r.charger == cp]
            assert [e[2] for e in events] == ["connected", "closed"]
            assert events[0][3] == {} and set(events[1][3]) <= {"closeCode"}

    run(scenario)


def test_ocpp201_subprotocol_and_basic_auth_pass_through() -> None:
    async def scenario() -> None:
        state = CsmsState(require_auth="Basic Q1AtOTpzZWNyZXQ=")  # CP-9:secret
        csms = await start_csms(state)
        sink = CollectingSink()
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", sink, linger=0.01)
        await tap.start()
        try:
            with pytest.raises(InvalidStatus) as refused:
                await boot201(f"ws://127.0.0.1:{tap.port}/CP-9", "CP-9")
            assert refused.value.response.status_code == 401  # the CSMS's answer, mirrored
            rec, sub = await boot201(f"ws://CP-9:secret@127.0.0.1:{tap.port}/CP-9", "CP-9")
            await wait_until(lambda: len(frames(sink.records)) == 4
                             and len(links(sink.records)) == 2)  # the 401 never connected
        finally:
            await tap.stop()
            csms.close()
        assert sub == "ocpp2.0.1"
        assert state.auth == ["Basic Q1AtOTpzZWNyZXQ="]
        assert state.frames_got("CP-9") == rec.sent
        assert {r.ocpp for r in sink.records} == {"2.0.1"}

    run(scenario)


def test_upstream_goes_away_and_comes_back() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        port = port_of(csms)
        sink = CollectingSink()
        tap = OcppTap(f"ws://127.0.0.1:{port}", sink, linger=0.01, open_timeout=2)
        await tap.start()
        url = f"ws://127.0.0.1:{tap.port}/ocpp/CP-3"
        try:
            async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                await wait_until(lambda: "CP-3" in state.points)
                csms.close()  # CSMS restarts: it closes its connections with 1001
                await asyncio.wait_for(csms.wait_closed(), TIMEOUT)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
                assert ws.close_code == 1001  # the CSMS's code, propagated
            with pytest.raises(InvalidStatus) as down:  # while it is down
                await boot201(url, "CP-3")
            assert down.value.response.status_code == 502
            csms = await start_csms(state, port=port)
            await run_charger16(url, "CP-3", prefix="again")  # the charger reconnects
        finally:
            await tap.stop()
            csms.close()
        assert state.frames_got("CP-3")[-3:] == [
            m for m in state.recorders["CP-3"][-1].got
        ]
        assert len([r for r in frames(sink.records) if r.charger == "CP-3"]) == 6
        events = [r.frame[2] for r in links(sink.records) if r.charger == "CP-3"]
        assert events[:2] == ["connected", "closed"]  # the 502 attempt never connected
        assert events.count("connected") == 2

    run(scenario)


def test_charger_close_code_reaches_the_csms() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", CollectingSink(), linger=0.01)
        await tap.start()
        try:
            async with connect(
                f"ws://127.0.0.1:{tap.port}/ocpp/CP-4", subprotocols=["ocpp1.6"]  # type: ignore[list-item]
            ) as ws:
                await wait_until(lambda: "CP-4" in state.points)
                await ws.close(4001, "rebooting")
            rec = state.recorders["CP-4"][0]
            await wait_until(lambda: rec.ws.close_code is not None)
            assert (rec.ws.close_code, rec.ws.close_reason) == (4001, "rebooting")
        finally:
            await tap.stop()
            csms.close()

    run(scenario)


def test_forwarding_goes_on_while_the_store_is_down_then_catches_up() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        sink = CollectingSink()
        sink.down = True
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", sink, linger=0.01)
        await tap.start()
        try:
            await run_charger16(f"ws://127.0.0.1:{tap.port}/ocpp/CP-5", "CP-5")
            await wait_until(lambda: tap.health.sink_failures >= 1)
            assert len(state.frames_got("CP-5")) == 3  # the CSMS got everything meanwhile
            sink.down = False  # the database is back: the held frames are stored
            await wait_until(lambda: len(frames(sink.records)) == 6
                             and len(links(sink.records)) == 2)
        finally:
            await tap.stop()
            csms.close()
        assert tap.health.dropped == 0
        assert tap.health.stored == 8  # 6 frames, the connection opened and closed

    run(scenario)


def test_full_recording_queue_drops_copies_never_frames() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        sink = CollectingSink()
        sink.gate.clear()  # the store stalls
        tap = OcppTap(
            f"ws://127.0.0.1:{port_of(csms)}", sink, linger=0.0, batch_size=1, queue_size=2
        )
        await tap.start()
        try:
            for i in range(3):
                await run_charger16(f"ws://127.0.0.1:{tap.port}/ocpp/CP-6", "CP-6", prefix=f"{i}")
            assert len(state.frames_got("CP-6")) == 9  # forwarding never waited
            assert tap.health.dropped > 0
            sink.gate.set()
            # 18 frames and 6 connection events, each stored or counted as dropped
            await wait_until(lambda: len(sink.records) + tap.health.dropped == 24)
        finally:
            await tap.stop()
            csms.close()

    run(scenario)


@pytest.mark.parametrize(
    ("upstream_path", "tap_path", "csms_sees"),
    [
        ("/ocpp", "/ocpp/CP-7", "/ocpp/CP-7"),  # the README's own example (was /ocpp/ocpp/CP-7)
        ("/ocpp/", "/ocpp/CP-7", "/ocpp/CP-7"),  # trailing slash
        ("", "/ocpp/CP-7", "/CP-7"),  # no path on the upstream URL
        ("/steve/websocket/CentralSystem", "/CP-7", "/steve/websocket/CentralSystem/CP-7"),
    ],
)
def test_charger_id_is_appended_to_the_upstream_url(
    upstream_path: str, tap_path: str, csms_sees: str
) -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}{upstream_path}", CollectingSink(),
                      linger=0.01)
        await tap.start()
        try:
            await run_charger16(f"ws://127.0.0.1:{tap.port}{tap_path}", "CP-7")
        finally:
            await tap.stop()
            csms.close()
        assert state.paths == [csms_sees]
        assert len(state.frames_got("CP-7")) == 3

    run(scenario)
    assert upstream_url("ws://h/ocpp", "/ocpp/CP-1?token=a") == "ws://h/ocpp/CP-1?token=a"
    assert upstream_url("ws://h/ocpp?site=9", "/CP-1") == "ws://h/ocpp/CP-1?site=9"


def test_stopping_with_the_store_gone_says_how_many_copies_were_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> OcppTap:
        state = CsmsState()
        csms = await start_csms(state)
        sink = CollectingSink()
        sink.down = True  # the database is gone and stays gone
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", sink, linger=0.01)
        await tap.start()
        try:
            await run_charger16(f"ws://127.0.0.1:{tap.port}/ocpp/CP-8", "CP-8")
            await wait_until(lambda: tap.health.sink_failures >= 1)
            assert len(state.frames_got("CP-8")) == 3  # forwarding was never affected
        finally:
            await tap.stop(flush_timeout=0.3)
            csms.close()
        return tap

    with caplog.at_level("WARNING", logger="bot.feeds.tap"):
        tap = run(scenario)
    assert tap.health.dropped == 8 and tap.health.stored == 0  # 6 frames, 2 connection events
    said = [r.getMessage() for r in caplog.records if "tap stopped" in r.getMessage()]
    assert said and "8 recorded copies could not be stored" in said[0]
