"""The bundled sample feed: a seeded, realistic three-day OCPP log of a mixed network.

`write_sample(directory, seed)` writes `sample.jsonl` (contract 1, one frame per line,
in time order except the deliberate late, duplicate and bad lines) and `sites.yaml`.
The same seed gives the same bytes. 36 chargers on 5 sites (bot/sample/network.py),
OCPP 1.6 mostly, three on 2.0.1 and one on 2.1, from 2026-11-18 00:00Z to
2026-11-20 22:00Z; the first two days are lighter than the third.

Scenarios (also as data: SCENARIOS, name -> charger ids; days 1-3, times UTC):

- normal_sessions (all but the silent ones): sessions with MeterValues every 300 s
  (AC) or 60 s (DC); 2 per port on days 1-2, 4 on day 3.
- heartbeats (all): Heartbeat at the charger's interval whenever it is otherwise idle.
- estop, five phrasings: CP-005 F400 "EMERGENCY_STOP_BUTTON_1"; CP-012
  "[42300]Emergency stop button pressed"; CP-025 ChargeX CX008 "MREC8EmergencyStop";
  CP-027 vendorErrorCode "Release emergency button and reset charger"; CP-028
  (2.0.1) NotifyEvent EmergencyStopSensor Tripped.
- ground_fault_repeat CP-010: Zaptec 4096 GroundFailure on connector 1, four times.
- ground_fault_oneoff CP-002: ABB GroundFailure 0x0002 once (day 2).
- site_voltage_dip CP-001, CP-004 (both ports), CP-006, CP-007: Depot North, day 3
  05:42: UnderVoltage, Alfen 103, "DYING GASP", ABB 0x0010 within 80 s, then reboots.
- boot_phantom CP-018, CP-019, CP-021: Autel MaxiChargerAC reports Faulted +
  InternalError at every boot and Available seconds later (three boots each).
- quasar_after_boot CP-022: Wallbox Quasar Faulted code 7 for ~4 min after each boot.
- faulted_while_charging CP-024: Faulted (fan warning W0601) for over three hours on
  day 3 while the session's meter keeps rising.
- connector_lock_recurring CP-013: Zaptec 536870912 ConnectorLockFailure on
  connector 1, once a day.
- ev_comm_follows_idtag CP-009, CP-014, CP-017: idTag EV_COMM_TAG gets
  EVCommunicationError on three chargers, one a day.
- reset_failure CP-016: CSMS Reset (out), Accepted, then ResetFailure on connector 0
  until a power cycle 2.5 h later.
- power_meter_failure CP-011: Zaptec PowerMeterFailure (8) mid-session, day 3.
- reader_failure CP-015: KEBA ReaderFailure on connector 0, twice on day 3.
- flapping CP-020: Faulted/Available ten times in one hour (day 3, 13:00).
- faulted_no_error CP-023: Faulted with NoError and no codes (day 3).
- silent CP-003, CP-035: all traffic stops on day 3 (SILENT_FROM).
- reconnects CP-008 (+ the dip's reboots): a new BootNotification mid-run.
- duplicates CP-003: the same Faulted line three times (day 2).
- late_status CP-032: an older Faulted report arrives after the newer Available, and
  out of file order.
- boot_rejected CP-036: the first BootNotification is answered Rejected.
- call_errors CP-029: CALLERRORs NotSupported (ChangeConfiguration from the CSMS) and
  NotImplemented (the charger's DataTransfer).
- schema_violations CP-021 (info over 50 chars), CP-036 (zone-less payload
  timestamps), CP-033 (errorCode "Error").
- legrand_error CP-033: Legrand's non-standard errorCode "Error".
- bender_info CP-034: ebee/Bender info texts and their resolution texts.
- alfen_safe_mode CP-006: Alfen 210 "Modbus TCP/IP lost, in safe mode max 14.0A" on
  connector 0 (charging goes on, degraded).
- dc_module_fault CP-029: 0x6012 "DC output module Vol abnormal during idle time".
- chargex CP-025: EVerest codes with vendorId https://chargex.inl.gov (CX008, CX002).
- unknown_codes CP-012 (bare "10"), CP-026 (techCode TP-0x1F4), CP-027 ("Error(s)
  occurred in EVSE" / "See logging for more information"), CP-031
  ("StopReason:GlobalInterlockFail").
- hostile_text CP-017: `<!channel>`, `<https://evil.example|click>`, `@here`,
  `<!here>` in vendor fields.
- version_inferred CP-012, CP-019, CP-028: their lines carry no "ocpp" field.
- v201 CP-026, CP-028, CP-035: OCPP 2.0.1 (TransactionEvent; NotifyEvent Problem and
  Tripped). v21 CP-030: OCPP 2.1 NotifyEvent with severity.
- charger_stopped_delivering CP-034: a day-3 session whose energy register stays flat
  (0 W) for 45 minutes while the port still says Charging; charging_without_energy.
- vehicle_stopped_drawing CP-034: a day-2 session that goes SuspendedEV and stays flat
  for 40 minutes (a full battery); not a finding.
- bad_lines (CP-012, CP-029 and no charger at all): EXPECTED_BAD_LINES unreadable
  lines: truncated JSON, plain text, JSON that is no frame, message type 7, a string
  payload, a charger id with a space.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.sample.network import BY_ID, CHARGERS, SITES, Charger

START = datetime(2026, 11, 18, tzinfo=UTC)
END = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
CHARGEX = "https://chargex.inl.gov"
EV_COMM_TAG = "04E1A2B3C4D580"
EXPECTED_BAD_LINES = 6
SILENT_FROM = {
    "CP-003": datetime(2026, 11, 20, 11, 20, tzinfo=UTC),
    "CP-035": datetime(2026, 11, 20, 14, 40, tzinfo=UTC),
}

SCENARIOS: dict[str, list[str]] = {
    "normal_sessions": [c.id for c in CHARGERS if c.id not in SILENT_FROM],
    "heartbeats": [c.id for c in CHARGERS],
    "estop": ["CP-005", "CP-012", "CP-025", "CP-027", "CP-028"],
    "ground_fault_repeat": ["CP-010"],
    "ground_fault_oneoff": ["CP-002"],
    "site_voltage_dip": ["CP-001", "CP-004", "CP-006", "CP-007"],
    "boot_phantom": ["CP-018", "CP-019", "CP-021"],
    "quasar_after_boot": ["CP-022"],
    "faulted_while_charging": ["CP-024"],
    "connector_lock_recurring": ["CP-013"],
    "ev_comm_follows_idtag": ["CP-009", "CP-014", "CP-017"],
    "reset_failure": ["CP-016"],
    "power_meter_failure": ["CP-011"],
    "reader_failure": ["CP-015"],
    "flapping": ["CP-020"],
    "faulted_no_error": ["CP-023"],
    "silent": ["CP-003", "CP-035"],
    "reconnects": ["CP-008", "CP-001", "CP-004", "CP-006", "CP-007"],
    "duplicates": ["CP-003"],
    "late_status": ["CP-032"],
    "boot_rejected": ["CP-036"],
    "call_errors": ["CP-029"],
    "schema_violations": ["CP-021", "CP-036", "CP-033"],
    "legrand_error": ["CP-033"],
    "bender_info": ["CP-034"],
    "alfen_safe_mode": ["CP-006"],
    "dc_module_fault": ["CP-029"],
    "chargex": ["CP-025"],
    "unknown_codes": ["CP-012", "CP-026", "CP-027", "CP-031"],
    "hostile_text": ["CP-017"],
    "version_inferred": ["CP-012", "CP-019", "CP-028"],
    "v201": ["CP-026", "CP-028", "CP-035"],
    "v21": ["CP-030"],
    "bad_lines": ["CP-012", "CP-029"],
    "charger_stopped_delivering": ["CP-034"],
    "vehicle_stopped_drawing": ["CP-034"],
}

HOSTILE_INFO = "<!channel> <https://evil.example|click> @here"


@dataclass(frozen=True, slots=True)
class SamplePaths:
    feed: Path  # sample.jsonl
    sites: Path  # sites.yaml


def write_sample(directory: Path, seed: int = 7) -> SamplePaths:
    """Write sample.jsonl and sites.yaml into directory (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    feed = directory / "sample.jsonl"
    sites = directory / "sites.yaml"
    with open(feed, "w", encoding="utf-8", newline="\n") as out:
        for line in sample_lines(seed):
            out.write(line)
            out.write("\n")
    sites.write_text(sites_yaml(), encoding="utf-8")
    return SamplePaths(feed=feed, sites=sites)


def sites_yaml() -> str:
    """The sites file: site name -> address, timezone, chargers (contract 4)."""
    doc: dict[str, Any] = {"sites": {}}
    for site in SITES:
        doc["sites"][site.name] = {
            "address": site.address,
            "timezone": site.timezone,
            "chargers": [c.id for c in CHARGERS if c.site == site.name],
        }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def sample_lines(seed: int = 7) -> list[str]:
    """The sample feed as lines (no newlines), deterministic for the seed."""
    feed = _Feed(seed)
    _scenarios(feed)
    _sessions(feed)
    _no_energy(feed)
    _heartbeats(feed)
    return feed.render()


# --- the feed builder ------------------------------------------------------------------


def _at(day: int, hms: str) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return START + timedelta(days=day, hours=h, minutes=m, seconds=s[0] if s else 0)


def _iso(ts: datetime, zoneless: bool = False) -> str:
    text = ts.isoformat(timespec="milliseconds" if ts.microsecond else "seconds")
    return text[:-6] if zoneless else text[:-6] + "Z"


class _Feed:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.events: list[tuple[datetime, int, str, str]] = []  # ts, seq, charger, line
        self.seq = 0
        self.busy: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
        self.activity: dict[str, list[datetime]] = {}
        self.register: dict[tuple[str, int], float] = {}
        self.tx_counter = 1000
        self.duplicate: str | None = None
        self.late: tuple[datetime, str] | None = None

    # --- raw lines -------------------------------------------------------------------

    def uid(self) -> str:
        b = self.rng.getrandbits(128)
        h = f"{b:032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def line(self, ts: datetime, c: Charger, direction: str, frame: list[Any]) -> str:
        obj: dict[str, Any] = {"ts": _iso(ts), "charger": c.id, "dir": direction, "frame": frame}
        if c.declared:
            obj["ocpp"] = c.version
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    def add(self, ts: datetime, c: Charger, direction: str, frame: list[Any]) -> str:
        text = self.line(ts, c, direction, frame)
        self.seq += 1
        self.events.append((ts, self.seq, c.id, text))
        self.activity.setdefault(c.id, []).append(ts)
        return text

    def call(
        self,
        ts: datetime,
        c: Charger,
        action: str,
        payload: dict[str, Any],
        reply: dict[str, Any] | None = None,
        *,
        direction: str = "in",
        lag: float = 0.4,
    ) -> str:
        """A CALL and its CALLRESULT; returns the CALL's line."""
        uid = self.uid()
        text = self.add(ts, c, direction, [2, uid, action, payload])
        back = "out" if direction == "in" else "in"
        self.add(ts + timedelta(seconds=lag), c, back, [3, uid, reply or {}])
        return text

    def call_error(
        self,
        ts: datetime,
        c: Charger,
        action: str,
        payload: dict[str, Any],
        code: str,
        description: str,
        *,
        direction: str,
    ) -> None:
        uid = self.uid()
        self.add(ts, c, direction, [2, uid, action, payload])
        back = "out" if direction == "in" else "in"
        self.add(ts + timedelta(seconds=0.6), c, back, [4, uid, code, description, {}])

    def reserve(self, c: Charger, connector: int, start: datetime, end: datetime) -> None:
        margin = timedelta(minutes=10)
        self.busy.setdefault((c.id, connector), []).append((start - margin, end + margin))

    def is_free(self, c: Charger, connector: int, start: datetime, end: datetime) -> bool:
        return all(end <= a or start >= b for a, b in self.busy.get((c.id, connector), []))

    # --- messages ----------------------------------------------------------------------

    def status(
        self,
        ts: datetime,
        c: Charger,
        connector: int,
        status: str,
        error: str = "NoError",
        *,
        vendor_id: str | None = None,
        code: str | None = None,
        info: str | None = None,
        payload_ts: datetime | None = None,
    ) -> str:
        if c.version != "1.6":
            status2 = {"Preparing": "Occupied", "Charging": "Occupied", "Finishing": "Occupied"}
            payload: dict[str, Any] = {
                "timestamp": _iso(payload_ts or ts, c.zoneless),
                "connectorStatus": status2.get(status, status),
                "evseId": max(connector, 1),
                "connectorId": 1,
            }
        else:
            payload = {"connectorId": connector, "errorCode": error, "status": status}
            if vendor_id:
                payload["vendorId"] = vendor_id
            if code is not None:
                payload["vendorErrorCode"] = code
            if info is not None:
                payload["info"] = info
            payload["timestamp"] = _iso(payload_ts or ts, c.zoneless)
        return self.call(ts, c, "StatusNotification", payload, {}, lag=0.2)

    def fault(
        self,
        ts: datetime,
        c: Charger,
        connector: int,
        minutes: float,
        error: str = "OtherError",
        **fields: Any,
    ) -> datetime:
        """Faulted for a while, then Available; returns when it cleared."""
        end = ts + timedelta(minutes=minutes)
        self.reserve(c, connector, ts, end)
        self.status(ts, c, connector, "Faulted", error, **fields)
        self.status(end, c, connector, "Available")
        return end

    def notify(self, ts: datetime, c: Charger, entries: list[dict[str, Any]]) -> None:
        for n, entry in enumerate(entries):
            entry.setdefault("eventId", self.rng.randint(1000, 99999) + n)
            entry.setdefault("timestamp", _iso(ts))
            entry.setdefault("trigger", "Alerting")
            entry.setdefault("eventNotificationType", "HardWiredNotification")
        payload = {"generatedAt": _iso(ts), "seqNo": 0, "tbc": False, "eventData": entries}
        self.call(ts, c, "NotifyEvent", payload, {})

    def boot(
        self,
        ts: datetime,
        c: Charger,
        *,
        reply: str = "Accepted",
        reason: str = "PowerUp",
        connector_status: str | None = "Available",
    ) -> None:
        if c.version == "1.6":
            payload: dict[str, Any] = {
                "chargePointVendor": c.vendor,
                "chargePointModel": c.model,
                "chargePointSerialNumber": f"{c.id.replace('-', '')}{self.rng.randint(1000, 9999)}",
                "firmwareVersion": c.firmware,
            }
        else:
            payload = {
                "reason": reason,
                "chargingStation": {
                    "vendorName": c.vendor,
                    "model": c.model,
                    "serialNumber": f"{c.id.replace('-', '')}{self.rng.randint(1000, 9999)}",
                    "firmwareVersion": c.firmware,
                },
            }
        answer = {
            "currentTime": _iso(ts + timedelta(seconds=0.3)),
            "interval": c.heartbeat if reply == "Accepted" else 300,
            "status": reply,
        }
        self.call(ts, c, "BootNotification", payload, answer, lag=0.3)
        if reply != "Accepted" or connector_status is None:
            return
        t = ts + timedelta(seconds=2)
        if c.version == "1.6":
            self.status(t, c, 0, "Available")
        for connector in range(1, c.connectors + 1):
            self.status(t + timedelta(seconds=connector), c, connector, connector_status)

    # --- transactions --------------------------------------------------------------------

    def session(
        self,
        c: Charger,
        connector: int,
        start: datetime,
        minutes: int,
        *,
        tag: str | None = None,
        power_w: float | None = None,
        fault_after: float | None = None,
        fault: dict[str, Any] | None = None,
        fault_mode: str = "stop",
        stall_after: float | None = None,
        stall: str = "charger",
    ) -> datetime:
        """A charging session; returns when the port is Available again.

        fault_mode "stop": the fault ends the session; "continue": the port reports
        Faulted but keeps charging; "meter": the meter stops reporting.
        stall_after: minutes after which the energy register stays flat and power reads
        0 W; stall "charger" keeps the port Charging (the charger stopped delivering),
        "vehicle" reports SuspendedEV first (the vehicle stopped drawing).
        """
        rng = self.rng
        tag = tag or f"{rng.getrandbits(56):014X}"
        power = power_w or (rng.uniform(40000, 120000) if c.dc else rng.uniform(6500, 11000))
        interval = 60 if c.dc else 300
        key = (c.id, connector)
        energy = self.register.setdefault(key, float(rng.randint(1_000_000, 9_000_000)))
        self.tx_counter += 1
        tx = self.tx_counter
        two = c.version != "1.6"
        tx_id = f"{c.id}-{tx}"
        t = start
        self.status(t, c, connector, "Preparing")
        t += timedelta(seconds=rng.uniform(8, 25))
        if two:
            self._tx_event(t, c, connector, "Started", tx_id, energy, 0.0, tag, "Authorized")
        else:
            self.call(t, c, "Authorize", {"idTag": tag}, {"idTagInfo": {"status": "Accepted"}})
            t += timedelta(seconds=3)
            self.call(
                t,
                c,
                "StartTransaction",
                {
                    "connectorId": connector,
                    "idTag": tag,
                    "meterStart": int(energy),
                    "timestamp": _iso(t, c.zoneless),
                },
                {"idTagInfo": {"status": "Accepted"}, "transactionId": tx},
            )
            self.status(t + timedelta(seconds=2), c, connector, "Charging")
        end = t + timedelta(minutes=minutes)
        fault_at = t + timedelta(minutes=fault_after) if fault_after is not None else None
        metering = True
        step = t + timedelta(seconds=interval)
        faulted = False
        stall_at = t + timedelta(minutes=stall_after) if stall_after is not None else None
        stalled = False
        while step < end:
            if stall_at is not None and not stalled and step >= stall_at:
                stalled = True
                power = 0.0
                if stall == "vehicle":
                    self.status(stall_at, c, connector, "SuspendedEV")
            if fault_at is not None and not faulted and step >= fault_at:
                faulted = True
                if fault_mode == "stop":  # the charger ends the session, then reports
                    end = fault_at
                    break
                self.status(fault_at, c, connector, **(fault or {}))
                if fault_mode == "meter":
                    metering = False
            energy += power * interval / 3600.0
            if metering:
                self._meter(step, c, connector, tx, tx_id, energy, power)
            step += timedelta(seconds=interval)
        self.register[key] = energy
        reason = "Other" if faulted and fault_mode == "stop" else "EVDisconnected"
        if two:
            self._tx_event(
                end, c, connector, "Ended", tx_id, energy, 0.0, None, "EVDeparted", stopped=reason
            )
        else:
            self.call(
                end,
                c,
                "StopTransaction",
                {
                    "transactionId": tx,
                    "idTag": tag,
                    "meterStop": int(energy),
                    "timestamp": _iso(end, c.zoneless),
                    "reason": reason,
                },
                {"idTagInfo": {"status": "Accepted"}},
            )
        if faulted and fault_mode == "stop":
            self.status(end + timedelta(seconds=2), c, connector, **(fault or {}))
        elif not two:
            self.status(end + timedelta(seconds=2), c, connector, "Finishing")
        done = end + timedelta(seconds=rng.uniform(60, 240))
        self.status(done, c, connector, "Available")
        self.reserve(c, connector, start, done)
        return done

    def _meter(
        self,
        ts: datetime,
        c: Charger,
        connector: int,
        tx: int,
        tx_id: str,
        energy: float,
        power: float,
    ) -> None:
        if c.version != "1.6":
            self._tx_event(
                ts, c, connector, "Updated", tx_id, energy, power, None, "MeterValuePeriodic"
            )
            return
        values = [
            {
                "value": str(int(energy)),  # registers truncate, like meterStop
                "context": "Sample.Periodic",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {
                "value": f"{power:.0f}",
                "context": "Sample.Periodic",
                "measurand": "Power.Active.Import",
                "unit": "W",
            },
        ]
        payload = {
            "connectorId": connector,
            "transactionId": tx,
            "meterValue": [{"timestamp": _iso(ts, c.zoneless), "sampledValue": values}],
        }
        self.call(ts, c, "MeterValues", payload, {}, lag=0.2)

    def _tx_event(
        self,
        ts: datetime,
        c: Charger,
        evse: int,
        event: str,
        tx_id: str,
        energy: float,
        power: float,
        tag: str | None,
        trigger: str,
        *,
        stopped: str | None = None,
    ) -> None:
        info: dict[str, Any] = {"transactionId": tx_id}
        if stopped:
            info["stoppedReason"] = stopped
        payload: dict[str, Any] = {
            "eventType": event,
            "timestamp": _iso(ts),
            "triggerReason": trigger,
            "seqNo": 0,
            "transactionInfo": info,
            "evse": {"id": evse, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": _iso(ts),
                    "sampledValue": [
                        {
                            "value": int(energy) / 1000.0,  # whole Wh, as kWh
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "kWh"},
                        },
                        {
                            "value": round(power),
                            "measurand": "Power.Active.Import",
                            "unitOfMeasure": {"unit": "W"},
                        },
                    ],
                }
            ],
        }
        if tag:
            payload["idToken"] = {"idToken": tag, "type": "ISO14443"}
        reply = {"idTokenInfo": {"status": "Accepted"}} if tag else {}
        self.call(ts, c, "TransactionEvent", payload, reply, lag=0.3)

    # --- output ------------------------------------------------------------------------

    def render(self) -> list[str]:
        events = [e for e in self.events if e[2] not in SILENT_FROM or e[0] < SILENT_FROM[e[2]]]
        events.sort(key=lambda e: (e[0], e[1]))
        lines = [e[3] for e in events]
        times = [e[0] for e in events]
        # Deliberate disorder: duplicates, one late line, bad lines (see the docstring).
        if self.duplicate is not None:
            i = lines.index(self.duplicate)
            lines.insert(i + 1, self.duplicate)
            times.insert(i + 1, times[i])
            lines.insert(i + 40, self.duplicate)
            times.insert(i + 40, times[i + 39])
        if self.late is not None:
            late_ts, late_line = self.late
            i = next(n for n, t in enumerate(times) if t > late_ts + timedelta(minutes=3))
            lines.insert(i, late_line)
            times.insert(i, late_ts)
        for when, bad in _bad_lines():
            i = next(n for n, t in enumerate(times) if t >= when)
            lines.insert(i, bad)
            times.insert(i, when)
        header = (
            "# faultbot sample feed (contract 1): 36 chargers, 5 sites, "
            "2026-11-18..2026-11-20; see bot/sample/generate.py for the scenarios"
        )
        return [header, *lines]


