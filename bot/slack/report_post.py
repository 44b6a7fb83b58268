"""Post the weekly report: the message, then its charts uploaded into its thread with
Slack's current upload flow (files.getUploadURLExternal, a POST of the bytes to the
URL it gives, files.completeUploadExternal with channel_id and thread_ts), which
slack_sdk's files_upload_v2 performs. Charts are an extra: when the upload fails the
report has been posted all the same, and the caller is told why.

`faultbot slack report-now` goes through the outbox like the digest (`queue_report`):
the message is a row keyed by channel and report time (a second run for the same time
posts nothing; a lost answer is looked up before posting again), and the charts a
second row that waits for the message's ts and uploads into its thread. The scheduled
report in `faultbot run` (bot.slack.report_job) queues the same way, keyed by the week's
scheduled time."""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.report.model import WeeklyReport
from bot.report.render import chart_pngs, report_text
from bot.slack.delivery import UPLOAD_FILES
from bot.slack.models import FAILED, SENT, SlackOutbox, SlackReportPost
from bot.slack.outbox import enqueue
from bot.slack.render.budget import check
from bot.slack.render.report import chart_title, report_message, upload_comment


def latest_report(session: Session, channel: str) -> tuple[str, str] | None:
    """(channel, ts) of the newest report posted to `channel`, else to any channel."""
    newest = select(SlackReportPost.channel, SlackReportPost.ts).order_by(
        SlackReportPost.posted_at.desc(), SlackReportPost.id.desc()).limit(1)
    for query in (newest.where(SlackReportPost.channel == channel), newest):
        row = session.execute(query).first()
        if row is not None:
            return str(row[0]), str(row[1])
    return None


def _keys(channel: str, key: str) -> tuple[str, str]:
    return f"report:{channel}:{key}", f"report-charts:{channel}:{key}"


def queue_report(session: Session, channel: str, report: WeeklyReport, key: str,
                 now: datetime) -> bool:
    """Queue the report (and its charts, into its thread) in the outbox, in the caller's
    transaction. `key` names this report (its as-of time): False when a report with the
    same key was queued to the channel before (nothing is queued twice)."""
    text = report_text(report)
    message = report_message(text)
    problems = check(message)
    if problems:  # a renderer bug: never queue what Slack would refuse
        raise ValueError("weekly report exceeds Block Kit limits: " + "; ".join(problems))
    report_key, charts_key = _keys(channel, key)
    if not enqueue(session, channel=channel, message=message, dedupe_key=report_key,
                   ref="report", now=now):
        return False
    pngs = chart_pngs(report)
    if pngs:
        files = [{"content_b64": b64encode(png).decode(), "filename": f"{name}.png",
                  "title": chart_title(name), "alt_txt": text.charts[name]}
                 for name, png in pngs.items()]
        enqueue(session, channel=channel, method=UPLOAD_FILES, dedupe_key=charts_key,
                ref="charts", now=now, extra={"report_key": report_key, "files": files,
                                              "initial_comment": upload_comment(text)})
    return True


@dataclass(slots=True)
class QueuedReport:
    """Where a queued report stands in the outbox (`report_delivery`)."""

    status: str  # the message row's: pending, sending, sent or failed
    channel: str  # the id Slack answered with once sent, else as queued
    ts: str | None
    error: str | None  # the message row's last error
    charts: int  # charts in the thread (0 until they are uploaded)
    charts_status: str | None  # the charts row's status; None when there are no charts
    charts_error: str | None


def report_delivery(session: Session, channel: str, key: str) -> QueuedReport | None:
    """The state of the report queued to `channel` under `key`, or None."""
    report_key, charts_key = _keys(channel, key)
    rows = {r.dedupe_key: r for r in session.scalars(select(SlackOutbox).where(
        SlackOutbox.dedupe_key.in_([report_key, charts_key])))}
    report = rows.get(report_key)
    if report is None:
        return None
    answered = None
    if report.result_ts:
        answered = session.scalars(select(SlackReportPost.channel).where(
            SlackReportPost.ts == report.result_ts)).first()
    charts = rows.get(charts_key)
    uploaded = len(charts.payload.get("files") or []) if charts and charts.status == SENT else 0
    return QueuedReport(
        report.status, answered or report.channel, report.result_ts,
        report.last_error if report.status != SENT else None, uploaded,
        charts.status if charts else None,
        charts.last_error if charts and charts.status == FAILED else None)
