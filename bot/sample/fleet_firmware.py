"""A long, sparse fleet history for the firmware regression analysis (tests, demos).

Only the frames that analysis reads: one BootNotification per charger (with a reply
whose heartbeat interval outlasts the feed, so nobody looks silent), an Available
status per port, standard-code faults (Faulted, then Available 20 min later) drawn as
Poisson processes per port and category, and for the chargers of one model a firmware
change (FirmwareStatusNotification Installed, then a BootNotification naming the new
version). A `FirmwarePlan` multiplies one category's rate after the change; without
one, rates never change. Deterministic for its arguments.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.sample.fleet import DEFAULT_START, fleet_charger_ids

# (vendor, model, firmware, ports): five models of the fleet generator's makers
MODELS = (
    ("ABB", "CDT_TACW22::NET_WIFI", "V1.8.21", 1),
    ("Alfen BV", "NG910-60023", "6.5.0-4217", 2),
    ("Zaptec", "Zaptec Go OCPP", "2.1.0.4", 1),
    ("Keba AG", "KC-P30-ESS400C2-E0R", "3.10.16", 1),
    ("EVerest", "EVerest DC-150", "2024.9.0", 2),
)
# errorCode -> faults per 1,000 port-days (before any planted change)
BASE_RATES = {"GroundFailure": 4.0, "HighTemperature": 6.0, "ConnectorLockFailure": 3.0}
_INTERVAL = 10_000_000  # seconds: longer than any feed drawn here


@dataclass(slots=True)
class FirmwarePlan:
    """Plant a firmware change on `model`; after it, `error_code` faults are `ratio`x."""

    model: str = "Zaptec Go OCPP"
    firmware: str = "2.2.0.1"
    error_code: str = "GroundFailure"
    ratio: float = 3.4
    change_from_day: float = 40.0  # chargers change between these days of the feed
    change_to_day: float = 50.0
    changed: dict[str, datetime] = field(default_factory=dict)  # filled: charger -> when


def generate_firmware_history(n_chargers: int, days: float = 90.0, seed: int = 1, *,
                              start: datetime = DEFAULT_START,
                              plan: FirmwarePlan | None = None,
                              change_model: str | None = "Zaptec Go OCPP",
                              change_firmware: str = "2.2.0.1") -> list[str]:
    """Contract-1 lines in time order. `change_model` chargers change firmware (at the
    plan's days) even without a plan: then rates stay as they were."""
    rng = random.Random(seed)
    out: list[tuple[float, int, str]] = []
    t0 = start.timestamp()
    end = t0 + days * 86400.0
    n = 0

    def emit(t: float, charger: str, frame: list[object]) -> None:
        nonlocal n
        n += 1
        line = json.dumps({"ts": _iso(t), "charger": charger,
                           "dir": "in" if frame[0] == 2 else "out", "frame": frame,
                           "ocpp": "1.6"}, separators=(",", ":"))
        out.append((t, n, line))

    def boot(t: float, charger: str, vendor: str, model: str, fw: str) -> None:
        uid = f"b{n}"
        emit(t, charger, [2, uid, "BootNotification", {
            "chargePointVendor": vendor, "chargePointModel": model, "firmwareVersion": fw}])
        emit(t + 0.2, charger, [3, uid, {"status": "Accepted", "currentTime": _iso(t),
                                         "interval": _INTERVAL}])

    def status(t: float, charger: str, port: int, st: str, code: str = "NoError") -> None:
        emit(t, charger, [2, f"s{n}", "StatusNotification", {
            "connectorId": port, "errorCode": code, "status": st, "timestamp": _iso(t)}])

    changing = plan.model if plan is not None else change_model
    new_fw = plan.firmware if plan is not None else change_firmware
    lo, hi = (plan.change_from_day, plan.change_to_day) if plan is not None else (40.0, 50.0)
    for charger in fleet_charger_ids(n_chargers):
        vendor, model, fw, ports = rng.choice(MODELS)
        t = t0 + rng.uniform(0.0, 600.0)
        boot(t, charger, vendor, model, fw)
        for port in range(1, ports + 1):
            status(t + 1.0 + port, charger, port, "Available")
        switch = end + 1.0
        if model == changing:
            switch = round(t0 + rng.uniform(lo, hi) * 86400.0, 3)
            emit(switch - 600.0, charger, [2, f"f{n}", "FirmwareStatusNotification",
                                           {"status": "Installed"}])
            boot(switch, charger, vendor, model, new_fw)
            if plan is not None:
                # as the frame says it (milliseconds)
                plan.changed[charger] = datetime.fromisoformat(_iso(switch - 600.0)[:-1] + "+00:00")
        for port in range(1, ports + 1):
            for code, rate in BASE_RATES.items():
                per_s = rate / 1000.0 / 86400.0
                boosted = plan is not None and code == plan.error_code
                tf = t + 10.0
                while True:
                    after = tf >= switch
                    nxt = tf + rng.expovariate(per_s * (plan.ratio if boosted and after
                                                        and plan is not None else 1.0))
                    if not after and nxt >= switch and boosted:
                        tf = switch  # memoryless: draw again at the new rate from the change
                        continue
                    tf = nxt
                    if tf >= end - 3600.0:
                        break
                    status(tf, charger, port, "Faulted", code)
                    tf += 1200.0
                    status(tf, charger, port, "Available")
    out.sort()
    return [line for _, _, line in out]


def feed_end(days: float = 90.0, start: datetime = DEFAULT_START) -> datetime:
    return start + timedelta(days=days)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