def _bad_lines() -> list[tuple[datetime, str]]:
    """The deliberately unreadable lines and where they go (EXPECTED_BAD_LINES of them)."""
    return [
        (
            _at(0, "12:00:00"),
            '{"ts":"2026-11-18T12:00:00Z","charger":"CP-012","dir":"in","frame":[2,"9f1c",'
            '"StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Avail',
        ),
        (_at(1, "03:00:00"), "--- CSMS log rotated: ocpp-2026-11-19.log ---"),
        (
            _at(1, "09:30:00"),
            '{"ts":"2026-11-19T09:30:00Z","charger":"CP-029","dir":"in",'
            '"frame":{"connectorId":1,"status":"Available"},"ocpp":"1.6"}',
        ),
        (
            _at(2, "02:15:00"),
            '{"ts":"2026-11-20T02:15:00Z","charger":"CP-029","dir":"in",'
            '"frame":[7,"c0ffee01","Heartbeat",{}],"ocpp":"1.6"}',
        ),
        (
            _at(2, "08:45:00"),
            '{"ts":"2026-11-20T08:45:00Z","charger":"CP-012","dir":"in",'
            '"frame":[2,"c0ffee02","StatusNotification","Faulted"]}',
        ),
        (
            _at(2, "16:00:00"),
            '{"ts":"2026-11-20T16:00:00Z","charger":"CP 012","dir":"in",'
            '"frame":[2,"c0ffee03","Heartbeat",{}],"ocpp":"1.6"}',
        ),
    ]


