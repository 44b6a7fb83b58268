"""Slack-side tables: the outbox, alert thread anchors, digest runs and seen events.

Idempotency lives here: every unique constraint below is what stops a restart, a
second worker or a Slack retry from posting twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base

# Outbox row states.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class SlackOutbox(Base):
    """One outbound Web API call, written before Slack is called and claimed to send.

    `dedupe_key` (unique) makes enqueueing idempotent ("alert-root:17", "digest:C1:...").
    `coalesce_key` is not unique: at most one *pending* row per key is kept by the
    enqueuer, which overwrites its payload instead of adding a second edit.
    `incident_id` + `ref` let the worker fill channel/ts from the alert anchor at send
    time, because a reply may be enqueued before its root message has a ts.
    """

    __tablename__ = "slack_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(40))  # chat.postMessage, chat.update, ...
    channel: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column()
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    coalesce_key: Mapped[str | None] = mapped_column(String(200), index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(16))  # "root", "reply", "update"
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    result_ts: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    # bot.slack.errors: "retryable", "permanent" or "configuration", and what Slack said.
    error_class: Mapped[str | None] = mapped_column(String(16))
    error_detail: Mapped[str | None] = mapped_column(Text)
    # Failed attempts that count toward the backoff (429s do not: Retry-After rules).
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Set when an attempt may have landed (5xx, timeout, reset): look the post up in
    # the channel's history before sending it again.
    unsure_since: Mapped[datetime | None]

    __table_args__ = (Index("ix_slack_outbox_status_id", "status", "id"),)


class SlackAlertMessage(Base):
    """The alert root message of an incident: claimed when the alert is enqueued (ts
    still NULL), filled with the ts when Slack accepts the post.

    A flapping port's new incident points at the earlier incident's root
    (`root_incident_id`) instead of getting a second root message.
    """

    __tablename__ = "slack_alert_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer, unique=True)
    root_incident_id: Mapped[int] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(80))
    ts: Mapped[str | None] = mapped_column(String(40))
    flap_key: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    # Who chose the snooze (the incident row only keeps until when), for the root message.
    snoozed_by: Mapped[str | None] = mapped_column(String(64))


class SlackDigestRun(Base):
    """One digest per channel per local day, claimed before anything is posted."""

    __tablename__ = "slack_digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(80))
    local_date: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(20))  # "schedule", "catch-up", "manual"
    messages: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Named explicitly: the naming convention would only name the first column.
        Index("uq_slack_digest_runs_channel_local_date", "channel", "local_date", unique=True),
    )


class SlackEscalation(Base):
    """One planned re-notification of an alert (bot.slack.escalations).

    Planned when the alert opens, fired at most once: (incident_id, step) is unique, and
    a step only leaves `pending` by a conditional UPDATE in the transaction that queues
    its thread reply, so a restart or a second worker can neither lose nor repeat it.
    `mention` is the target as planned, so editing the paging file does not change a
    page already promised.
    """

    __tablename__ = "slack_escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(40))  # "<severity>/<n>"
    due_at: Mapped[datetime]
    mention: Mapped[str] = mapped_column(Text)  # JSON: {"usergroups": [...], "users": [...]}
    status: Mapped[str] = mapped_column(String(12))  # pending, sent, cancelled
    note: Mapped[str | None] = mapped_column(String(40))  # why cancelled
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_slack_escalations_incident_id_step", "incident_id", "step", unique=True),
        Index("ix_slack_escalations_status_due_at", "status", "due_at"),
    )


class SlackSeenEvent(Base):
    """Events API deliveries already handled (Slack redelivers on timeouts)."""

    __tablename__ = "slack_seen_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    seen_at: Mapped[datetime]


class SlackReportPost(Base):
    """A weekly report posted to Slack, so the daily digest can link to the latest."""

    __tablename__ = "slack_report_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(80))
    ts: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime]

    __table_args__ = (
        Index("uq_slack_report_posts_channel_ts", "channel", "ts", unique=True),
        Index("ix_slack_report_posts_posted_at", "posted_at"),
    )
