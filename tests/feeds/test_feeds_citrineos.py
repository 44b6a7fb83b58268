"""CitrineOS on the broker and the webhook: OcppError responses become CALLERRORs (both
key styles) and a reply posted before its call is still named. The bodies are in
tests/feeds/fixtures/citrineos/ (see the README there for where each shape comes from)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from feeds_amqp import delete, publish_citrine, require_rabbitmq
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.feeds.broker import BrokerFeed
from bot.feeds.health import HealthState
from bot.feeds.sink import store_sink
from bot.feeds.webhook import add_webhook_routes
from bot.store.models import MessageRow

FIXTURES = Path(__file__).parent / "fixtures" / "citrineos"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _rows(engine: Engine, charger: str) -> list[MessageRow]:
    with Session(engine) as session:
        return list(session.scalars(
            select(MessageRow).where(MessageRow.charger_id == charger).order_by(MessageRow.id)))


def _log(db_url: str, charger: str) -> str:
    result = CliRunner().invoke(cli, ["log", charger, "--database-url", db_url], env={})
    assert result.exit_code == 0, result.output
    return result.output


async def _until(cond: Callable[[], bool], timeout: float = 15) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def test_broker_ocpp_errors_in_both_key_styles_are_callerrors(
    db_url: str, db_engine: Engine
) -> None:
    url = require_rabbitmq()
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"citrineos-test-{tag}", f"faultbot.test-{tag}"
    messages = [(json.dumps(m["body"]).encode(), m["headers"])
                for m in _fixture("broker_ocpp_error.json")]
    sink = store_sink(db_engine)

    async def main() -> None:
        feed = BrokerFeed(url, sink, mode="citrineos", queue=queue, exchange=exchange,
                          linger=0.01)
        await feed.start()
        try:
            await publish_citrine(url, exchange, messages)
            await _until(lambda: feed.health.stored == 3)
            assert feed.health.dead_lettered == 0
        finally:
            await feed.stop()
            await delete(url, queues=[queue, queue + ".dead"], exchanges=[exchange])

    asyncio.run(asyncio.wait_for(main(), 60))
    rows = _rows(db_engine, "CIT-1")
    assert [(r.unique_id, r.message_type, r.action, r.direction) for r in rows] == [
        ("e-1", 2, "DataTransfer", "in"),
        ("e-1", 4, "DataTransfer", "out"),  # underscore style, answering the call above
        ("e-2", 4, "Authorize", "out"),  # plain style, call never seen: the header names it
    ]
    assert json.loads(rows[1].raw) == [4, "e-1", "NotSupported", "DataTransfer is not supported",
                                       {"module": "configuration"}]
    assert json.loads(rows[2].raw)[2:] == ["InternalError", "Authorization service unavailable",
                                           {}]
    shown = _log(db_url, "CIT-1")
    assert "DataTransfer ERROR  NotSupported: DataTransfer is not supported" in shown
    assert "Authorize ERROR  InternalError: Authorization service unavailable" in shown


def test_webhook_names_an_early_reply_and_maps_ocpp_errors(
    db_url: str, db_engine: Engine
) -> None:
    bodies = _fixture("webhook_early_reply.json")
    answers: list[dict[str, Any]] = []

    async def main() -> None:
        app = web.Application()
        add_webhook_routes(app, store_sink(db_engine), "", path_token="tok-9",
                           health=HealthState().feed("webhook"))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for body in bodies:  # one POST each, the reply first, as CitrineOS may send them
                resp = await client.post("/feed/ocpp/tok-9", json=body)
                assert resp.status == 200, await resp.text()
                answers.append(await resp.json())

    asyncio.run(asyncio.wait_for(main(), 60))
    assert sum(a["stored"] for a in answers) == 4
    rows = _rows(db_engine, "CIT-2")
    assert [(r.unique_id, r.message_type, r.action, r.direction) for r in rows] == [
        ("b-1", 3, "BootNotification", "out"),  # stored before its call, named by info.action
        ("b-1", 2, "BootNotification", "in"),
        ("d-1", 4, "DataTransfer", "out"),
        ("d-2", 4, "DataTransfer", "out"),  # an OcppError payload in a reply frame
    ]
    assert json.loads(rows[3].raw) == [4, "d-2", "GenericError", "Try later", {"hint": "retry"}]
    shown = _log(db_url, "CIT-2")
    assert "BootNotification reply" in shown
    assert "? reply" not in shown
    assert "DataTransfer ERROR  GenericError: Try later" in shown


@pytest.mark.parametrize("style", ["underscore", "plain"])
def test_ocpp_error_detection_needs_an_error_shape(style: str) -> None:
    from bot.ocpp.logformats.citrineos import error_frame, is_ocpp_error

    key = "_errorCode" if style == "underscore" else "errorCode"
    error = {key: "FormationViolation", "message": "bad", "errorDetails": {"at": "x"}}
    assert is_ocpp_error(error)
    assert error_frame("7", error) == [4, "7", "FormationViolation", "bad", {"at": "x"}]
    # An ordinary reply, or a lone `errorCode` member, stays a reply.
    assert not is_ocpp_error({"status": "Accepted"})
    assert not is_ocpp_error({"errorCode": "NoError"})
