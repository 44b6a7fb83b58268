"""`faultbot slack report-now` goes through the outbox like `digest-now`: the message is
a keyed row (a second run for the same report time posts nothing; a lost answer is
looked up, never posted twice; an outage leaves it queued for `faultbot slack deliver`),
and the charts a second row that waits for the message and goes into its thread. All
against the local Slack Web API stand-in."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet import DEFAULT_START
from bot.sample.fleet_connection import ConnectionPlan, generate_connection_fleet
from bot.slack.models import SlackOutbox, SlackReportPost
from bot.slack.outbox import BACKOFF_CAP
from bot.slack.stub import RESET, Scripted, SlackStub

END = DEFAULT_START + timedelta(hours=24)
KEY = END.isoformat()


@pytest.fixture
def fleet(db_engine: Engine) -> None:
    Pipeline(db_engine).process(read_lines(
        generate_connection_fleet(10, 24.0, 2, plan=ConnectionPlan()), source="t"))


def _cli(db_url: str, stub: SlackStub, *args: str, token: str = "xoxb-test") -> Result:
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": token, "SLACK_API_URL": stub.base_url,
           "FAULTBOT_DIGEST_CHANNEL": "CREPORT", "FAULTBOT_SITES": None}
    return CliRunner().invoke(cli, ["slack", *args], env=env)


def _report_now(db_url: str, stub: SlackStub, token: str = "xoxb-test") -> Result:
    return _cli(db_url, stub, "report-now", "--now", KEY, token=token)


def _rows(engine: Engine) -> dict[str, SlackOutbox]:
    with Session(engine) as s:
        return {r.ref or "": r for r in s.scalars(select(SlackOutbox))}


def _reports(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(r.channel, r.ts) for r in s.scalars(select(SlackReportPost))]


def _charts_thread(stub: SlackStub) -> set[tuple[str | None, str | None]]:
    return {(f.channel, f.thread_ts) for f in stub.files.values()}


def test_report_now_is_an_outbox_row_and_a_second_run_posts_nothing(
        db_url: str, db_engine: Engine, stub: SlackStub, fleet: None) -> None:
    out = _report_now(db_url, stub)
    assert out.exit_code == 0, out.output
    assert "2 chart(s) in the thread" in out.output
    (post,) = stub.ok_calls("chat.postMessage")
    ts = post.response["ts"]
    assert post.params["metadata"]["event_type"] == "faultbot_report"
    assert post.params["metadata"]["event_payload"]["key"] == f"report:CREPORT:{KEY}"
    rows = _rows(db_engine)
    assert {ref: (r.status, r.method) for ref, r in rows.items()} == {
        "report": ("sent", "chat.postMessage"), "charts": ("sent", "files.uploadV2")}
    assert rows["report"].result_ts == ts
    assert _reports(db_engine) == [("CREPORT", ts)]  # the digest links to it
    assert _charts_thread(stub) == {("CREPORT", ts)} and len(stub.files) == 2

    again = _report_now(db_url, stub)
    assert again.exit_code == 0, again.output
    assert "already queued to CREPORT; not posting twice" in again.output
    assert len(stub.calls_to("chat.postMessage")) == 1 and len(stub.files) == 2


@pytest.mark.parametrize("lost", [500, RESET])
def test_a_lost_answer_is_looked_up_not_posted_twice(
        db_url: str, db_engine: Engine, stub: SlackStub, fleet: None, lost: int) -> None:
    stub.lose_replies("chat.postMessage", lost)  # it lands; the answer does not come back
    out = _report_now(db_url, stub)
    assert out.exit_code == 0, out.output
    assert "queued to CREPORT but not delivered yet" in out.output
    assert not stub.files and _reports(db_engine) == []  # the charts wait for the message
    time.sleep(BACKOFF_CAP)  # the row's backoff
    done = _cli(db_url, stub, "deliver")
    assert done.exit_code == 0, done.output
    landed = [m for m in stub.messages.values() if m.channel == "CREPORT"]
    assert len(landed) == 1  # adopted from the channel's history, not posted again
    assert stub.calls_to("conversations.history")
    rows = _rows(db_engine)
    assert {r.status for r in rows.values()} == {"sent"}
    assert rows["report"].result_ts == landed[0].ts
    assert _reports(db_engine) == [("CREPORT", landed[0].ts)]
    assert _charts_thread(stub) == {("CREPORT", landed[0].ts)} and len(stub.files) == 2


def test_an_outage_leaves_the_report_queued_and_deliver_sends_it_with_its_charts(
        db_url: str, db_engine: Engine, stub: SlackStub, fleet: None) -> None:
    stub.script("chat.postMessage", Scripted(status=503))
    out = _report_now(db_url, stub)
    assert out.exit_code == 0, out.output
    assert "not delivered yet (internal_error)" in out.output
    assert _rows(db_engine)["report"].status == "pending"
    time.sleep(BACKOFF_CAP)
    done = _cli(db_url, stub, "deliver")
    assert "2 delivered, 0 still pending" in done.output
    (post,) = stub.ok_calls("chat.postMessage")
    assert _charts_thread(stub) == {("CREPORT", post.response["ts"])}


def test_charts_without_files_write_fail_alone(
        db_url: str, db_engine: Engine, stub: SlackStub, fleet: None) -> None:
    stub.grant("xoxb-nofiles", "chat:write", "chat:write.public")
    out = _report_now(db_url, stub, token="xoxb-nofiles")
    assert out.exit_code == 0, out.output
    assert "0 chart(s) in the thread" in out.output
    assert "The charts were not uploaded: missing_scope" in out.output
    rows = _rows(db_engine)
    assert (rows["report"].status, rows["charts"].status) == ("sent", "failed")
    # a scope the charts lack does not stop posting: the next post goes out at once
    later = _cli(db_url, stub, "report-now", "--now", (END - timedelta(hours=1)).isoformat(),
                 token="xoxb-nofiles")
    assert "Weekly report posted to CREPORT" in later.output
    assert len(stub.ok_calls("chat.postMessage")) == 2