# --- scenarios ---------------------------------------------------------------------------


def _scenarios(f: _Feed) -> None:
    c = BY_ID
    # Boots: a CSMS restart at midnight on day 1 brings every charger in.
    for n, charger in enumerate(CHARGERS):
        t = _at(0, "00:00:05") + timedelta(seconds=7 * n + f.rng.uniform(0, 5))
        if charger.id == "CP-036":
            f.boot(t, charger, reply="Rejected")
            f.boot(t + timedelta(minutes=5), charger)
        elif charger.id in SCENARIOS["boot_phantom"]:
            _phantom_boot(f, t, charger)
        elif charger.id == "CP-022":
            _quasar_boot(f, t, charger)
        else:
            f.boot(t, charger)

    # Autel boot phantom: nightly reboots on days 2 and 3, and the Quasar once.
    for day in (1, 2):
        for n, cid in enumerate(SCENARIOS["boot_phantom"]):
            _phantom_boot(f, _at(day, f"03:1{n}:0{n}"), c[cid])
    _quasar_boot(f, _at(2, "07:45:00"), c["CP-022"])

    # E-stops in five phrasings.
    f.fault(_at(2, "09:12:04"), c["CP-005"], 1, 35, code="F400", info="EMERGENCY_STOP_BUTTON_1")
    f.fault(
        _at(1, "16:40:31"),
        c["CP-012"],
        1,
        22,
        code="42300",
        info="[42300]Emergency stop button pressed",
    )
    f.fault(
        _at(2, "14:20:12"),
        c["CP-025"],
        1,
        11,
        vendor_id=CHARGEX,
        code="CX008",
        info="MREC8EmergencyStop",
    )
    f.fault(
        _at(2, "11:05:40"), c["CP-027"], 1, 48, code="Release emergency button and reset charger"
    )
    _estop_201(f, _at(0, "19:00:00"), c["CP-028"])

    # Ground faults: repeating on one Zaptec port, once on an ABB.
    for when, minutes in (
        ("0:13:05:10", 14),
        ("1:09:40:02", 9),
        ("2:07:15:44", 21),
        ("2:16:50:09", 33),
    ):
        day_text, hms = when.split(":", 1)
        f.fault(
            _at(int(day_text), hms),
            c["CP-010"],
            1,
            minutes,
            "GroundFailure",
            vendor_id="zaptec",
            code="4096",
            info="Ground fault, Try reconnecting cable",
        )
    f.fault(_at(1, "20:15:00"), c["CP-002"], 1, 17, "GroundFailure", vendor_id="ABB", code="0x0002")
    f.fault(
        _at(2, "10:02:00"),
        c["CP-025"],
        2,
        26,
        "GroundFailure",
        vendor_id=CHARGEX,
        code="CX002",
        info="MREC2GroundFailure",
    )

    _voltage_dip(f)

    # Connector lock failing on one port every day.
    for day, hms in ((0, "10:20:11"), (1, "10:05:52"), (2, "17:30:03")):
        f.fault(
            _at(day, hms),
            c["CP-013"],
            1,
            8 + 3 * day,
            "ConnectorLockFailure",
            vendor_id="zaptec",
            code="536870912",
            info="Unable to lock cable to charging station",
        )

    # EV communication errors that follow one RFID card across chargers.
    ev_fault = {"status": "Faulted", "error": "EVCommunicationError"}
    f.session(
        c["CP-009"],
        1,
        _at(0, "17:10:00"),
        40,
        tag=EV_COMM_TAG,
        fault_after=0.5,
        fault=ev_fault
        | {
            "vendor_id": "zaptec",
            "code": "64",
            "info": "Vehicle communication error, Inspect cable and car",
        },
    )
    f.session(
        c["CP-014"], 1, _at(1, "08:30:00"), 40, tag=EV_COMM_TAG, fault_after=0.4, fault=ev_fault
    )
    f.session(
        c["CP-017"],
        1,
        _at(2, "18:05:00"),
        40,
        tag=EV_COMM_TAG,
        fault_after=0.6,
        fault=ev_fault | {"code": "406"},
    )

    _reset_failure(f, c["CP-016"])

    # Fan warning surfaced as Faulted while the session goes on (hours).
    f.session(
        c["CP-024"],
        1,
        _at(2, "08:55:00"),
        215,
        power_w=48000,
        fault_after=20,
        fault={
            "status": "Faulted",
            "error": "OtherError",
            "code": "W0601",
            "info": "Cooling fan speed below nominal",
        },
        fault_mode="continue",
    )
    # Power meter failure mid-session.
    f.session(
        c["CP-011"],
        1,
        _at(2, "15:00:00"),
        75,
        power_w=10500,
        fault_after=25,
        fault={
            "status": "Charging",
            "error": "PowerMeterFailure",
            "vendor_id": "zaptec",
            "code": "8",
            "info": "Emeter communication error",
        },
        fault_mode="meter",
    )
    # Reader failure, twice.
    for hms, minutes in (("08:05:00", 12), ("12:00:30", 40)):
        t = _at(2, hms)
        f.reserve(c["CP-015"], 0, t, t + timedelta(minutes=minutes))
        f.status(t, c["CP-015"], 0, "Available", "ReaderFailure")
        f.status(t + timedelta(minutes=minutes), c["CP-015"], 0, "Available")

    # A flapping port: ten Faulted/Available cycles in an hour.
    t = _at(2, "13:00:20")
    for n in range(10):
        f.fault(t, c["CP-020"], 1, 2 + (n % 3), code="1")
        t += timedelta(minutes=6)

    f.fault(_at(2, "12:10:00"), c["CP-023"], 1, 30, "NoError")
    f.boot(_at(1, "06:10:00"), c["CP-008"])  # a reconnect, nothing wrong

    # Duplicates: the same Faulted frame delivered three times.
    t = _at(1, "14:02:07")
    f.reserve(c["CP-003"], 1, t, t + timedelta(minutes=18))
    f.duplicate = f.status(
        t, c["CP-003"], 1, "Faulted", "InternalError", vendor_id="ABB", code="0x0800"
    )
    f.status(t + timedelta(minutes=18), c["CP-003"], 1, "Available")

    _late_status(f, c["CP-032"])
    _call_errors(f, c["CP-029"])

    # Schema violations and dialects.
    f.fault(
        _at(1, "15:20:00"),
        c["CP-021"],
        1,
        12,
        "InternalError",
        info="Charging station reports internal error, see web portal for details",
    )
    f.fault(_at(2, "07:50:00"), c["CP-033"], 1, 30, "Error", vendor_id="Legrand")
    f.fault(_at(0, "21:40:00"), c["CP-033"], 1, 6, "Error", vendor_id="Legrand")
    f.fault(_at(2, "09:15:00"), c["CP-036"], 1, 9, "HighTemperature")
    _bender(f, c["CP-034"])
    f.fault(
        _at(1, "11:30:00"),
        c["CP-006"],
        0,
        95,
        info="Modbus TCP/IP lost, in safe mode max 14.0A",
        code="210",
    )
    f.fault(
        _at(2, "04:30:15"),
        c["CP-029"],
        2,
        55,
        code="0x6012",
        info="DC output module Vol abnormal during idle time",
    )

    # Codes nobody knows (yet).
    f.fault(_at(2, "13:30:00"), c["CP-012"], 1, 15, code="10")
    f.fault(_at(1, "13:30:00"), c["CP-012"], 1, 7, code="10")
    f.fault(
        _at(2, "19:20:00"),
        c["CP-027"],
        1,
        25,
        code="Error(s) occurred in EVSE",
        info="See logging for more information",
    )
    f.fault(_at(2, "06:20:00"), c["CP-031"], 1, 42, info="StopReason:GlobalInterlockFail")
    _unknown_201(f, c["CP-026"])
    f.fault(_at(2, "20:10:00"), c["CP-017"], 1, 12, code="<!here>", info=HOSTILE_INFO)
    _v21(f, c["CP-030"])


