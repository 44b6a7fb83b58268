"""charging_without_energy (time-based): a port says it charges, its meter says it does not.

The engine feeds every meter reading of a session to `track_reading`, notes the port
once `stalled_long_enough`, and its next tick calls `charging_without_energy` for it.
A stall is judged once: a vehicle that stopped drawing (SuspendedEV, a full battery, a
rate that tapered off after a long charge) is left alone; a charger that stopped
delivering is a finding.
"""

from __future__ import annotations

from datetime import datetime

from bot.triage.config import TriageConfig
from bot.triage.phrasing import Phrasebook
from bot.triage.rules.base import Verdict
from bot.triage.state import PortState
from bot.triage.views import SessionInfo
from bot.vocab import Category, Owner, Severity


def track_reading(session: SessionInfo, ts: datetime, energy_wh: float | None,
                  power_w: float | None, cfg: TriageConfig) -> None:
    """Fold one meter reading into the session (call before last_wh/last_meter_at move).
    Runs for every reading of every session, so the common case (energy flowing) comes
    first and does little."""
    base = session.progress_wh
    if power_w is not None:
        rate: float | None = power_w
        flowing = power_w >= cfg.no_energy_power_w
    else:
        rate, flowing = None, False
        last_at = session.last_meter_at
        if energy_wh is not None and last_at is not None and session.last_wh is not None:
            dt = (ts - last_at).total_seconds()
            if dt > 0:
                rate = (energy_wh - session.last_wh) * 3600.0 / dt
    if session.progress_at is None or flowing or (
            energy_wh is not None and base is not None
            and energy_wh - base >= cfg.no_energy_min_wh):
        # energy flows (or this is the first reading): the stall clock starts again
        session.progress_at = session.read_at = ts
        if energy_wh is not None:
            session.progress_wh = energy_wh
        session.flat_readings = 0
        session.flat_checked = False
        if rate is not None and rate >= cfg.no_energy_power_w:
            session.rate_w = rate
            if rate > session.peak_w:
                session.peak_w = rate
        return
    if base is None:
        session.progress_wh = energy_wh
    read_at = session.read_at
    if read_at is None or ts > read_at:
        session.read_at = ts
    session.flat_readings += 1


def stalled_long_enough(session: SessionInfo, cfg: TriageConfig) -> bool:
    """The readings since energy last flowed span the configured time."""
    if session.progress_at is None or session.read_at is None:
        return False
    return (session.read_at - session.progress_at).total_seconds() >= cfg.no_energy_after_s


def is_charging(port: PortState, session: SessionInfo) -> bool:
    """2.x says it in the transaction (chargingState); 1.6 in the port status."""
    if session.charging_state is not None:
        return session.charging_state == "Charging"
    return port.status == "Charging"


def charging_without_energy(port: PortState, session: SessionInfo, now: datetime,
                            cfg: TriageConfig, say: Phrasebook) -> Verdict | None:
    """A verdict once the meter stayed flat long enough while charging (None otherwise;
    also None, and judged, when the vehicle is the one that stopped)."""
    if session.flat_checked or session.progress_at is None or session.read_at is None:
        return None
    if not is_charging(port, session):
        return None
    flat_s = (session.read_at - session.progress_at).total_seconds()
    if flat_s < cfg.no_energy_after_s:
        return None
    session.flat_checked = True
    if session.soc is not None and session.soc >= cfg.full_soc:
        return None  # the battery is full: the vehicle stopped drawing
    first = session.first_wh if session.first_wh is not None else session.progress_wh
    delivered = max(0.0, (session.progress_wh or 0.0) - (first or 0.0))
    tapered = (session.rate_w is not None and session.peak_w > 0
               and session.rate_w < cfg.taper_ratio * session.peak_w
               and delivered >= cfg.taper_min_wh)
    if tapered:
        return None  # the rate faded out after a long charge: the vehicle is done
    state = session.charging_state or port.status or ""
    evidence = [
        say.evidence("meter_flat", since=session.progress_at, until=session.read_at,
                     flat_s=flat_s, readings=session.flat_readings,
                     register=session.progress_wh, tx=session.transaction_id or "?"),
        say.evidence("charging_state", state=state, v2=session.charging_state is not None),
        say.evidence("vehicle_not_full", soc=session.soc, full=cfg.full_soc),
        say.evidence("delivery_stopped", delivered=delivered, rate=session.rate_w,
                     peak=session.peak_w),
    ]
    return Verdict(
        rule="charging_without_energy",
        category=Category.POWER_MODULE,
        severity=Severity.OUTAGE,
        owner=Owner.REMOTE_OPERATOR,
        summary=say.summary("charging_without_energy", flat_s=flat_s, delivered=delivered),
        action=say.action("charging_without_energy"),
        confidence=0.7 if session.soc is not None else 0.6,
        evidence=evidence,
    )
