"""A synthetic charging fleet for benchmarks: contract-1 lines in time order.

The mix follows the message rates operators see (shared domain notes, feeds §3.1):
heartbeats at each charger's interval (60 s for most, some 300/900 s), about five
sessions per connector per day with 4-6 StatusNotifications each, MeterValues every
60 s while charging, StartTransaction/StopTransaction with their results, a boot at
the start and now and then a reboot, and a few faults a day with the vendor codes of
a handful of real vendors. About one charger in seven speaks OCPP 2.0.1
(TransactionEvent, NotifyEvent). Every CALL is followed by its CALLRESULT.

Everything is lazy: each charger is a few small generators (heartbeats, one per
connector) merged by time, so memory stays flat however many lines are drawn.
Deterministic for (n_chargers, hours, seed, start).

Tests that need known ground truth pass a `FleetPlan`: it plants sessions where the
charger stops delivering energy and sessions where the vehicle fills up and stops
drawing, and records each one it planted. Without a plan the output is exactly what it
always was (planting draws from its own random streams).
"""

from __future__ import annotations

import heapq
import json
import random
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

DEFAULT_START = datetime(2026, 11, 19, tzinfo=UTC)

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class _Vendor:
    vendor: str
    model: str
    firmware: str
    connectors: int
    power_w: tuple[float, float]
    faults: tuple[tuple[str, str | None, str | None, str | None], ...]  # errorCode, vId, vEC, info


_VENDORS_16 = (
    _Vendor(
        "ABB",
        "CDT_TACW22::NET_WIFI",
        "TAC3Z9119006710273::V1.8.21",
        1,
        (7000.0, 11000.0),
        (
            ("OtherError", "ABB", "0x0002", None),
            ("ConnectorLockFailure", "ABB", "0x1000", None),
            ("OtherError", "ABB", "0x0080", None),
        ),
    ),
    _Vendor(
        "Alfen BV",
        "NG910-60023",
        "6.5.0-4217",
        2,
        (7000.0, 22000.0),
        (
            ("OtherError", None, "210", "Modbus TCP/IP lost, in safe mode max 14.0A"),
            ("OtherError", None, "103", None),
            ("OtherError", None, "211", None),
        ),
    ),
    _Vendor(
        "Zaptec",
        "Zaptec Go OCPP",
        "2.1.0.4",
        1,
        (7000.0, 22000.0),
        (
            ("GroundFailure", "zaptec", "4096", "Ground fault, Try reconnecting cable"),
            ("HighTemperature", "zaptec", "2", "High temperature, Let charging station cool down"),
            ("PowerMeterFailure", "zaptec", "8", "Emeter communication error"),
        ),
    ),
    _Vendor(
        "Keba AG",
        "KC-P30-ESS400C2-E0R",
        "P30 v 3.10.16",
        1,
        (7000.0, 11000.0),
        (
            ("OtherError", None, "0x9001", None),
            ("EVCommunicationError", None, "4003", None),
        ),
    ),
    _Vendor(
        "EVerest",
        "EVerest DC-150",
        "2024.9.0",
        2,
        (50000.0, 150000.0),
        (
            ("OtherError", "https://chargex.inl.gov", "CX008", "EmergencyStop"),
            ("GroundFailure", "https://chargex.inl.gov", "CX002", "MREC2GroundFailure"),
            ("OtherError", "https://chargex.inl.gov", "CX014", "MREC14PilotFault"),
        ),
    ),
)

_VENDOR_201 = _Vendor(
    "Tritium",
    "RTM75",
    "v2.3.2",
    2,
    (50000.0, 75000.0),
    (
        ("Problem", "EVSE", "PM-0411", "Power module communication timeout"),
        ("Problem", "ConnectorPlugRetentionLock", "LK-02", "Lock motor did not reach end stop"),
        ("Tripped", "RCD", "RCD-30", "Residual current 30 mA trip"),
    ),
)