def _phantom_boot(f: _Feed, t: datetime, c: Charger) -> None:
    """Autel quirk: Faulted+InternalError at boot, Available seconds later."""
    f.boot(t, c, connector_status=None)
    t2 = t + timedelta(seconds=2)
    f.status(t2, c, 0, "Available")
    f.status(t2 + timedelta(seconds=1), c, 1, "Faulted", "InternalError")
    f.status(t2 + timedelta(seconds=1 + f.rng.randint(2, 6)), c, 1, "Available")
    f.reserve(c, 1, t, t + timedelta(minutes=1))


def _quasar_boot(f: _Feed, t: datetime, c: Charger) -> None:
    """Wallbox Quasar quirk: error state for minutes after a restart."""
    f.boot(t, c, connector_status=None)
    t2 = t + timedelta(seconds=3)
    f.status(t2, c, 0, "Available")
    f.fault(t2 + timedelta(seconds=1), c, 1, 4.2, code="7")


def _estop_201(f: _Feed, t: datetime, c: Charger) -> None:
    f.reserve(c, 1, t, t + timedelta(minutes=25))
    f.status(t, c, 1, "Faulted")
    entry = {
        "actualValue": "true",
        "techCode": "ESTOP_1",
        "techInfo": "Emergency stop pressed",
        "component": {"name": "EmergencyStopSensor", "evse": {"id": 1}},
        "variable": {"name": "Tripped"},
    }
    f.notify(t + timedelta(seconds=0.5), c, [entry])
    t2 = t + timedelta(minutes=25)
    f.notify(t2, c, [entry | {"actualValue": "false", "cleared": True}])
    f.status(t2 + timedelta(seconds=1), c, 1, "Available")


