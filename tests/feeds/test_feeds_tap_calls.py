"""faultbot's own calls through the OCPP-J tap: a real `ocpp` charge point gets the
CALL, answers it, and the answer reaches faultbot only, never the real `ocpp` CSMS."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from feeds_peers import TIMEOUT, CollectingSink, CsmsState, Recorder, port_of, start_csms
from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action, ResetStatus
from websockets.asyncio.client import connect

from bot.feeds.tap import OWN_SOURCE, NotConnected, OcppTap


class Resettable(CP16):
    resets: list[str]

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> result16.Reset:  # OCPP's name
        self.resets.append(type)
        return result16.Reset(status=ResetStatus.accepted)


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(coro_fn(), 60))


async def until(cond: Callable[[], bool]) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), TIMEOUT)


def test_faultbot_call_reaches_the_charger_and_its_answer_stays_with_faultbot() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        sink = CollectingSink()
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}/ocpp", sink, linger=0.01)
        await tap.start()
        try:
            with pytest.raises(NotConnected):
                await tap.call("CP-R", "Reset", {"type": "Soft"})
            async with connect(
                f"ws://127.0.0.1:{tap.port}/ocpp/CP-R", subprotocols=["ocpp1.6"]  # type: ignore[list-item]
            ) as ws:
                rec = Recorder(ws)
                cp = Resettable("CP-R", rec)
                cp.resets = []
                task = asyncio.create_task(cp.start())
                await cp.call(call16.Heartbeat(), unique_id="h-1")
                assert tap.is_connected("CP-R") and tap.ocpp_version("CP-R") == "1.6"
                answer = await tap.call("CP-R", "Reset", {"type": "Soft"}, timeout=TIMEOUT)
                await cp.call(call16.Heartbeat(), unique_id="h-2")  # the link still works
                await until(lambda: len(sink.records) == 6)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await tap.stop()
            csms.close()
        assert cp.resets == ["Soft"]
        assert answer[0] == 3 and answer[1].startswith("faultbot-")
        assert answer[2] == {"status": "Accepted"}
        # The CSMS saw only the charger's own calls, and sent only its own answers.
        got = [json.loads(m) for m in state.frames_got("CP-R")]
        assert [f[1] for f in got] == ["h-1", "h-2"]
        assert not any("faultbot-" in m for m in state.frames_sent("CP-R"))
        own = [r for r in sink.records if r.source == OWN_SOURCE]
        assert [(r.direction, r.frame[0]) for r in own] == [("out", 2), ("in", 3)]
        assert own[0].frame[1] == own[1].frame[1] == answer[1]
        assert own[0].frame[2:] == ["Reset", {"type": "Soft"}]
        assert {r.source for r in sink.records if r not in own} == {"tap"}

    run(scenario)


def test_a_call_the_charger_never_answers_times_out_and_forwarding_goes_on() -> None:
    async def scenario() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        tap = OcppTap(f"ws://127.0.0.1:{port_of(csms)}", CollectingSink(), linger=0.01)
        await tap.start()
        try:
            async with connect(
                f"ws://127.0.0.1:{tap.port}/CP-S", subprotocols=["ocpp1.6"]  # type: ignore[list-item]
            ) as ws:
                await until(lambda: tap.is_connected("CP-S"))
                with pytest.raises(TimeoutError):  # a charger that reads but never answers
                    await tap.call("CP-S", "Reset", {"type": "Soft"}, timeout=0.3)
                await ws.send(json.dumps([2, "x-1", "Heartbeat", {}]))
                await until(lambda: len(state.frames_got("CP-S")) == 1)
            await until(lambda: not tap.is_connected("CP-S"))
        finally:
            await tap.stop()
            csms.close()

    run(scenario)
