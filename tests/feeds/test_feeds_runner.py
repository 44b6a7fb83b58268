"""run_feeds: the configured feeds in one loop, /health, and a clean stop."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiohttp import ClientSession
from feeds_peers import CsmsState, port_of, run_charger16, start_csms
from sqlalchemy import Engine, func, select

from bot.config import SettingsError, load_settings
from bot.feeds.options import FeedOptions, load_feed_options
from bot.feeds.runner import run_feeds
from bot.feeds.sink import store_sink
from bot.feeds.webhook import signed_headers
from bot.store.models import MessageRow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_options_are_validated() -> None:
    assert load_feed_options({}).amqp_partition == (0, 1)
    assert load_feed_options({"FAULTBOT_AMQP_PARTITION": "1/2"}).amqp_partition == (1, 2)
    for env in ({"FAULTBOT_AMQP_PARTITION": "2/2"}, {"FAULTBOT_TAP_PORT": "x"},
                {"FAULTBOT_WEBHOOK_PATH_TOKEN": "short"}, {"FAULTBOT_AMQP_MODE": "kafka"}):
        with pytest.raises(SettingsError) as err:
            load_feed_options(env)
        assert err.value.variable == next(iter(env))


def test_webhook_and_tap_in_one_loop_then_stop(db_engine: Engine) -> None:
    async def main() -> None:
        state = CsmsState()
        csms = await start_csms(state)
        http_port, tap_port = free_port(), free_port()
        settings = load_settings({
            "FAULTBOT_WEBHOOK_SECRET": "k",
            "FAULTBOT_UPSTREAM_CSMS": f"ws://127.0.0.1:{port_of(csms)}",
            "FAULTBOT_HTTP_HOST": "127.0.0.1", "FAULTBOT_HTTP_PORT": str(http_port),
        }, dotenv=False)
        options = FeedOptions(tap_host="127.0.0.1", tap_port=tap_port)
        stop = asyncio.Event()
        task = asyncio.create_task(run_feeds(settings, store_sink(db_engine), web_app=None,
                                             stop_event=stop, options=options))
        try:
            async with ClientSession() as client:
                async def health() -> tuple[int, dict[str, object]]:
                    async with client.get(f"http://127.0.0.1:{http_port}/health") as r:
                        return r.status, await r.json()

                async def up() -> None:
                    while True:
                        try:
                            _status, body = await health()
                            if "tap" in body["feeds"]:  # type: ignore[operator]
                                return
                        except OSError:
                            pass
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(up(), 10)
                await run_charger16(f"ws://127.0.0.1:{tap_port}/ocpp/CP-R", "CP-R")
                body = json.dumps({"ts": "2026-11-20T08:00:00Z", "charger": "CP-W", "dir": "in",
                                   "frame": [2, "w1", "Heartbeat", {}]}).encode()
                async with client.post(f"http://127.0.0.1:{http_port}/feed/ocpp", data=body,
                                       headers=signed_headers("k", body)) as r:
                    assert r.status == 200
                status, report = await health()
                assert status == 503  # sample timestamps are days old: lag over threshold
                assert report["feeds"]["webhook"]["stored"] == 1  # type: ignore[index]
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            csms.close()

    asyncio.run(asyncio.wait_for(main(), 60))
    with db_engine.connect() as conn:
        # 6 frames of CP-R and its connection opened and closed (the tap), 1 webhook frame
        assert conn.scalar(select(func.count()).select_from(MessageRow)) == 9
