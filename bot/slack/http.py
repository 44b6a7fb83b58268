"""HTTP mode: POST /slack/events on an aiohttp server, dispatched to the sync bolt App.

bolt verifies the signature (HMAC over `v0:{timestamp}:{raw body}`, 5-minute window)
and answers 401 when it is wrong. The sync App runs in a thread pool so the event
loop (feeds, webhook) never blocks on it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial

from aiohttp import web
from slack_bolt import App, BoltRequest, BoltResponse

SLACK_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack payloads are small; refuse anything absurd


def to_bolt_request(body: str, query: str, headers: dict[str, str]) -> BoltRequest:
    return BoltRequest(
        body=body,
        query=query,
        headers={k.lower(): [v] for k, v in headers.items()},
    )


def to_aiohttp_response(resp: BoltResponse) -> web.Response:
    headers = {
        k: v
        for k, v in resp.first_headers_without_set_cookie().items()
        if k.lower() != "content-length"
    }
    response = web.Response(status=resp.status, body=resp.body.encode("utf-8"), headers=headers)
    for cookie in resp.cookies():
        for name, morsel in cookie.items():
            response.set_cookie(name, morsel.value)
    return response


def add_slack_routes(
    web_app: web.Application,
    app: App,
    *,
    path: str = SLACK_PATH,
    executor: Executor | None = None,
) -> None:
    """Mount the Slack endpoint (events, commands, interactivity) on `web_app`."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="payload too large")
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return web.Response(status=413, text="payload too large")
        bolt_request = to_bolt_request(
            raw.decode("utf-8", "replace"), request.query_string, dict(request.headers)
        )
        loop = asyncio.get_running_loop()
        resp = await loop.run_in_executor(executor, partial(app.dispatch, bolt_request))
        return to_aiohttp_response(resp)

    web_app.router.add_post(path, handle)


@contextmanager
def serve_in_thread(app: App, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the Slack route from a background thread (demo, tests); yields its URL."""
    loop = asyncio.new_event_loop()
    web_app = web.Application()
    add_slack_routes(web_app, app)
    runner = web.AppRunner(web_app)
    ready = threading.Event()
    bound: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server  # aiohttp keeps the listening socket here
        bound.append(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]  # started above
        ready.set()

    def run() -> None:
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="faultbot-slack-http")
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the Slack HTTP route did not start")
    try:
        yield f"http://{host}:{bound[0]}{SLACK_PATH}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
