"""Carrying out one remote action: check, audit, send, record the answer.

The audit row is written (with its request key) before anything is sent, so a retried
request finds it and never acts twice; the send happens outside any transaction (a
charger may take seconds to answer)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actions.channels import Channels
from bot.actions.kinds import Kind, ocpp_call, offered
from bot.actions.limits import refusal
from bot.actions.models import RemoteAction
from bot.incidents.models import Incident

log = logging.getLogger(__name__)


def offered_for(incident: Incident) -> list[Kind]:
    """The actions an incident's diagnosis calls for (none for a site-wide incident)."""
    if not incident.charger or incident.suppressed:
        return []
    return offered(incident.category, incident.severity, incident.action, incident.connector)


def _existing(session: Session, key: str) -> RemoteAction | None:
    return session.scalars(select(RemoteAction).where(RemoteAction.request_key == key)).first()


def request_action(
    engine: Engine,
    incident_id: int,
    kind: Kind,
    who: str,
    channels: Channels,
    now: datetime,
    key: str,
    *,
    dry_run: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> RemoteAction | None:
    """Do `kind` on the incident's port for `who`; the audit row (also when refused,
    dry-run or failed). None when the incident does not exist or its diagnosis does
    not call for `kind` (a forged request)."""
    key = key[:200]
    with Session(engine, expire_on_commit=False) as s, s.begin():
        found = _existing(s, key)
        if found is not None:
            return found
        incident = s.get(Incident, incident_id)
        if incident is None or kind not in offered_for(incident):
            return None
        channel, unreachable = channels.pick(incident.charger or "")
        reason = refusal(s, incident, kind, now)
        if reason is not None:
            status = "refused"
        elif dry_run:
            status, reason = "dry_run", unreachable
        elif channel is None:
            status, reason = "failed", unreachable
        else:
            status = "sending"
        row = RemoteAction(
            request_key=key, incident_id=incident.id, charger=incident.charger or "",
            connector=incident.connector or 0, kind=kind.value, requested_by=who[:64],
            requested_at=now, via=channel.name if channel else "none", status=status,
            reason=reason, category=incident.category, severity=incident.severity,
            model=(incident.model or None),
        )
        s.add(row)
        try:
            s.flush()
        except IntegrityError:  # the same request, concurrently: the other one acts
            s.rollback()
            with Session(engine, expire_on_commit=False) as again:
                return _existing(again, key)
    if status != "sending" or channel is None:
        return row
    action, payload = ocpp_call(kind, channel.version(row.charger), row.connector)
    try:
        answer = channel.send(row.charger, action, payload)
        status, detail, message_id = answer.status, answer.detail, answer.message_id
    except Exception as exc:  # a channel failing must still close the audit row
        log.exception("remote %s on %s failed", kind, row.charger)
        status, detail, message_id = "failed", type(exc).__name__, None
    with Session(engine, expire_on_commit=False) as s, s.begin():
        stored = s.get(RemoteAction, row.id)
        assert stored is not None
        stored.status, stored.answer = status, detail[:500]
        stored.message_id = message_id
        stored.answered_at = (clock or (lambda: now))()
        return stored