PlantKind = Literal["no_energy", "full_battery"]


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted session: where, which transaction, and what it is."""

    charger: str
    connector: int
    transaction_id: str
    kind: PlantKind
    soc_reported: bool
    stall_from: datetime  # the last reading that showed energy flowing (or the start)
    stall_until: datetime  # the last flat reading before the session ends


@dataclass(slots=True)
class FleetPlan:
    """Opt-in ground truth. Shares are of sessions; `planted` fills as lines are drawn.

    no_energy: the port stays Charging (2.x: chargingState Charging) with a vehicle
    connected while the meter stays flat for 45-70 min, from the start or after an
    abrupt stop mid-session. full_battery: the rate tapers to zero as the battery
    fills, then the meter stays flat just as long with the port still Charging (half
    of them report the state of charge, half do not).
    """

    no_energy_share: float = 0.0
    full_battery_share: float = 0.0
    planted: list[Planted] = field(default_factory=list)

    def kind_for(self, charger: str, uid: str) -> PlantKind | None:
        draw = random.Random(f"plan/{charger}/{uid}").random()
        if draw < self.no_energy_share:
            return "no_energy"
        if draw < self.no_energy_share + self.full_battery_share:
            return "full_battery"
        return None


_INTERVALS = (60, 60, 60, 300, 900)
_SESSIONS_PER_DAY = 5.0
_FAULT_SHARE = 0.04  # of connector events: a few faults a day across a fleet of hundreds
_REBOOTS_PER_DAY = 0.03


def fleet_charger_ids(n: int) -> list[str]:
    """The ids generate_fleet_lines uses, in order: FLT-00001, FLT-00002, ..."""
    return [f"FLT-{i:05d}" for i in range(1, n + 1)]


def generate_fleet_lines(
    n_chargers: int, hours: float = 24, seed: int = 1, start: datetime = DEFAULT_START,
    *, plan: FleetPlan | None = None,
) -> Iterator[str]:
    """Contract-1 JSON lines (no newline) for a synthetic fleet, in time order."""
    begin = start.timestamp()
    end = begin + hours * 3600.0
    streams: list[Iterator[tuple[float, int, str]]] = []
    for index, charger in enumerate(fleet_charger_ids(n_chargers)):
        rng = random.Random(seed * 1_000_003 + index)
        two = rng.random() < 1 / 7
        vendor = _VENDOR_201 if two else rng.choice(_VENDORS_16)
        sim = _Charger(charger, vendor, "2.0.1" if two else "1.6", rng, begin, end)
        sim.plan = plan
        streams.append(sim.heartbeats(index))
        for connector in range(1, vendor.connectors + 1):
            sub_rng = random.Random(rng.getrandbits(32))
            streams.append(sim.connector(connector, sub_rng, index))
    for t, _, line in heapq.merge(*streams):
        # A session still running at the end would otherwise go on alone for hours,
        # and by the log's clock every other charger would then look silent.
        if t > end:
            return
        yield line


class _Charger:
    def __init__(
        self,
        charger: str,
        vendor: _Vendor,
        version: str,
        rng: random.Random,
        begin: float,
        end: float,
    ) -> None:
        self.charger = charger
        self.vendor = vendor
        self.version = version
        self.begin = begin
        self.end = end
        self.boot_at = begin + rng.uniform(0.0, 120.0)
        self.interval = rng.choice(_INTERVALS)
        self.rng = rng
        self.prefix = f'","charger":"{charger}","dir":"'  # after the ts value
        self.suffix = f',"ocpp":"{version}"}}'
        self.plan: FleetPlan | None = None

    # --- line building ---------------------------------------------------------------

    def line(self, t: float, direction: str, frame_json: str) -> str:
        return f'{{"ts":"{_iso(t)}{self.prefix}{direction}","frame":{frame_json}{self.suffix}'

    def exchange(
        self, t: float, uid: str, action: str, payload: str, reply: str, order: int, lag: float
    ) -> list[tuple[float, int, str]]:
        return [
            (t, order, self.line(t, "in", f'[2,"{uid}","{action}",{payload}]')),
            (t + lag, order, self.line(t + lag, "out", f'[3,"{uid}",{reply}]')),
        ]

    # --- streams ---------------------------------------------------------------------

    def heartbeats(self, order: int) -> Iterator[tuple[float, int, str]]:
        rng = self.rng
        t = self.boot_at
        yield from self._boot(t, "b0", order, rng)
        n = 0
        t += self.interval
        reboot_chance = _REBOOTS_PER_DAY * self.interval / 86400.0
        while t < self.end:
            n += 1
            if rng.random() < reboot_chance:
                yield from self._boot(t, f"b{n}", order, rng)
            else:
                now = _iso(t + 0.15)
                yield from self.exchange(
                    t, f"h{n}", "Heartbeat", "{}", f'{{"currentTime":"{now}"}}', order, 0.15
                )
            t += self.interval

    def _boot(
        self, t: float, uid: str, order: int, rng: random.Random
    ) -> Iterator[tuple[float, int, str]]:
        v = self.vendor
        if self.version == "1.6":
            payload = _dumps(
                {
                    "chargePointVendor": v.vendor,
                    "chargePointModel": v.model,
                    "chargePointSerialNumber": f"{self.charger}-SN",
                    "firmwareVersion": v.firmware,
                }
            )
        else:
            payload = _dumps(
                {
                    "reason": "PowerUp",
                    "chargingStation": {
                        "vendorName": v.vendor,
                        "model": v.model,
                        "serialNumber": f"{self.charger}-SN",
                        "firmwareVersion": v.firmware,
                    },
                }
            )
        reply = (
            f'{{"currentTime":"{_iso(t + 0.2)}","interval":{self.interval},"status":"Accepted"}}'
        )
        yield from self.exchange(t, uid, "BootNotification", payload, reply, order, 0.2)
        if self.version == "1.6":
            status = self._status_16(t + 1.0, 0, "Available")
            yield from self.exchange(
                t + 1.0, uid + "s", "StatusNotification", status, "{}", order, 0.1
            )

    def connector(
        self, connector: int, rng: random.Random, order: int
    ) -> Iterator[tuple[float, int, str]]:
        t = self.boot_at + 1.5 + connector
        yield from self._status(t, connector, "Available", f"c{connector}-0", order)
        mean_gap = 86400.0 / _SESSIONS_PER_DAY - 3600.0
        n = 0
        while True:
            t += rng.expovariate(1.0 / mean_gap)
            if t >= self.end:
                return
            n += 1
            uid = f"c{connector}-{n}"
            kind = self.plan.kind_for(self.charger, uid) if self.plan is not None else None
            if rng.random() < _FAULT_SHARE:
                t = yield from self._fault(t, connector, uid, order, rng)
            elif kind is not None:
                t = yield from self._planted(t, connector, uid, order, rng, n, kind)
            else:
                t = yield from self._session(t, connector, uid, order, rng, n)

    def _session(
        self, t: float, connector: int, uid: str, order: int, rng: random.Random, n: int
    ) -> Generator[tuple[float, int, str], None, float]:
        v = self.vendor
        power = rng.uniform(*v.power_w)
        minutes = rng.randint(20, 110) if power < 30000 else rng.randint(12, 45)
        tag = f"TAG{rng.randint(1, 999):03d}"
        tx = connector * 1_000_000 + n
        energy = float(rng.randint(1_000_000, 9_000_000))
        two = self.version != "1.6"
        yield from self._status(t, connector, "Occupied" if two else "Preparing", uid + "p", order)
        t += rng.uniform(10.0, 40.0)
        if two:
            yield from self._tx_event(
                t, connector, uid + "s", order, "Started", tx, tag, energy, 0.0
            )
        else:
            payload = _dumps(
                {
                    "connectorId": connector,
                    "idTag": tag,
                    "meterStart": int(energy),
                    "timestamp": _iso(t),
                }
            )
            reply = f'{{"idTagInfo":{{"status":"Accepted"}},"transactionId":{tx}}}'
            yield from self.exchange(t, uid + "s", "StartTransaction", payload, reply, order, 0.3)
            yield from self._status(t + 2.0, connector, "Charging", uid + "c", order)
        for minute in range(1, minutes + 1):
            tm = t + 60.0 * minute
            energy += power / 60.0
            mid = f"{uid}m{minute}"
            if two:
                yield from self._tx_event(
                    tm, connector, mid, order, "Updated", tx, None, energy, power
                )
            else:
                payload = (
                    f'{{"connectorId":{connector},"transactionId":{tx},"meterValue":[{{"timestamp":'
                    f'"{_iso(tm)}","sampledValue":[{{"value":"{int(energy)}",'
                    f'"measurand":"Energy.Active.Import.Register","unit":"Wh"}},'
                    f'{{"value":"{power:.0f}","measurand":"Power.Active.Import","unit":"W"}}]}}]}}'
                )
                yield from self.exchange(tm, mid, "MeterValues", payload, "{}", order, 0.1)
        t += 60.0 * minutes + rng.uniform(5.0, 30.0)
        if two:
            yield from self._tx_event(
                t, connector, uid + "e", order, "Ended", tx, None, energy, 0.0
            )
        else:
            payload = _dumps(
                {
                    "transactionId": tx,
                    "idTag": tag,
                    "meterStop": int(energy),
                    "timestamp": _iso(t),
                    "reason": "EVDisconnected",
                }
            )
            reply = '{"idTagInfo":{"status":"Accepted"}}'
            yield from self.exchange(t, uid + "e", "StopTransaction", payload, reply, order, 0.3)
            yield from self._status(t + 1.0, connector, "Finishing", uid + "f", order)
        t += rng.uniform(30.0, 180.0)
        yield from self._status(t, connector, "Available", uid + "a", order)
        return t

    def _planted(
        self, t: float, connector: int, uid: str, order: int, rng: random.Random, n: int,
        kind: PlantKind,
    ) -> Generator[tuple[float, int, str], None, float]:
        """A session with a planted stall (see FleetPlan)."""
        assert self.plan is not None
        v = self.vendor
        power = rng.uniform(*v.power_w)
        tag = f"TAG{rng.randint(1, 999):03d}"
        tx = connector * 1_000_000 + n
        energy = float(rng.randint(1_000_000, 9_000_000))
        two = self.version != "1.6"
        tx_id = f"{self.charger}-{tx}" if two else str(tx)
        p = random.Random(f"plan/{self.charger}/{uid}/shape")
        if kind == "no_energy":
            normal = 0 if p.random() < 0.5 else p.randint(10, 40)
            taper = 0
            soc_reported = p.random() < 0.5
        else:
            normal = p.randint(60, 90) if power < 30000 else p.randint(20, 30)
            taper = 20
            soc_reported = p.random() < 0.5
        stall = p.randint(45, 70)
        soc0 = p.uniform(15.0, 50.0)
        yield from self._status(t, connector, "Occupied" if two else "Preparing", uid + "p", order)
        t += p.uniform(10.0, 40.0)
        charge = normal + taper
        self.plan.planted.append(Planted(
            self.charger, connector, tx_id, kind, soc_reported,
            datetime.fromtimestamp(t + 60.0 * (normal if taper == 0 else charge - 1), UTC),
            datetime.fromtimestamp(t + 60.0 * (charge + stall), UTC)))
        if two:
            yield from self._tx_event(
                t, connector, uid + "s", order, "Started", tx, tag, energy, 0.0, "Charging"
            )
        else:
            payload = _dumps({"connectorId": connector, "idTag": tag, "meterStart": int(energy),
                              "timestamp": _iso(t)})
            reply = f'{{"idTagInfo":{{"status":"Accepted"}},"transactionId":{tx}}}'
            yield from self.exchange(t, uid + "s", "StartTransaction", payload, reply, order, 0.3)
            yield from self._status(t + 2.0, connector, "Charging", uid + "c", order)
        for minute in range(1, charge + stall + 1):
            tm = t + 60.0 * minute
            if minute <= normal:
                now_w = power
            elif minute <= charge:
                now_w = power * (charge - minute) / taper  # fades to zero
            else:
                now_w = 0.0
            energy += now_w / 60.0
            if kind == "full_battery":
                soc = soc0 + (100.0 - soc0) * min(1.0, minute / charge)
            else:
                soc = soc0 + 0.3 * min(minute, normal)
            mid = f"{uid}m{minute}"
            soc_value = round(soc) if soc_reported else None
            if two:
                yield from self._tx_event(
                    tm, connector, mid, order, "Updated", tx, None, energy, now_w, "Charging",
                    soc_value,
                )
            else:
                samples: list[dict[str, object]] = [
                    {"value": str(int(energy)), "measurand": "Energy.Active.Import.Register",
                     "unit": "Wh"},
                    {"value": f"{now_w:.0f}", "measurand": "Power.Active.Import", "unit": "W"},
                ]
                if soc_value is not None:
                    samples.append({"value": str(soc_value), "measurand": "SoC",
                                    "unit": "Percent", "location": "EV"})
                payload = _dumps({"connectorId": connector, "transactionId": tx,
                                  "meterValue": [{"timestamp": _iso(tm),
                                                  "sampledValue": samples}]})
                yield from self.exchange(tm, mid, "MeterValues", payload, "{}", order, 0.1)
        t += 60.0 * (charge + stall) + p.uniform(5.0, 30.0)
        if two:
            yield from self._tx_event(
                t, connector, uid + "e", order, "Ended", tx, None, energy, 0.0
            )
        else:
            payload = _dumps({"transactionId": tx, "idTag": tag, "meterStop": int(energy),
                              "timestamp": _iso(t), "reason": "EVDisconnected"})
            reply = '{"idTagInfo":{"status":"Accepted"}}'
            yield from self.exchange(t, uid + "e", "StopTransaction", payload, reply, order, 0.3)
            yield from self._status(t + 1.0, connector, "Finishing", uid + "f", order)
        t += p.uniform(30.0, 180.0)
        yield from self._status(t, connector, "Available", uid + "a", order)
        return t

    def _fault(
        self, t: float, connector: int, uid: str, order: int, rng: random.Random
    ) -> Generator[tuple[float, int, str], None, float]:
        code, a, b, c = rng.choice(self.vendor.faults)
        if self.version == "1.6":
            fields: dict[str, object] = {
                "connectorId": connector,
                "errorCode": code,
                "status": "Faulted",
                "timestamp": _iso(t),
            }
            if a:
                fields["vendorId"] = a
            if b:
                fields["vendorErrorCode"] = b
            if c:
                fields["info"] = c
            yield from self.exchange(
                t, uid + "x", "StatusNotification", _dumps(fields), "{}", order, 0.1
            )
        else:
            yield from self._status(t, connector, "Faulted", uid + "x", order)
            yield from self._notify(t + 0.5, connector, uid + "n", order, code, a, b, c, False)
        t += rng.uniform(300.0, 3600.0)
        if self.version != "1.6":
            yield from self._notify(t - 0.5, connector, uid + "r", order, code, a, b, c, True)
        yield from self._status(t, connector, "Available", uid + "a", order)
        return t

    # --- payloads --------------------------------------------------------------------

    def _status_16(self, t: float, connector: int, status: str) -> str:
        return (
            f'{{"connectorId":{connector},"errorCode":"NoError","status":"{status}",'
            f'"timestamp":"{_iso(t)}"}}'
        )

    def _status(
        self, t: float, connector: int, status: str, uid: str, order: int
    ) -> Iterator[tuple[float, int, str]]:
        if self.version == "1.6":
            payload = self._status_16(t, connector, status)
        else:
            payload = (
                f'{{"timestamp":"{_iso(t)}","connectorStatus":"{status}",'
                f'"evseId":{connector},"connectorId":1}}'
            )
        return iter(self.exchange(t, uid, "StatusNotification", payload, "{}", order, 0.1))

    def _tx_event(
        self,
        t: float,
        connector: int,
        uid: str,
        order: int,
        event: str,
        tx: int,
        tag: str | None,
        energy: float,
        power: float,
        charging_state: str | None = None,
        soc: int | None = None,
    ) -> Iterator[tuple[float, int, str]]:
        trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}
        body: dict[str, object] = {
            "eventType": event,
            "timestamp": _iso(t),
            "triggerReason": trigger[event],
            "seqNo": 0,
            "transactionInfo": {"transactionId": f"{self.charger}-{tx}"},
            "evse": {"id": connector, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": _iso(t),
                    "sampledValue": [
                        {
                            "value": int(energy) / 1000.0,  # whole Wh, as kWh
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "kWh"},
                        },
                        {"value": round(power), "measurand": "Power.Active.Import"},
                    ],
                }
            ],
        }
        if charging_state is not None:  # only planted sessions say it (see FleetPlan)
            body["transactionInfo"] = {"transactionId": f"{self.charger}-{tx}",
                                       "chargingState": charging_state}
        if soc is not None:
            body["meterValue"][0]["sampledValue"].append(  # type: ignore[index]  # built just above as a list
                {"value": soc, "measurand": "SoC", "unitOfMeasure": {"unit": "Percent"}})
        if tag:
            body["idToken"] = {"idToken": tag, "type": "ISO14443"}
        if event == "Ended":
            body["transactionInfo"] = {
                "transactionId": f"{self.charger}-{tx}",
                "stoppedReason": "EVDisconnected",
            }
        reply = '{"idTokenInfo":{"status":"Accepted"}}' if tag else "{}"
        return iter(self.exchange(t, uid, "TransactionEvent", _dumps(body), reply, order, 0.2))

    def _notify(
        self,
        t: float,
        connector: int,
        uid: str,
        order: int,
        variable: str,
        component: str | None,
        tech_code: str | None,
        tech_info: str | None,
        cleared: bool,
    ) -> Iterator[tuple[float, int, str]]:
        entry: dict[str, object] = {
            "eventId": zlib.crc32(f"{self.charger}/{uid}".encode()) % 1_000_000,
            "timestamp": _iso(t),
            "trigger": "Alerting",
            "actualValue": "false" if cleared else "true",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": component or "EVSE", "evse": {"id": connector, "connectorId": 1}},
            "variable": {"name": variable},
        }
        if tech_code:
            entry["techCode"] = tech_code
        if tech_info:
            entry["techInfo"] = tech_info
        if cleared:
            entry["cleared"] = True
        payload = _dumps({"generatedAt": _iso(t), "seqNo": 0, "tbc": False, "eventData": [entry]})
        return iter(self.exchange(t, uid, "NotifyEvent", payload, "{}", order, 0.1))


def _iso(t: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
