"""Did an action fix the fault? The port reported itself able to charge again within
the window after the action: fixed; the window passed without that: not fixed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions.models import RemoteAction
from bot.incidents.models import PortStatus

DEFAULT_WINDOW = timedelta(minutes=15)
JUDGED = ("accepted", "sent")  # an action the charger refused or never got fixes nothing


def settle(session: Session, now: datetime, window: timedelta = DEFAULT_WINDOW) -> list[int]:
    """Judge every pending action that can be judged; the ids judged."""
    pending = session.scalars(
        select(RemoteAction).where(RemoteAction.outcome.is_(None),
                                   RemoteAction.status.in_(JUDGED))
    ).all()
    judged: list[int] = []
    for row in pending:
        until = row.requested_at + window
        port = [PortStatus.connector == row.connector] if row.connector else []
        back_up = session.scalar(
            select(func.min(PortStatus.ts)).where(
                PortStatus.charger == row.charger, *port, PortStatus.up.is_(True),
                PortStatus.ts > row.requested_at, PortStatus.ts <= until,
            )
        )
        if back_up is not None:
            row.outcome, row.outcome_at = "fixed", back_up
        elif now > until:
            row.outcome, row.outcome_at = "not_fixed", until
        else:
            continue
        judged.append(row.id)
    return judged
