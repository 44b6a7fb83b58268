"""Tunable thresholds of the triage rules (all windows in seconds)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.triage.policy import DEFAULT_POLICY, FaultPolicy


@dataclass(frozen=True, slots=True)
class TriageConfig:
    # phantom_boot_fault: a Faulted this soon after a boot, recovered this soon after the boot
    phantom_window_s: float = 120.0
    # ... and the model must have shown the pattern at this many boots (unless a KB quirk says so)
    phantom_learn_after: int = 3
    # fault_while_charging: the session's meter must rise at least this much while Faulted
    charging_rise_wh: float = 250.0
    # safety_repeat: a second ground/isolation fault on one port within this window
    safety_repeat_window_s: float = 24 * 3600.0
    # site_wide_cause: power faults at one site within this window, on this many chargers
    site_window_s: float = 600.0
    site_min_chargers: int = 2
    # vehicle_following: one idTag's faults on this many OTHER chargers within the window
    vehicle_min_other_chargers: int = 2
    vehicle_window_s: float = 7 * 24 * 3600.0
    # a session counts as "on the port at the time" if it ended at most this long ago
    session_linger_s: float = 300.0
    # flapping, recurrence and recovery: one definition shared with the incident stage
    policy: FaultPolicy = DEFAULT_POLICY
    # silent_charger: no inbound message for misses x heartbeat interval + grace
    silent_misses: int = 3
    silent_grace_s: float = 120.0
    default_heartbeat_s: float = 3600.0
    # charging_without_energy: off, it neither tracks meter readings nor runs in the tick
    # (`faultbot bench triage` compares the two)
    no_energy_rule: bool = True
    # charging_without_energy: a port in a charging state whose meter readings stayed flat
    # (energy up less than no_energy_min_wh, power under no_energy_power_w) this long
    no_energy_after_s: float = 30 * 60.0
    no_energy_min_wh: float = 50.0
    no_energy_power_w: float = 100.0
    # ... unless the vehicle stopped drawing: its battery is this full, or the rate had
    # tapered below this share of the session's peak after delivering at least taper_min_wh
    full_soc: float = 95.0
    taper_ratio: float = 0.5
    taper_min_wh: float = 5000.0
    # 2.x: a NotifyEvent problem and a Faulted status this close together describe one fault
    v2_pairing_s: float = 120.0
    # vendor free text in evidence is kept verbatim up to this many characters
    evidence_text_cap: int = 120
    # memory bounds (a 10,000-charger fleet fits well inside them)
    max_chargers: int = 50_000
    max_ports_per_charger: int = 64
    max_open_transactions: int = 16  # per charger; stops that never came are forgotten
    max_vehicles: int = 100_000
    max_port_history: int = 25
    max_port_faults: int = 16
    max_ignored: int = 10
    max_seen_faults: int = 20_000
    max_pending_side_channel: int = 20_000
    # texts that say nothing about the cause (compared case-insensitively, trimmed)
    uninformative_texts: tuple[str, ...] = (
        "error(s) occurred in evse",
        "see logging for more information",
        "error",
        "errors",
        "fault",
        "faulted",
        "unknown",
        "unknown error",
        "n/a",
        "na",
        "none",
        "null",
        "noerror",
        "no error",
        "0",
        "-",
    )
