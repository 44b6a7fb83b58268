"""A fleet's link traffic for the connection-health findings (tests, demos).

Every charger connects (a connection event, as the tap and CSMS logs record it), boots,
sends a heartbeat every `heartbeat_s` and a StatusNotification now and then, stamped
with its own clock (a second or two before the CSMS sees it). Normal life is noisy on
purpose: now and then a reconnect (close 1006, back within a minute), a reboot, and an
hour offline after which the charger delivers the frames it queued (old stamps, late
receipt). A `ConnectionPlan` plants a reconnect storm, a boot loop and a skewed clock
on chargers it picks, and records them as ground truth. Deterministic for its arguments.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.sample.fleet import DEFAULT_START, fleet_charger_ids


@dataclass(slots=True)
class ConnectionPlan:
    storms: int = 1  # chargers that reconnect every few minutes for a while
    boot_loops: int = 1
    skews: int = 1
    skew_s: float = 47 * 60.0  # the skewed clock runs this far ahead (negative: behind)
    # ground truth, filled by the generator: charger -> (first, last) of the episode
    planted: dict[str, tuple[str, datetime, datetime]] = field(default_factory=dict)


def generate_connection_fleet(n_chargers: int, hours: float = 24.0, seed: int = 1, *,
                              start: datetime = DEFAULT_START, heartbeat_s: float = 300.0,
                              plan: ConnectionPlan | None = None) -> list[str]:
    """Contract-1 lines in receipt order."""
    rng = random.Random(seed)
    out: list[tuple[float, int, str]] = []
    t0 = start.timestamp()
    end = t0 + hours * 3600.0
    n = 0

    def emit(t: float, charger: str, frame: list[object]) -> None:
        nonlocal n
        n += 1
        line = json.dumps({"ts": _iso(t), "charger": charger, "dir": "in", "frame": frame,
                           "ocpp": "1.6"}, separators=(",", ":"))
        out.append((t, n, line))

    def link(t: float, charger: str, event: str, code: int | None = None) -> None:
        emit(t, charger, [0, f"c{n}", event, {} if code is None else {"closeCode": code}])

    def boot(t: float, charger: str) -> None:
        emit(t, charger, [2, f"b{n}", "BootNotification", {
            "chargePointVendor": "Acme", "chargePointModel": "AC22", "firmwareVersion": "1.4.2"}])

    def status(t: float, stamp: float, charger: str) -> None:
        emit(t, charger, [2, f"s{n}", "StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Available",
            "timestamp": _iso(stamp)}])

    ids = fleet_charger_ids(n_chargers)
    picked = rng.sample(ids, (plan.storms + plan.boot_loops + plan.skews) if plan else 0)
    kinds: dict[str, str] = {}
    if plan is not None:
        for i, charger in enumerate(picked):
            kinds[charger] = ("reconnect_storm" if i < plan.storms else
                              "boot_loop" if i < plan.storms + plan.boot_loops else "clock_skew")
    for charger in ids:
        kind = kinds.get(charger)
        clock = plan.skew_s if plan is not None and kind == "clock_skew" else 0.0
        if plan is not None and kind == "clock_skew":
            plan.planted[charger] = (kind, start, datetime.fromtimestamp(end, UTC))
        t = t0 + rng.uniform(0.0, 300.0)
        link(t, charger, "connected")
        boot(t + 0.5, charger)
        offline = (t0 + rng.uniform(0.2, 0.8) * (end - t0)) if rng.random() < 0.3 else None
        episode = None
        if kind in ("reconnect_storm", "boot_loop"):
            first = t0 + rng.uniform(0.2, 0.5) * (end - t0)
            episode = (first, first + rng.uniform(3600.0, 7200.0))
        next_status = t + rng.uniform(600.0, 5400.0)
        queued: list[float] = []
        t += heartbeat_s
        while t < end:
            if offline is not None and offline <= t < offline + 3600.0:
                if t >= next_status:
                    queued.append(next_status)  # sent once the link is back
                    next_status += rng.uniform(600.0, 5400.0)
                t += heartbeat_s
                continue
            if queued:
                link(t - 5.0, charger, "connected")
                for i, stamp in enumerate(queued):
                    status(t - 4.0 + i * 0.1, stamp + clock, charger)
                queued = []
            if episode is not None and episode[0] <= t <= episode[1]:
                t = _episode(t, charger, kind or "", rng, link, boot, plan)
                continue
            emit(t, charger, [2, f"h{n}", "Heartbeat", {}])
            if t >= next_status:
                status(t + 1.0, t + 1.0 - rng.uniform(0.1, 3.0) + clock, charger)
                next_status = t + rng.uniform(600.0, 5400.0)
            draw = rng.random()
            if draw < heartbeat_s / (12 * 3600.0):  # a reconnect about twice a day
                link(t + 2.0, charger, "closed", 1006)
                link(t + 2.0 + rng.uniform(5.0, 60.0), charger, "connected")
            elif draw < heartbeat_s / (12 * 3600.0) + heartbeat_s / (24 * 3600.0):
                link(t + 2.0, charger, "closed", 1000)  # a reboot about once a day
                link(t + 62.0, charger, "connected")
                boot(t + 62.5, charger)
            t += heartbeat_s
    out.sort()
    return [line for _, _, line in out]


def _episode(t: float, charger: str, kind: str, rng: random.Random,
             link: Callable[..., None], boot: Callable[[float, str], None],
             plan: ConnectionPlan | None) -> float:
    """One step of a planted storm or boot loop; the time after it."""
    assert plan is not None
    first = plan.planted.get(charger)
    at = datetime.fromtimestamp(t, UTC)
    plan.planted[charger] = (kind, first[1] if first else at, at)
    link(t, charger, "closed", 1006 if kind == "reconnect_storm" else 1000)
    link(t + 3.0, charger, "connected")
    if kind == "boot_loop":
        boot(t + 3.5, charger)
    return t + rng.uniform(120.0, 360.0)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
