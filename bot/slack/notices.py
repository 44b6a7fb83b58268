"""Telling a person when Slack delivery fails for good: a DM to each admin, at most
one a day per cause (the outbox's unique dedupe key does the rate limiting)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from bot.slack.errors import SlackFailure
from bot.slack.escape import environment
from bot.slack.render.budget import SlackMessage, section

log = logging.getLogger(__name__)

NOTICE_REF = "notice"


@lru_cache(maxsize=1)
def _m() -> Any:
    return environment().get_template("notices.j2").module


def cause_of(failure: SlackFailure, channel: str) -> str:
    """Token and scope problems are one cause whatever the channel; others per channel."""
    return failure.error if failure.stops_posting else f"{failure.error}:{channel}"


def advice(error: str, channel: str, detail: str = "") -> str:
    return str(_m().what_to_do(error, channel, detail)).strip()


def notify_admins(
    session: Session,
    admins: frozenset[str],
    failure: SlackFailure,
    *,
    channel: str,
    method: str,
    now: datetime,
) -> int:
    """Queue one DM per admin for this cause today; how many were new."""
    from bot.slack.outbox import enqueue  # the outbox calls us: import at use

    text = str(
        _m().admin_dm(failure.error, failure.error_class, channel, method, failure.detail)
    ).strip()
    cause = cause_of(failure, channel)
    queued = 0
    for admin in sorted(admins):
        queued += enqueue(
            session,
            channel=admin,
            message=SlackMessage(text, [section(text)]),
            dedupe_key=f"notice:{cause}:{admin}:{now.date().isoformat()}"[:200],
            ref=NOTICE_REF,
            now=now,
        )
    return queued