def _voltage_dip(f: _Feed) -> None:
    """A site-wide dip at Depot North: several ports fault within 80 s, then reboot."""
    c = BY_ID
    t = _at(2, "05:42:10")
    hits: list[tuple[Charger, int, int, dict[str, str]]] = [
        (c["CP-001"], 1, 0, {"error": "UnderVoltage"}),
        (c["CP-004"], 1, 12, {"error": "UnderVoltage", "code": "103"}),
        (c["CP-004"], 2, 13, {"error": "UnderVoltage", "code": "103"}),
        (c["CP-006"], 1, 41, {"error": "OtherError", "info": "DYING GASP"}),
        (c["CP-007"], 1, 78, {"error": "OtherError", "vendor_id": "ABB", "code": "0x0010"}),
    ]
    for charger, connector, offset, fields in hits:
        when = t + timedelta(seconds=offset)
        f.reserve(charger, connector, when, when + timedelta(minutes=8))
        f.status(when, charger, connector, "Faulted", fields["error"],
                 vendor_id=fields.get("vendor_id"), code=fields.get("code"),
                 info=fields.get("info"))
    for n, cid in enumerate(("CP-001", "CP-004", "CP-006", "CP-007")):
        f.boot(t + timedelta(minutes=4, seconds=20 * n), c[cid])


