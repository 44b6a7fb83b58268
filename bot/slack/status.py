"""Slack delivery as people see it: the Slack section of /health and the admins' App
Home entry. Read from the outbox (so it survives restarts) plus the worker's view of
the connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.slack.errors import CONFIGURATION, PERMANENT
from bot.slack.models import FAILED, PENDING, SlackDigestRun, SlackOutbox

RECENT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Problem:
    error: str
    error_class: str
    channel: str
    method: str
    detail: str
    at: datetime | None
    delivered: bool  # went out as text only


def recent_problems(session: Session, now: datetime, limit: int = 5) -> list[Problem]:
    """Permanent and configuration errors of the last week, newest first, one per
    (error, channel)."""
    rows = session.scalars(
        select(SlackOutbox)
        .where(
            SlackOutbox.error_class.in_((PERMANENT, CONFIGURATION)),
            SlackOutbox.created_at >= now - RECENT,
            SlackOutbox.ref.is_distinct_from("notice"),
        )
        .order_by(SlackOutbox.id.desc())
        .limit(200)
    ).all()
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for r in rows:
        cause = (r.last_error or "", r.channel)
        if cause in seen:
            continue
        seen.add(cause)
        out.append(
            Problem(
                r.last_error or "",
                r.error_class or "",
                r.channel,
                r.method,
                r.error_detail or "",
                r.claimed_at or r.created_at,
                r.status != FAILED,
            )
        )
        if len(out) >= limit:
            break
    return out


def counts(session: Session) -> tuple[int, int]:
    """(pending, failed for good) outbox rows."""
    pending = session.scalar(select(func.count()).where(SlackOutbox.status == PENDING))
    failed = session.scalar(select(func.count()).where(SlackOutbox.status == FAILED))
    return int(pending or 0), int(failed or 0)


def connection_state(worker: Any, now: datetime) -> tuple[str, str | None]:
    """("ok" | "unknown" | "degraded" | "rate_limited" | "unreachable" | "stopped", why)."""
    if worker is None:
        return "disabled", None
    state = worker.state
    return state.connection(now, worker.paused_until), state.stopped


def slack_section(engine: Engine, worker: Any, now: datetime) -> tuple[list[str], dict[str, Any]]:
    """The /health Slack section, and the problems that make /health fail (posting
    stopped). Messages that failed for good are reported, but do not fail /health: a
    restart would not fix a wrong channel."""
    state, why = connection_state(worker, now)
    with Session(engine) as s:
        pending, failed = counts(s)
        problems = recent_problems(s, now, limit=1)
        run = s.scalars(
            select(SlackDigestRun).order_by(SlackDigestRun.local_date.desc()).limit(1)
        ).first()
        digest = None
        if run is not None:
            prefix = f"digest:{run.channel}:{run.local_date.isoformat()}:"
            parts = s.scalars(
                select(SlackOutbox.status).where(SlackOutbox.dedupe_key.startswith(prefix))
            ).all()
            digest = {
                "channel": run.channel,
                "local_date": run.local_date.isoformat(),
                "queued_at": run.claimed_at.isoformat(),
                "messages": run.messages,
                "sent": sum(1 for p in parts if p == "sent"),
                "failed": sum(1 for p in parts if p == FAILED),
            }
    last = problems[0] if problems else None
    body: dict[str, Any] = {
        "connection": state,
        "stopped_because": why,
        "outbox_pending": pending,
        "outbox_failed": failed,
        "last_error": None
        if last is None
        else {
            "error": last.error,
            "class": last.error_class,
            "channel": last.channel,
            "method": last.method,
            "detail": last.detail or None,
            "at": last.at.isoformat() if last.at else None,
            "sent_as_text_only": last.delivered,
        },
        "last_digest": digest,
    }
    fatal = [f"slack: posting stopped: {why}"] if state == "stopped" and why else []
    return fatal, body
