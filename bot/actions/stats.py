"""How often each action fixed each fault, per charger model and category."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from bot.store.core_tables import core_table

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Rate:
    model: str  # "" when the charger never said
    category: str
    kind: str
    fixed: int
    total: int


def rates(
    session: Session | Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model: str | None = None,
    category: str | None = None,
) -> list[Rate]:
    """Judged actions grouped by (model, category, kind); most tried first. Core only
    (bot.store.core_tables): `faultbot why` quotes these without importing the ORM."""
    ra = core_table("remote_actions").c
    fixed = func.sum(case((ra.outcome == "fixed", 1), else_=0))
    query = (
        select(ra.model, ra.category, ra.kind, fixed, func.count())
        .where(ra.outcome.is_not(None))
        .group_by(ra.model, ra.category, ra.kind)
    )
    if since is not None:
        query = query.where(ra.requested_at >= since)
    if until is not None:  # judged by then, too
        query = query.where(ra.requested_at < until, ra.outcome_at <= until)
    if model is not None:
        query = query.where(func.coalesce(ra.model, "") == model)
    if category is not None:
        query = query.where(ra.category == category)
    found = [
        Rate(m or "", c, k, int(f or 0), int(n))
        for m, c, k, f, n in session.execute(query).all()
    ]
    return sorted(found, key=lambda r: (-r.total, r.model, r.category, r.kind))