def _reset_failure(f: _Feed, c: Charger) -> None:
    t = _at(2, "10:30:00")
    f.reserve(c, 0, t, t + timedelta(hours=2, minutes=35))
    f.reserve(c, 1, t, t + timedelta(hours=2, minutes=35))
    f.call(t, c, "Reset", {"type": "Soft"}, {"status": "Accepted"}, direction="out", lag=0.8)
    f.status(t + timedelta(seconds=50), c, 0, "Faulted", "ResetFailure")
    f.boot(t + timedelta(hours=2, minutes=30), c)  # someone power-cycled it at the breaker


def _late_status(f: _Feed, c: Charger) -> None:
    t = _at(2, "09:58:00")
    f.reserve(c, 1, t, t + timedelta(minutes=25))
    f.status(t, c, 1, "Faulted", "HighTemperature")
    f.status(t + timedelta(minutes=22), c, 1, "Available")
    # The charger's buffered older report, delivered after the newer Available.
    older = t + timedelta(minutes=21, seconds=30)
    frame = [
        2,
        f.uid(),
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "HighTemperature",
            "status": "Faulted",
            "timestamp": _iso(older),
        },
    ]
    f.late = (
        t + timedelta(minutes=22, seconds=40),
        f.line(t + timedelta(minutes=22, seconds=40), c, "in", frame),
    )


