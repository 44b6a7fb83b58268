"""How often each action fixed each fault, per charger model and category."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.actions.models import RemoteAction


@dataclass(frozen=True, slots=True)
class Rate:
    model: str  # "" when the charger never said
    category: str
    kind: str
    fixed: int
    total: int


def rates(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model: str | None = None,
    category: str | None = None,
) -> list[Rate]:
    """Judged actions grouped by (model, category, kind); most tried first."""
    fixed = func.sum(case((RemoteAction.outcome == "fixed", 1), else_=0))
    query = (
        select(RemoteAction.model, RemoteAction.category, RemoteAction.kind, fixed, func.count())
        .where(RemoteAction.outcome.is_not(None))
        .group_by(RemoteAction.model, RemoteAction.category, RemoteAction.kind)
    )
    if since is not None:
        query = query.where(RemoteAction.requested_at >= since)
    if until is not None:  # judged by then, too
        query = query.where(RemoteAction.requested_at < until, RemoteAction.outcome_at <= until)
    if model is not None:
        query = query.where(func.coalesce(RemoteAction.model, "") == model)
    if category is not None:
        query = query.where(RemoteAction.category == category)
    found = [
        Rate(m or "", c, k, int(f or 0), int(n))
        for m, c, k, f, n in session.execute(query).all()
    ]
    return sorted(found, key=lambda r: (-r.total, r.model, r.category, r.kind))
