"""The App Home tab: ports down by who must act, the oldest open incidents, and
yesterday's uptime. A few aggregate queries; no per-incident round trips. Admins also
see Slack delivery problems (bot.slack.status)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.incidents.models import Incident
from bot.slack.escape import environment
from bot.slack.render.budget import context, divider, header, pack_sections, section
from bot.slack.render.times import slack_date

DOWN = ("safety", "outage")
OLDEST = 10


@lru_cache(maxsize=1)
def _m() -> Any:
    return environment().get_template("home.j2").module


def home_view(
    session: Session,
    tz: ZoneInfo,
    now: datetime,
    sites: Any = None,
    *,
    admin: bool = False,
    worker: Any = None,
) -> dict[str, Any]:
    M = _m()
    open_ = Incident.resolved_at.is_(None)
    by_owner = session.execute(
        select(Incident.owner, func.count())
        .where(open_, Incident.severity.in_(DOWN), Incident.suppressed.is_(False))
        .group_by(Incident.owner)
        .order_by(func.count().desc())
    ).all()
    total = sum(int(n) for _, n in by_owner)
    oldest = session.scalars(
        select(Incident)
        .where(open_, Incident.suppressed.is_(False))
        .order_by(Incident.opened_at)
        .limit(OLDEST)
    ).all()
    blocks: list[dict[str, Any]] = [
        header(str(M.header())),
        section(str(M.down_by_owner([(o, int(n)) for o, n in by_owner], total))),
        divider(),
        section(str(M.oldest_title())),
    ]
    lines = [str(M.oldest_line(i, slack_date(i.opened_at, tz))) for i in oldest]
    blocks.extend(section(c) for c in pack_sections(lines or [str(M.none_open())]))
    blocks.append(divider())
    blocks.append(section(_uptime_line(session, tz, now, sites)))
    if admin:
        blocks.extend(delivery_blocks(session, tz, now, worker))
    blocks.append(context(str(M.updated(slack_date(now, tz)))))
    return {"type": "home", "blocks": blocks}


def delivery_blocks(session: Session, tz: ZoneInfo, now: datetime, worker: Any) -> list[Any]:
    """For admins: the connection, the outbox, and the last week's delivery problems."""
    from bot.slack.status import connection_state, counts, recent_problems

    N: Any = environment().get_template("notices.j2").module
    state, _why = connection_state(worker, now)
    pending, failed = counts(session)
    problems = recent_problems(session, now)
    lines = [str(N.home_line(p, slack_date(p.at or now, tz))) for p in problems]
    return [
        divider(),
        section(str(N.home_title())),
        section(str(N.home_state(state, pending, failed))),
        *(section(c) for c in pack_sections(lines or [str(N.home_none())])),
    ]


def _uptime_line(session: Session, tz: ZoneInfo, now: datetime, sites: Any) -> str:
    from bot.incidents.uptime import port_uptime

    day = now.astimezone(tz).date() - timedelta(days=1)
    site_of = sites.site_of if sites is not None else None
    ports = port_uptime(session, day, tz, site_of=site_of, now=now)
    pct = sum(p.uptime_pct for p in ports) / len(ports) if ports else None
    return str(_m().uptime(day, pct, len(ports)))