def _call_errors(f: _Feed, c: Charger) -> None:
    f.call_error(
        _at(1, "11:00:00"),
        c,
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "60"},
        "NotSupported",
        "Configuration key is read-only",
        direction="out",
    )
    f.call_error(
        _at(2, "03:40:00"),
        c,
        "DataTransfer",
        {"vendorId": "com.autel", "messageId": "diagUpload", "data": "ZGlhZw=="},
        "NotImplemented",
        "Unknown vendorId",
        direction="in",
    )


def _bender(f: _Feed, c: Charger) -> None:
    t = _at(1, "18:20:00")
    f.reserve(c, 1, t, t + timedelta(minutes=12))
    f.status(t, c, 1, "Faulted", "GroundFailure", info="Residual current detected via sensor")
    f.status(
        t + timedelta(minutes=12), c, 1, "Available", info="Residual current situation resolved"
    )
    t = _at(2, "21:10:00")
    f.reserve(c, 1, t, t + timedelta(minutes=9))
    f.status(
        t, c, 1, "Faulted", "GroundFailure", info="RCD may be triggered (OCPP meter power loss)"
    )
    f.status(
        t + timedelta(minutes=9),
        c,
        1,
        "Available",
        info="RCD may be reconnected (OCPP meter recovered)",
    )


