"""The weekly report in Slack: `faultbot slack report-now` posts it within Block Kit
limits and uploads its charts into the thread through the stand-in's file upload
endpoints (files.getUploadURLExternal, the upload URL, files.completeUploadExternal
with channel_id and thread_ts), which are as strict as Slack's."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.cli.main import cli
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.report.build import build_report
from bot.report.render import report_text
from bot.sample.fleet import DEFAULT_START
from bot.sample.fleet_connection import ConnectionPlan, generate_connection_fleet
from bot.slack.render.budget import check
from bot.slack.stub import SlackStub, StubChannel
from bot.store.db import make_sessionmaker

END = DEFAULT_START + timedelta(hours=24)


@pytest.fixture
def fleet(db_engine: Engine) -> ConnectionPlan:
    plan = ConnectionPlan()
    Pipeline(db_engine).process(read_lines(generate_connection_fleet(10, 24.0, 2, plan=plan),
                                           source="t"))
    return plan


def _env(db_url: str, stub: SlackStub) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": stub.base_url, "FAULTBOT_DIGEST_CHANNEL": "CREPORT"}


def test_report_now_posts_the_report_and_its_charts_in_the_thread(
        db_url: str, db_engine: Engine, stub: SlackStub, fleet: ConnectionPlan) -> None:
    out = CliRunner().invoke(cli, ["slack", "report-now", "--now", END.isoformat()],
                             env=_env(db_url, stub))
    assert out.exit_code == 0, out.output
    assert "2 chart(s) in the thread" in out.output
    (post,) = stub.ok_calls("chat.postMessage")
    assert post.params["channel"] == "CREPORT"
    assert check({"text": post.params["text"], "blocks": post.params["blocks"]}) == []
    ts = post.response["ts"]
    order = [c.method for c in stub.calls if c.method != "auth.test"]
    assert order == ["chat.postMessage", "files.getUploadURLExternal",
                     "files.getUploadURLExternal", "upload_url", "upload_url",
                     "files.completeUploadExternal"]
    (done,) = stub.ok_calls("files.completeUploadExternal")
    assert (done.params["channel_id"], done.params["thread_ts"]) == ("CREPORT", ts)
    assert len(stub.files) == 2
    for f in stub.files.values():
        assert f.data is not None and f.data.startswith(b"\x89PNG") and len(f.data) == f.length
        assert (f.channel, f.thread_ts) == ("CREPORT", ts)
        assert f.alt_txt and "the figures are in" in f.alt_txt
    # the planted connection trouble is in the message, as text
    text = "\n".join(b["text"]["text"] for b in post.params["blocks"] if "text" in b
                     and isinstance(b["text"], dict))
    for charger in fleet.planted:
        assert charger in text
    with make_sessionmaker(db_engine)() as session:
        summary = report_text(build_report(session, END, UTC)).summary
    assert summary in text


def _api(client: WebClient, method: str, **params: Any) -> dict[str, Any]:
    try:
        return dict(client.api_call(method, params=params).data)  # type: ignore[arg-type]
    except SlackApiError as exc:
        return dict(exc.response.data)  # type: ignore[arg-type]


def test_the_stand_in_upload_flow_is_strict(stub: SlackStub, client: WebClient) -> None:
    import urllib.request

    assert _api(client, "files.getUploadURLExternal", filename="a.png")["error"] == (
        "invalid_arguments")
    assert _api(client, "files.getUploadURLExternal", filename="a.png", length=0)["error"] == (
        "missing_argument")
    assert _api(client, "files.getUploadURLExternal", filename="a.png", length=3,
                alt_txt="x" * 1001)["error"] == "alt_txt_too_large"
    got = _api(client, "files.getUploadURLExternal", filename="a.png", length=3)
    fid, url = got["file_id"], got["upload_url"]
    files = f'[{{"id": "{fid}", "title": "A"}}]'
    # not uploaded yet
    assert _api(client, "files.completeUploadExternal", files=files,
                channel_id="C1")["error"] == "file_not_found"
    # the wrong number of bytes
    urllib.request.urlopen(urllib.request.Request(url, data=b"abcd", method="POST"))
    assert _api(client, "files.completeUploadExternal", files=files,
                channel_id="C1")["error"] == "file_not_found"
    with urllib.request.urlopen(urllib.request.Request(url, data=b"abc", method="POST")) as r:
        assert r.status == 200 and r.read() == b"OK - 3"
    # a thread that is not there, or a reply's ts instead of its parent's
    assert _api(client, "files.completeUploadExternal", files=files, channel_id="C1",
                thread_ts="1.000001")["error"] == "invalid_thread_ts"
    parent = client.chat_postMessage(channel="C1", text="report")["ts"]
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=parent)["ts"]
    assert _api(client, "files.completeUploadExternal", files=files, channel_id="C1",
                thread_ts=reply)["error"] == "invalid_thread_ts"
    # a public channel the bot is not in: chat:write.public does not cover files
    stub.channels["COUT"] = StubChannel("COUT", bot_member=False)
    assert _api(client, "files.completeUploadExternal", files=files,
                channel_id="COUT")["error"] == "not_in_channel"
    assert _api(client, "files.completeUploadExternal", files="nope")["error"] == (
        "invalid_arguments")
    ok = _api(client, "files.completeUploadExternal", files=files, channel_id="C1",
              thread_ts=parent)
    assert ok["ok"] and ok["files"][0]["id"] == fid
    assert (stub.files[fid].channel, stub.files[fid].thread_ts) == ("C1", parent)
    # an upload URL nobody handed out
    bad = url.rsplit("/", 1)[0] + "/F404"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(bad, data=b"x", method="POST"))
    # and the scope
    stub.grant("xoxb-nofiles", "chat:write")
    other = WebClient(token="xoxb-nofiles", base_url=stub.base_url, retry_handlers=[])
    refused = _api(other, "files.getUploadURLExternal", filename="a.png", length=3)
    assert (refused["error"], refused["needed"]) == ("missing_scope", "files:write")


def test_multipart_uploads_are_read_like_slack_does(stub: SlackStub, client: WebClient) -> None:
    import urllib.request

    got = _api(client, "files.getUploadURLExternal", filename="a.png", length=5)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\nhello\r\n--XyZ--\r\n")
    req = urllib.request.Request(got["upload_url"], data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    with urllib.request.urlopen(req) as r:
        assert r.read() == b"OK - 5"
    assert stub.files[got["file_id"]].data == b"hello"


def test_report_now_needs_a_channel(db_url: str, stub: SlackStub) -> None:
    env = _env(db_url, stub)
    del env["FAULTBOT_DIGEST_CHANNEL"]
    out = CliRunner().invoke(cli, ["slack", "report-now"], env=env)
    assert out.exit_code == 2 and "no channel" in out.output
    assert not stub.calls_to("chat.postMessage")


def _digest_footer(stub: SlackStub) -> str:
    posts = [c for c in stub.ok_calls("chat.postMessage")
             if "faultbot_digest" in str(c.params.get("metadata"))]
    assert posts, [c.params.get("text") for c in stub.ok_calls("chat.postMessage")]
    last = posts[-1].params["blocks"][-1]
    assert last["type"] == "context"
    return str(last["elements"][0]["text"])


def test_the_digest_links_to_the_latest_posted_report(
        db_url: str, stub: SlackStub, fleet: ConnectionPlan) -> None:
    """Issue 17 item 5: before any report the digest points to the commands; after
    `report-now` it links to the posted message (its permalink), once per digest."""
    env = _env(db_url, stub)
    before = CliRunner().invoke(cli, ["slack", "digest-now", "--date", "2026-11-01"], env=env)
    assert before.exit_code == 0, before.output
    footer = _digest_footer(stub)
    assert "`faultbot slack report-now`" in footer and "slack.com/archives" not in footer

    out = CliRunner().invoke(cli, ["slack", "report-now", "--now", END.isoformat()], env=env)
    assert out.exit_code == 0, out.output
    (post,) = [c for c in stub.ok_calls("chat.postMessage")
               if "faultbot_digest" not in str(c.params.get("metadata"))]
    ts = str(post.response["ts"])
    link = f"<https://slack.com/archives/CREPORT/p{ts.replace('.', '')}|the latest report>"

    after = CliRunner().invoke(cli, ["slack", "digest-now", "--date", "2026-11-02"], env=env)
    assert after.exit_code == 0, after.output
    footer = _digest_footer(stub)
    assert link in footer and "`faultbot report --week`" in footer
    assert "`faultbot slack report-now`" not in footer


def test_the_newest_report_wins_and_another_channel_is_a_fallback(db_engine: Engine) -> None:
    from datetime import datetime

    from bot.slack.outbox import record_report
    from bot.slack.report_post import latest_report

    t0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
    with make_sessionmaker(db_engine)() as s, s.begin():
        assert latest_report(s, "C1") is None
        record_report(s, "C2", "100.000200", t0)
        assert latest_report(s, "C1") == ("C2", "100.000200")
        record_report(s, "C1", "200.000300", t0 + timedelta(days=7))
        record_report(s, "C1", "200.000300", t0 + timedelta(days=7))  # once
        record_report(s, "C2", "300.000400", t0 + timedelta(days=8))
        assert latest_report(s, "C1") == ("C1", "200.000300")
        assert latest_report(s, "C2") == ("C2", "300.000400")


def test_the_weekly_schedule_posts_once_a_week_and_catches_up(
        db_url: str, db_engine: Engine, stub: SlackStub, client: WebClient,
        fleet: ConnectionPlan) -> None:
    """Issue 17: FAULTBOT_REPORT_TIME "mon 08:00" (Berlin) in `faultbot run`: nothing before
    the hour, one post at it (charts in the thread, recorded for the digest's link), no
    second post on a restart that week, a catch-up within six hours, a skip after that."""
    from datetime import datetime

    from bot.config import load_settings
    from bot.slack.report_job import ReportScheduler
    from bot.slack.report_post import latest_report

    settings = load_settings({"DATABASE_URL": db_url, "FAULTBOT_DIGEST_CHANNEL": "CREPORT",
                              "FAULTBOT_TIMEZONE": "Europe/Berlin",
                              "FAULTBOT_REPORT_TIME": "mon 08:00"}, dotenv=False)
    clock = [datetime(2026, 11, 25, tzinfo=UTC)]  # the job's and its outbox's "now"
    job = ReportScheduler(db_engine, settings, client, clock=lambda: clock[0])

    def run_at(when: datetime) -> Any:
        clock[0] = when
        return job.run_due()

    fire = job.trigger().get_next_fire_time(None, clock[0])
    assert fire is not None and fire.isoformat() == "2026-11-30T08:00:00+01:00"
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert run_at(monday - timedelta(minutes=1)) is None  # last week's: too late
    assert stub.ok_calls("chat.postMessage") == []
    posted = run_at(monday + timedelta(seconds=5))
    assert posted is not None and posted.channel == "CREPORT" and posted.charts == 2
    assert posted.status == "sent" and posted.ts is not None
    assert run_at(monday + timedelta(hours=1)) is None  # a restart: already posted
    assert len(stub.ok_calls("chat.postMessage")) == 1
    with make_sessionmaker(db_engine)() as s:
        assert latest_report(s, "CREPORT") == ("CREPORT", posted.ts)
    # The next week: started three hours late still posts; seven hours late does not.
    assert run_at(monday + timedelta(days=7, hours=3)) is not None
    assert run_at(monday + timedelta(days=14, hours=7)) is None
    assert len(stub.ok_calls("chat.postMessage")) == 2


def test_report_time_setting() -> None:
    from datetime import time

    from bot.config import SettingsError, load_settings

    def at(value: str) -> object:
        return load_settings({"FAULTBOT_REPORT_TIME": value}, dotenv=False).report_time

    assert load_settings({}, dotenv=False).report_time is None
    assert at("off") is None
    assert at("mon 08:00") == (0, time(8, 0)) and at("Sunday 7:05") == (6, time(7, 5))
    for bad in ("tu 08:00", "mon 8", "mon 24:00", "08:00", "mon 02:30", "monx 08:00"):
        with pytest.raises(SettingsError, match="FAULTBOT_REPORT_TIME"):
            at(bad)


def test_the_scheduled_report_survives_an_outage_through_the_outbox(
        db_url: str, db_engine: Engine, stub: SlackStub, client: WebClient,
        fleet: ConnectionPlan) -> None:
    """The weekly report in `faultbot run` is an outbox row keyed by the week: Slack down
    at the hour leaves it queued (a restart within the week queues nothing more), and
    the outbox sends it, charts in its thread, once Slack is back."""
    import time
    from datetime import datetime

    from bot.config import load_settings
    from bot.slack.outbox import BACKOFF_CAP, OutboxWorker
    from bot.slack.report_job import ReportScheduler
    from bot.slack.stub import Scripted

    settings = load_settings({"DATABASE_URL": db_url, "FAULTBOT_DIGEST_CHANNEL": "CREPORT",
                              "FAULTBOT_TIMEZONE": "UTC",
                              "FAULTBOT_REPORT_TIME": "mon 08:00"}, dotenv=False)
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # past: the outbox sends at once
    job = ReportScheduler(db_engine, settings, client)
    stub.script("chat.postMessage", Scripted(status=503))
    queued = job.run_due(monday + timedelta(seconds=5))
    assert queued is not None and queued.status == "pending" and queued.ts is None
    assert stub.ok_calls("chat.postMessage") == []
    assert job.run_due(monday + timedelta(minutes=30)) is None  # a restart: already queued
    time.sleep(BACKOFF_CAP)
    OutboxWorker(db_engine, client).run_once()
    (post,) = stub.ok_calls("chat.postMessage")
    assert {(f.channel, f.thread_ts) for f in stub.files.values()} == {
        ("CREPORT", post.response["ts"])}
    assert job.run_due(monday + timedelta(hours=1)) is None
    assert len(stub.calls_to("chat.postMessage")) == 2  # the refused try and the post
