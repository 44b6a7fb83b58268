"""Prune the message log and the derived tables by the retention policy.

Raw frames older than `raw_days` go, except:
- frames no fold has folded yet (above the lowest checkpoint's last message id);
- evidence: frames a diagnosis rests on, for `evidence_days`, and those of incidents
  still open, however old;
- the newest frame per charger and per port that a replay needs to know the charger
  and its ports (BootNotification and its reply, StatusNotification per connector, the
  newest inbound frame), however old.
Derived rows older than `derived_days` go too: diagnoses and incidents that are
resolved, and port history except the newest status per port before the cut-off (the
uptime of a later window starts from it).

On PostgreSQL the log is partitioned by day: raw frames go a whole day at a time, by
dropping the day's partition (bot.retention.drop), never by a DELETE over the log.

Every cut-off is measured on the log's clock (bot.fold.checkpoint.log_time), never on
the wall, so the same log prunes the same way whenever the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql import Select

from bot.config import Settings
from bot.fold.checkpoint import TABLE as CHECKPOINTS
from bot.fold.checkpoint import log_time
from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.retention import drop
from bot.store.compact import fp_hex
from bot.store.models import LogRetention, MessageRow
from bot.store.partitions import partitioned

# Actions whose newest frame per charger (and per port) a replay needs.
_IDENTITY = ("BootNotification",)
_PORT_STATE = ("StatusNotification",)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    raw_days: int = 30
    evidence_days: int = 400
    derived_days: int = 400

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(settings.retention_days, settings.evidence_retention_days,
                   settings.derived_retention_days)


@dataclass(slots=True)
class PruneReport:
    log_clock: datetime | None = None
    raw_before: datetime | None = None
    derived_before: datetime | None = None
    folded_through: int | None = None  # the lowest checkpoint's last message id
    frames: int = 0  # frames removed (or, in a dry run, that would be)
    frames_kept_old: int = 0  # frames older than the cut-off kept as evidence or state
    diagnoses: int = 0
    incidents: int = 0
    port_statuses: int = 0
    partitions: list[str] = field(default_factory=list)  # day partitions dropped (PostgreSQL)
    dry_run: bool = False
    reason: str | None = None  # why nothing could be pruned ("no_log", "not_folded")


def prune(engine: Engine, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
    """Apply the policy in one transaction (or only count, with `dry_run`)."""
    report = PruneReport(dry_run=dry_run)
    with engine.begin() as conn:
        now = log_time(conn)
        folded = conn.execute(select(func.min(CHECKPOINTS.c.last_message_id))).scalar()
        if now is None:
            report.reason = "no_log"
            return report
        if folded is None:
            report.reason = "not_folded"
            return report
        report.log_clock, report.folded_through = now, folded
        report.raw_before = now - timedelta(days=policy.raw_days)
        report.derived_before = now - timedelta(days=policy.derived_days)
        evidence_since = now - timedelta(days=policy.evidence_days)
        old = and_(MessageRow.id <= folded, MessageRow.ts < report.raw_before)
        # diagnoses name frames by hex fingerprint; the log stores its bytes
        stored_fp = fp_hex(MessageRow.fingerprint)
        keep = or_(MessageRow.id.in_(_state_frames(old)),
                   stored_fp.in_(_evidence(evidence_since)))
        doomed = and_(old, MessageRow.id.not_in(_state_frames(old)),
                      stored_fp.not_in(_evidence(evidence_since)))
        days = drop.plan(conn, report.raw_before, folded, keep, doomed) if (
            partitioned(conn)) else None
        # partitioned: whole days only; the rest of the cut-off's day waits for tomorrow
        if days is not None:
            report.frames, report.partitions = days.frames, [p.name for p in days.days]
        else:
            report.frames = _count(conn, MessageRow.id, doomed)
        report.frames_kept_old = _count(conn, MessageRow.id, old) - report.frames
        gone_diagnoses, gone_incidents, gone_statuses = _derived(report.derived_before)
        report.diagnoses = _count(conn, DiagnosisRow.id, gone_diagnoses)
        report.incidents = _count(conn, Incident.id, gone_incidents)
        report.port_statuses = _count(conn, PortStatus.id, gone_statuses)
        if dry_run:
            return report
        # Derived rows first: the evidence query reads the diagnoses still kept.
        conn.execute(delete(DiagnosisRow).where(gone_diagnoses))
        conn.execute(delete(Incident).where(gone_incidents))
        conn.execute(delete(PortStatus).where(gone_statuses))
        if days is not None:
            drop.apply(conn, days, keep, doomed)
        else:
            conn.execute(delete(MessageRow).where(doomed))
        _mark(conn, report)
    return report


def _evidence(since: datetime) -> Select[Any]:
    """Fingerprints of frames a kept diagnosis or an open incident rests on."""
    still_open = select(Incident.id).where(Incident.resolved_at.is_(None))
    return select(DiagnosisRow.message_fingerprint).where(
        or_(DiagnosisRow.ts >= since, DiagnosisRow.incident_id.in_(still_open))
    )


def _state_frames(old: ColumnElement[bool]) -> Select[Any]:
    """Ids of the `old` frames that are still the newest (highest id) to say who a
    charger is, what a port shows, or that the charger was heard from (its newest
    inbound frame), over the whole log.

    Only the old part of the log is grouped (the part a prune reads anyway; on
    PostgreSQL, its day partitions): its newest frame of each kind is a candidate, and
    it stands when no frame of the same kind with a higher id exists anywhere, which
    a probe of the (charger_id, occurred_at) index per candidate answers. An old frame
    is the newest of the whole log exactly when it is the newest of the old part with
    nothing newer after it, so the frames kept are the same as grouping the whole log.
    A subquery wrapped once more, so MySQL-family servers accept it inside a DELETE."""
    m, later = MessageRow, aliased(MessageRow)
    port = (m.charger_id, m.action, m.message_type, m.connector_id)
    states = (
        select(func.max(m.id).label("id"), *port)
        .where(old, m.action.in_(_IDENTITY + _PORT_STATE))
        .group_by(*port)
        .subquery()
    )
    newer_state = exists().where(
        later.charger_id == states.c.charger_id, later.action == states.c.action,
        later.message_type == states.c.message_type,
        later.connector_id.is_not_distinct_from(states.c.connector_id),
        later.id > states.c.id)
    heard = (
        select(func.max(m.id).label("id"), m.charger_id)
        .where(old, m.direction == "in")
        .group_by(m.charger_id)
        .subquery()
    )
    newer_heard = exists().where(
        later.charger_id == heard.c.charger_id, later.direction == "in", later.id > heard.c.id)
    newest = (
        select(states.c.id).where(~newer_state)
        .union_all(select(heard.c.id).where(~newer_heard))
        .subquery()
    )
    return select(newest.c.id)


Where = ColumnElement[bool]


def _derived(before: datetime) -> tuple[Where, Where, Where]:
    resolved_long_ago = and_(Incident.resolved_at.is_not(None), Incident.resolved_at < before)
    gone_incidents = resolved_long_ago
    kept_incidents = select(Incident.id).where(~resolved_long_ago)
    gone_diagnoses = and_(
        DiagnosisRow.ts < before,
        or_(DiagnosisRow.incident_id.is_(None), DiagnosisRow.incident_id.not_in(kept_incidents)),
    )
    newest_before = (
        select(func.max(PortStatus.id))
        .where(PortStatus.ts < before)
        .group_by(PortStatus.charger, PortStatus.connector)
    )
    gone_statuses = and_(PortStatus.ts < before, PortStatus.id.not_in(newest_before))
    return gone_diagnoses, gone_incidents, gone_statuses


def _count(conn: Connection, column: InstrumentedAttribute[int], where: Where) -> int:
    return int(conn.execute(select(func.count(column)).where(where)).scalar() or 0)


def _mark(conn: Connection, report: PruneReport) -> None:
    """Remember the cut-off, so frames from before it are not stored again."""
    assert report.raw_before is not None and report.folded_through is not None
    values = {"pruned_before": report.raw_before, "pruned_through_id": report.folded_through,
              "pruned_at": datetime.now(UTC)}
    row = conn.execute(
        select(LogRetention.removed, LogRetention.pruned_before)
        .where(LogRetention.name == "messages")
    ).one_or_none()
    if row is None:
        conn.execute(insert(LogRetention).values(name="messages", removed=report.frames,
                                                 **values))
        return
    # The cut-off never moves back (a shorter clock after a restore keeps the old one).
    values["pruned_before"] = max(row.pruned_before, report.raw_before)
    conn.execute(update(LogRetention).where(LogRetention.name == "messages")
                 .values(removed=row.removed + report.frames, **values))