def _unknown_201(f: _Feed, c: Charger) -> None:
    """OCPP 2.0.1: an unknown vendor techCode, and an overcurrent trip."""
    for day, hms, minutes in ((1, "14:10:00", 20), (2, "11:40:00", 35)):
        t = _at(day, hms)
        f.reserve(c, 2, t, t + timedelta(minutes=minutes))
        f.status(t, c, 2, "Faulted")
        entry = {
            "actualValue": "true",
            "techCode": "TP-0x1F4",
            "techInfo": "PSU stage 3 fault",
            "component": {"name": "EVSE", "evse": {"id": 2}},
            "variable": {"name": "Problem"},
        }
        f.notify(t + timedelta(seconds=0.4), c, [entry])
        t2 = t + timedelta(minutes=minutes)
        f.notify(t2, c, [entry | {"actualValue": "false", "cleared": True}])
        f.status(t2 + timedelta(seconds=1), c, 2, "Available")
    t = _at(2, "17:05:00")
    f.reserve(c, 1, t, t + timedelta(minutes=15))
    f.status(t, c, 1, "Faulted")
    f.notify(
        t + timedelta(seconds=0.3),
        c,
        [
            {
                "actualValue": "true",
                "component": {"name": "OverCurrentProtection", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "Tripped"},
            }
        ],
    )
    f.status(t + timedelta(minutes=15), c, 1, "Available")


def _v21(f: _Feed, c: Charger) -> None:
    t = _at(2, "15:45:00")
    f.reserve(c, 1, t, t + timedelta(minutes=50))
    f.status(t, c, 1, "Faulted")
    entry = {
        "actualValue": "true",
        "techCode": "CX017",
        "techInfo": "EVSEContactorFault",
        "severity": 2,
        "component": {"name": "PowerContactor", "evse": {"id": 1}},
        "variable": {"name": "Problem"},
    }
    f.notify(t + timedelta(seconds=0.5), c, [entry])
    t2 = t + timedelta(minutes=50)
    f.notify(t2, c, [entry | {"actualValue": "false", "cleared": True}])
    f.status(t2 + timedelta(seconds=1), c, 1, "Available")


# --- background traffic -------------------------------------------------------------------


def _sessions(f: _Feed) -> None:
    """Ordinary sessions: two per port on days 1 and 2, four on day 3."""
    rng = f.rng
    for c in CHARGERS:
        for connector in range(1, c.connectors + 1):
            for day, count in ((0, 2), (1, 2), (2, 4)):
                placed = tries = 0
                while placed < count and tries < 30:
                    tries += 1
                    start = _at(day, "05:30:00") + timedelta(minutes=rng.randint(0, 15 * 60))
                    minutes = rng.randint(12, 40) if c.dc else rng.randint(25, 95)
                    end = start + timedelta(minutes=minutes + 6)
                    if end > END or not f.is_free(c, connector, start, end):
                        continue
                    f.session(c, connector, start, minutes)
                    placed += 1


def _no_energy(f: _Feed) -> None:
    """The two flat-meter sessions, placed after the ordinary ones on a side stream of
    random numbers, so the rest of the feed (and its transaction ids) stays as it was."""
    main, f.rng = f.rng, random.Random(f"no-energy-{f.seed}")
    try:
        c = BY_ID["CP-034"]
        for day, stall in ((2, "charger"), (1, "vehicle")):
            flat = 45 if stall == "charger" else 40
            minutes = f.rng.randint(20, 40) + flat
            for _ in range(60):
                start = _at(day, "06:00:00") + timedelta(minutes=f.rng.randint(0, 13 * 60))
                end = start + timedelta(minutes=minutes + 6)
                if f.is_free(c, 1, start, end):
                    f.session(c, 1, start, minutes, stall_after=minutes - flat, stall=stall)
                    break
    finally:
        f.rng = main


def _heartbeats(f: _Feed) -> None:
    """A Heartbeat whenever a charger has been quiet for its interval."""
    for c in CHARGERS:
        times = sorted(f.activity.get(c.id, []))
        if not times:
            continue
        step = timedelta(seconds=c.heartbeat)
        stop = SILENT_FROM.get(c.id, END)
        beats: list[datetime] = []
        for here, there in zip(times, [*times[1:], stop], strict=True):
            t = here + step
            while t < there and t < stop:
                beats.append(t)
                t += step
        for t in beats:
            jitter = timedelta(milliseconds=f.rng.randint(0, 900))
            f.call(t + jitter, c, "Heartbeat", {}, {"currentTime": _iso(t + jitter)}, lag=0.1)
