"""Post the weekly report: the message, then its charts uploaded into its thread with
Slack's current upload flow (files.getUploadURLExternal, a POST of the bytes to the
URL it gives, files.completeUploadExternal with channel_id and thread_ts), which
slack_sdk's files_upload_v2 performs. Charts are an extra: when the upload fails the
report has been posted all the same, and the caller is told why.

Unlike the digest and alerts, this manual post does not go through the outbox: the
uploads need the message's ts at once. The client does not retry (make_client), so a
lost answer fails the command instead of posting twice behind the caller's back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.report.model import WeeklyReport
from bot.report.render import chart_pngs, report_text
from bot.slack.dbutil import insert_ignore
from bot.slack.models import SlackReportPost
from bot.slack.render.budget import check
from bot.slack.render.report import chart_title, report_message, upload_comment
from bot.store.base import table_of

if TYPE_CHECKING:
    from slack_sdk import WebClient


@dataclass(slots=True)
class PostedReport:
    channel: str
    ts: str
    files: list[str] = field(default_factory=list)  # ids of the charts shared in the thread
    charts_error: str | None = None


def record_report(session: Session, posted: PostedReport, now: datetime) -> None:
    """Remember a posted report (channel, ts): the daily digest links to the latest."""
    insert_ignore(session, table_of(SlackReportPost),
                  {"channel": posted.channel, "ts": posted.ts, "posted_at": now})


def latest_report(session: Session, channel: str) -> tuple[str, str] | None:
    """(channel, ts) of the newest report posted to `channel`, else to any channel."""
    newest = select(SlackReportPost.channel, SlackReportPost.ts).order_by(
        SlackReportPost.posted_at.desc(), SlackReportPost.id.desc()).limit(1)
    for query in (newest.where(SlackReportPost.channel == channel), newest):
        row = session.execute(query).first()
        if row is not None:
            return str(row[0]), str(row[1])
    return None


def post_report(client: WebClient, channel: str, report: WeeklyReport) -> PostedReport:
    from slack_sdk.errors import SlackApiError, SlackRequestError

    text = report_text(report)
    message = report_message(text)
    problems = check(message)
    if problems:  # a renderer bug: never send what Slack would refuse
        raise ValueError("weekly report exceeds Block Kit limits: " + "; ".join(problems))
    answer = client.chat_postMessage(channel=channel, **message.as_kwargs())
    posted = PostedReport(str(answer["channel"]), str(answer["ts"]))
    pngs = chart_pngs(report)
    if not pngs:
        return posted
    uploads = [{"content": png, "filename": f"{name}.png", "title": chart_title(name),
                "alt_txt": text.charts[name]} for name, png in pngs.items()]
    try:
        done = client.files_upload_v2(file_uploads=uploads, channel=posted.channel,
                                      thread_ts=posted.ts, initial_comment=upload_comment(text))
    except (SlackApiError, SlackRequestError) as exc:
        posted.charts_error = str(exc)[:300]
        return posted
    posted.files = [str(f["id"]) for f in done.get("files") or []]
    return posted
