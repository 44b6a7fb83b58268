"""What the regression analysis reads, taken from the store: per charger its model,
ports and firmware over time, and its fault onsets (incidents).

Firmware comes from the BootNotifications in the message log; a
FirmwareStatusNotification "Installed" shortly before the boot that reports the new
version dates the change. Exposure runs from the charger's first frame to `until` (the
log's own clock), so a quiet charger counts as a working one. A fault onset is an
incident of the charger or one of its ports: site-wide causes (the grid, not the
charger) and silences (a link, not the charger) are left out, and so are phantoms.
The log's retention limits how far back firmware history reaches.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.incidents.keys import is_silence
from bot.incidents.models import Incident
from bot.store.compact import Unreadable
from bot.store.models import Charger, Connector, MessageRow

log = logging.getLogger(__name__)

# An "Installed" this long before the boot that names the new firmware dates the change.
INSTALLED_LEAD = timedelta(days=1)
_ACTIONS = ("BootNotification", "FirmwareStatusNotification")


@dataclass(frozen=True, slots=True)
class FirmwareSpan:
    firmware: str  # "" when the charger never said
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ChargerHistory:
    charger: str
    site: str
    vendor: str | None
    model: str
    ports: int
    spans: tuple[FirmwareSpan, ...]  # in time order, first frame to `until`


@dataclass(frozen=True, slots=True)
class FaultOnset:
    charger: str
    ts: datetime
    category: str


@dataclass(slots=True)
class FleetHistory:
    until: datetime
    chargers: dict[str, ChargerHistory] = field(default_factory=dict)
    faults: list[FaultOnset] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FirmwareEvent:
    """A boot naming its firmware, or an "Installed" status (firmware None)."""

    charger: str
    ts: datetime
    firmware: str | None
    installed: bool = False


def firmware_spans(first_seen: datetime, until: datetime,
                   events: Iterable[FirmwareEvent]) -> tuple[FirmwareSpan, ...]:
    """One charger's firmware over [first_seen, until), from its events in time order.
    The firmware of the first boot is taken to have run since the first frame."""
    spans: list[FirmwareSpan] = []
    current: str | None = None
    start = first_seen
    installed_at: datetime | None = None
    for e in events:
        if e.installed:
            installed_at = e.ts
            continue
        if not e.firmware or e.ts >= until:
            continue
        if current is None:
            current = e.firmware
        elif e.firmware != current:
            at = e.ts
            if installed_at is not None and e.ts - INSTALLED_LEAD <= installed_at <= e.ts:
                at = installed_at
            at = max(at, start)
            if at > start:
                spans.append(FirmwareSpan(current, start, at))
            current, start = e.firmware, at
        installed_at = None
    if until > start:
        spans.append(FirmwareSpan(current or "", start, until))
    return tuple(spans)


def boot_firmware(raw: str) -> tuple[str | None, bool]:
    """(firmware named by a BootNotification, is an "Installed" FirmwareStatusNotification)
    from a stored CALL frame; (None, False) for anything else."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None, False
    if not isinstance(frame, list) or len(frame) < 4 or not isinstance(frame[3], dict):
        return None, False
    action, payload = frame[2], frame[3]
    if action == "FirmwareStatusNotification":
        return None, payload.get("status") == "Installed"
    station: Any = payload.get("chargingStation")
    fw = payload.get("firmwareVersion")
    if fw is None and isinstance(station, dict):
        fw = station.get("firmwareVersion")
    return (fw[:100] if isinstance(fw, str) and fw.strip() else None), False


def load_history(session: Session, until: datetime, site_of: Callable[[str], str]) -> FleetHistory:
    """The fleet's history from the store, up to `until`."""
    out = FleetHistory(until=until)
    ports = dict(session.execute(
        select(Connector.charger_id, func.count())
        .where(Connector.connector_id > 0)
        .group_by(Connector.charger_id)).all())
    events: dict[str, list[FirmwareEvent]] = defaultdict(list)
    rows = session.execute(
        select(MessageRow.charger_id, MessageRow.ts, MessageRow.raw)
        .where(MessageRow.action.in_(_ACTIONS), MessageRow.direction == "in",
               MessageRow.message_type == 2)
        .order_by(MessageRow.id))
    for charger, ts, raw in rows:
        if isinstance(raw, Unreadable):  # one damaged row never stops the report
            log.warning("firmware history: a frame of %s skipped: %s", charger, raw.reason)
            continue
        fw, installed = boot_firmware(raw)
        if fw is not None or installed:
            events[charger].append(FirmwareEvent(charger, _aware(ts), fw, installed))
    for cid, vendor, model, first_seen in session.execute(
            select(Charger.id, Charger.vendor, Charger.model, Charger.first_seen)
            .order_by(Charger.id)):
        if not model or first_seen is None or _aware(first_seen) >= until:
            continue
        evs = sorted(events.get(cid, ()), key=lambda e: e.ts)
        out.chargers[cid] = ChargerHistory(
            charger=cid, site=site_of(cid), vendor=vendor, model=model,
            ports=max(1, int(ports.get(cid, 0))),
            spans=firmware_spans(_aware(first_seen), until, evs))
    for subject, opened_at, category, rule in session.execute(
            select(Incident.charger, Incident.opened_at, Incident.category, Incident.rule)
            .where(Incident.suppressed.is_(False), Incident.scope != "site",
                   Incident.charger.is_not(None), Incident.opened_at < until)
            .order_by(Incident.opened_at, Incident.id)):
        if subject is not None and subject in out.chargers and not is_silence(rule):
            out.faults.append(FaultOnset(subject, _aware(opened_at), category))
    return out


def _aware(ts: datetime) -> datetime:
    """Every stored time is UTC; a naive one (some drivers) is read as such."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
