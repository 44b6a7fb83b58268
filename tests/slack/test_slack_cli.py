"""`faultbot slack digest-now` and `faultbot slack deliver` against the stand-in."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from bot.cli.main import cli
from bot.slack.models import SlackOutbox
from bot.slack.outbox import enqueue
from bot.slack.render.budget import SlackMessage
from bot.slack.stub import Scripted, SlackStub


def _env(db_url: str, stub: SlackStub) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": stub.base_url,
        "FAULTBOT_DIGEST_CHANNEL": "CDIGEST",
        "FAULTBOT_TIMEZONE": "Europe/Berlin",
    }


def test_digest_now_posts_once_per_day(db_url: str, db_engine: Engine, stub: SlackStub) -> None:
    runner = CliRunner()
    first = runner.invoke(
        cli, ["slack", "digest-now", "--date", "2026-11-20"], env=_env(db_url, stub)
    )
    assert first.exit_code == 0, first.output
    assert "Digest for 2026-11-19 queued to CDIGEST in " in first.output
    assert "delivered now." in first.output, first.output
    again = runner.invoke(
        cli, ["slack", "digest-now", "--date", "2026-11-20"], env=_env(db_url, stub)
    )
    assert again.exit_code == 0
    assert "The digest for 2026-11-20 was already posted to CDIGEST; not posting twice." in (
        again.output
    )
    assert len(stub.ok_calls("chat.postMessage")) >= 1
    assert {c.params["channel"] for c in stub.calls_to("chat.postMessage")} == {"CDIGEST"}
    bad = runner.invoke(
        cli, ["slack", "digest-now", "--date", "20-11-2026"], env=_env(db_url, stub)
    )
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_deliver_flushes_the_outbox(db_url: str, db_engine: Engine, stub: SlackStub) -> None:
    with Session(db_engine) as s, s.begin():
        enqueue(s, channel="C1", message=SlackMessage("queued while Slack was away", []))
    stub.script("chat.postMessage", Scripted(status=503))
    runner = CliRunner()
    out = runner.invoke(cli, ["slack", "deliver"], env=_env(db_url, stub))
    assert out.exit_code == 0 and "0 delivered, 1 still pending" in out.output
    with Session(db_engine) as s, s.begin():
        s.execute(update(SlackOutbox).values(next_attempt_at=SlackOutbox.created_at))
    out = runner.invoke(cli, ["slack", "deliver"], env=_env(db_url, stub))
    assert "1 delivered, 0 still pending" in out.output, out.output


def test_slack_off_is_a_clear_error(db_url: str) -> None:
    out = CliRunner().invoke(
        cli, ["slack", "deliver"], env={"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": ""}
    )
    assert out.exit_code == 2 and "SLACK_BOT_TOKEN" in out.output
