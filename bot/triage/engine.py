"""The deterministic triage core: every message in, diagnoses out. No LLM, no database.

Feed every message in order (`observe`): boots, heartbeats, statuses, meter values and
transactions build the history the rules need; each fault-bearing message (contract 2)
gets exactly one Diagnosis at once. Later evidence can produce *superseding* diagnoses
for an earlier message (`Diagnosis.supersedes`, same `message_fingerprint`): a boot
fault that recovered inside its window (phantom_boot_fault), a Faulted port whose meter
kept rising (fault_while_charging), a power fault that turned out to be site-wide, an
EV-comm fault that turned out to follow one vehicle, a 2.x Faulted status whose cause
arrived in a NotifyEvent. Call `tick(now)` periodically for time-based rules.

Side channels for the stages after triage: `recent_unknown_codes()` and
`take_energy_suspect_sessions()` (drained by the caller), `flapping_ports()`,
`silent_chargers()`, and `port_view()` / `charger_view()` for `why`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.kb.types import Match, MatchQuery
from bot.ocpp.events import (
    CALL,
    CONNECTION,
    HEALTHY_STATUSES,
    TABLE_SOURCE,
    BootInfo,
    BootReply,
    EventReport,
    Message,
    ProblemEvent,
    StatusReport,
    TransactionUpdate,
)
from bot.triage.config import TriageConfig
from bot.triage.diagnosis import Diagnosis
from bot.triage.phrasing import Phrasebook, default_phrasebook
from bot.triage.ports import KnowledgeLike, MatcherLike, QuirkLike, SitesLike
from bot.triage.rules import TICK_PORT_RULES, decide
from bot.triage.rules.base import Fault, FaultContext, Verdict, cap
from bot.triage.rules.charging import fault_while_charging
from bot.triage.rules.energy import stalled_long_enough, track_reading
from bot.triage.rules.no_information import informative
from bot.triage.rules.phantom import phantom_verdict
from bot.triage.rules.silent import silent_charger
from bot.triage.rules.site_wide import POWER_CATEGORIES
from bot.triage.rules.vehicle import VEHICLE_CATEGORIES
from bot.triage.state import (
    LRU,
    ChargerState,
    FaultRecord,
    ModelStats,
    PortState,
    prune,
)
from bot.triage.views import (
    ChargerView,
    FlapInfo,
    PortEvent,
    PortView,
    SessionInfo,
    SuspectSession,
    UnknownSighting,
)
from bot.vocab import Category, Owner, Severity

log = logging.getLogger(__name__)

STANDARD_16_CODES = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "NoError",
        "OtherError",
        "OverCurrentFailure",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "OverVoltage",
        "WeakSignal",
    }
)

_MATCH_EVIDENCE_CAP = 300


# Match methods that explain a fault without a table entry for the vendor code it sent
# (a reading of its words is a guess):
# that code is still "unknown" and is recorded so an operator can teach it.
_NOT_BY_CODE = frozenset({"standard", "vendor_standard", "none", "words"})

def _decisive_first(match: Match) -> list[str]:
    """The matcher's evidence with the line naming what matched first: the misses it
    tried on the way (a code not in the manual) come after, so a shortened list still
    names the thing that decided."""
    if match.entry is None:
        return list(match.evidence)
    hits = [e for e in match.evidence if " matched " in e]
    return hits + [e for e in match.evidence if " matched " not in e]


class TriageEngine:
    def __init__(
        self,
        kb: KnowledgeLike,
        matcher: MatcherLike,
        sites: SitesLike | None = None,
        *,
        config: TriageConfig | None = None,
        phrases: Phrasebook | None = None,
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.sites = sites
        self.cfg = cfg = config or TriageConfig()
        self.say = phrases or default_phrasebook()
        self._chargers: LRU = LRU(cfg.max_chargers)
        self._models: LRU = LRU(10_000)
        self._site_faults: LRU = LRU(cfg.max_chargers)  # site -> deque[FaultRecord]
        self._vehicles: LRU = LRU(cfg.max_vehicles)  # idTag -> deque[FaultRecord]
        self._seen: LRU = LRU(cfg.max_seen_faults)  # fingerprint -> FaultRecord
        self._unknown: deque[UnknownSighting] = deque(maxlen=cfg.max_pending_side_channel)
        self._suspect: deque[SuspectSession] = deque(maxlen=cfg.max_pending_side_channel)
        self._flapping: dict[tuple[str, int], FlapInfo] = {}
        # ports whose meter stayed flat long enough, for the next tick (charging_without_energy)
        self._stalls: dict[tuple[str, int], None] = {}
        self._uninformative = frozenset(cfg.uninformative_texts)
        # fault records older than every history window are dropped from the port
        self._fault_horizon_s = max(cfg.policy.recurrence_window_s, cfg.safety_repeat_window_s,
                                    cfg.policy.flapping_window_s)
        self._handlers: dict[type, Callable[[Message, ChargerState, Any], list[Diagnosis]]] = {
            StatusReport: self._on_status,
            TransactionUpdate: self._on_transaction,
            BootInfo: self._on_boot,
            BootReply: self._on_boot_reply,
            EventReport: self._on_event,
        }

    # --- public API -------------------------------------------------------------------

    def observe(self, message: Message) -> list[Diagnosis]:
        """Take one message (in order); return the diagnoses it produced (often none)."""
        cs = self._charger(message.charger)
        # A connection event is not the charger talking (a disconnect least of all).
        if message.direction == "in" and message.message_type != CONNECTION:
            if cs.last_in is None or message.ts > cs.last_in:
                cs.last_in = message.ts
            cs.silent = None  # it talks again
        elif message.action == "Reset" and message.message_type == CALL:
            cs.reset_requested_at = message.occurred_at
        fact = message.fact
        if fact is None:
            return []
        handler = self._handlers.get(type(fact))
        if handler is None:
            return []
        return handler(message, cs, fact)

    def observe_many(self, messages: Iterable[Message]) -> list[Diagnosis]:
        out: list[Diagnosis] = []
        for m in messages:
            out.extend(self.observe(m))
        return out

    def tick(self, now: datetime) -> list[Diagnosis]:
        """Time-based rules: charging without energy (once per stall), silent chargers (once
        per silence), flapping that calmed down."""
        out: list[Diagnosis] = []
        cfg, say = self.cfg, self.say
        if self._stalls:
            self._stall_checks(now, out)
        for cs in self._chargers.values():
            if cs.silent is not None or cs.last_in is None:
                continue
            verdict = silent_charger(cs, now, cfg, say)
            if verdict is not None:
                cs.silent = self._diagnosis(verdict, cs.charger, None, now, "")
                out.append(cs.silent)
        calm_before = now - timedelta(seconds=cfg.policy.flapping_window_s)
        for key in [k for k, info in self._flapping.items() if self._last_onset(k) < calm_before]:
            del self._flapping[key]
            port = self._known_port(*key)
            if port is not None:
                port.flapping_since = None
        return out

    def _stall_checks(self, now: datetime, out: list[Diagnosis]) -> None:
        """The ports whose meter has been flat long enough (noted by _on_transaction),
        judged on the feed clock's grid; most ticks have none, so a tick stays cheap."""
        due, self._stalls = self._stalls, {}
        for charger, connector in due:
            cs = self._chargers.get(charger)
            port = cs.ports.get(connector) if cs is not None else None
            if cs is None or port is None or port.session is None:
                continue  # the session ended before the tick
            self._stall_check(cs, port, port.session, now, out)

    def _stall_check(self, cs: ChargerState, port: PortState, session: SessionInfo,
                     now: datetime, out: list[Diagnosis]) -> None:
        for rule in TICK_PORT_RULES:
            verdict = rule(port, session, now, self.cfg, self.say)
            if verdict is None:
                continue
            out.append(self._diagnosis(verdict, cs.charger, port.connector, now, ""))
            port.history.append(PortEvent(now, "fault", port.status, verdict.rule))

    def recent_unknown_codes(self) -> list[UnknownSighting]:
        """Vendor codes the knowledge base did not know, since the last call (drained)."""
        out = list(self._unknown)
        self._unknown.clear()
        return out

    def take_energy_suspect_sessions(self) -> list[SuspectSession]:
        """Sessions whose energy is suspect (PowerMeterFailure), since the last call."""
        out = list(self._suspect)
        self._suspect.clear()
        return out

    def flapping_ports(self) -> list[FlapInfo]:
        return list(self._flapping.values())

    def is_flapping(self, charger: str, connector: int) -> bool:
        return (charger, connector) in self._flapping

    def silent_chargers(self) -> list[Diagnosis]:
        return [cs.silent for cs in self._chargers.values() if cs.silent is not None]

    def port_view(self, charger: str, connector: int) -> PortView | None:
        """A port's recent history, current diagnosis and what was ignored; None if unseen."""
        port = self._known_port(charger, connector)
        if port is None:
            return None
        return self._view_of(charger, port)

    def charger_view(self, charger: str) -> ChargerView | None:
        cs = self._chargers.get(charger)
        if cs is None:
            return None
        return ChargerView(
            charger=charger,
            site=self._site(cs),
            vendor=cs.vendor or cs.vendor_sent,
            model=cs.model,
            firmware=cs.firmware,
            last_seen=cs.last_in,
            heartbeat_interval_s=cs.interval_s,
            last_boot=cs.boot_at,
            silent=cs.silent,
            ports=[self._view_of(charger, p) for _, p in sorted(cs.ports.items())],
        )

    def chargers(self) -> list[str]:
        return list(self._chargers.keys())

    # --- checkpoint -------------------------------------------------------------------

    _STATE = ("_chargers", "_models", "_site_faults", "_vehicles", "_seen", "_flapping",
              "_stalls")

    def export_state(self) -> dict[str, Any]:
        """Everything the rules remember (plain data, picklable) for the fold checkpoint.
        The side channels are not included: the pipeline drains them every batch."""
        return {name: getattr(self, name) for name in self._STATE}

    def import_state(self, state: dict[str, Any]) -> None:
        """Take over a state from `export_state` (of this engine's code version)."""
        for name in self._STATE:
            setattr(self, name, state[name])
        for cs in self._chargers.values():
            cs.quirks_key = None  # quirks come from the knowledge base, which may have changed
        self._unknown.clear()
        self._suspect.clear()

    # --- state access -----------------------------------------------------------------

    def _charger(self, charger: str) -> ChargerState:
        cs = self._chargers.touch(charger)
        if cs is None:
            cs = ChargerState(charger)
            self._chargers.put(charger, cs)
        return cs

    def _port(self, cs: ChargerState, connector: int) -> PortState:
        port = cs.ports.get(connector)
        if port is None:
            cfg = self.cfg
            port = PortState(connector, cfg.max_port_history, cfg.max_port_faults, cfg.max_ignored)
            # A charger inventing connector ids must not grow memory: past the cap the
            # report is still diagnosed, but its port keeps no history.
            if len(cs.ports) < cfg.max_ports_per_charger:
                cs.ports[connector] = port
        return port

    def _known_port(self, charger: str, connector: int) -> PortState | None:
        cs = self._chargers.get(charger)
        return None if cs is None else cs.ports.get(connector)

    def _site(self, cs: ChargerState) -> str:
        if cs.site is None:
            cs.site = self.sites.site_of(cs.charger) if self.sites is not None else cs.charger
        return cs.site

    def _model_stats(self, cs: ChargerState, create: bool = False) -> ModelStats | None:
        if not cs.model:
            return None
        key = (cs.vendor or cs.vendor_sent, cs.model)
        stats = self._models.get(key)
        if stats is None and create:
            stats = ModelStats()
            self._models.put(key, stats)
        return stats

    def _quirks(self, cs: ChargerState, vendor_sent: str | None) -> tuple[QuirkLike, ...]:
        vendor = cs.vendor
        if vendor is None and vendor_sent:
            vendor = self.kb.resolve_vendor(vendor_sent, cs.model) or vendor_sent
        key = (vendor, cs.model, cs.firmware)
        if cs.quirks_key != key:
            cs.quirks = tuple(self.kb.quirks_for(vendor, cs.model, cs.firmware)) if vendor else ()
            cs.quirks_key = key
        return cs.quirks

    def _last_onset(self, key: tuple[str, int]) -> datetime:
        port = self._known_port(*key)
        if port is None or not port.onsets:
            return datetime.min.replace(tzinfo=UTC)
        return port.onsets[-1]

    # --- handlers ---------------------------------------------------------------------

    def _on_boot(self, m: Message, cs: ChargerState, f: BootInfo) -> list[Diagnosis]:
        if m.direction != "in":
            return []
        cs.vendor_sent = f.vendor or cs.vendor_sent
        cs.model = f.model or cs.model
        cs.firmware = f.firmware or cs.firmware
        if cs.vendor_sent:
            cs.vendor = self.kb.resolve_vendor(cs.vendor_sent, cs.model) or cs.vendor_sent
        if m.source == TABLE_SOURCE:
            return []  # identity read from the CSMS's table at poll time: not a reboot
        cs.boot_at = m.occurred_at
        cs.boot_faults.clear()
        stats = self._model_stats(cs, create=True)
        if stats is not None:
            stats.boots += 1
        self._port(cs, 0).history.append(PortEvent(m.occurred_at, "boot", None, f.model or ""))
        return []

    def _on_boot_reply(self, m: Message, cs: ChargerState, f: BootReply) -> list[Diagnosis]:
        if f.interval and f.interval > 0:
            cs.interval_s = float(f.interval)
        return []

    def _on_status(self, m: Message, cs: ChargerState, f: StatusReport) -> list[Diagnosis]:
        # 2.x: the EVSE is the port (one connector per EVSE in practice); 1.6: the connector.
        port_no = f.evse if (f.evse is not None and m.ocpp_version != "1.6") else f.connector
        port = self._port(cs, port_no)
        ts = m.occurred_at
        late = port.status_at is not None and ts < port.status_at
        if f.fault_bearing:
            if m.fingerprint in self._seen:
                return []  # the same frame delivered twice
            return self._fault_from_status(m, cs, port, f, late)
        if late:
            return []  # an older report after a newer one: history only, no state change
        changed = port.status != f.status
        self._set_status(port, f, ts)
        if changed:
            port.history.append(PortEvent(ts, "status", f.status, f.error_code or ""))
        if port.open_fault is not None and f.status in HEALTHY_STATUSES:
            return self._recovered(cs, port, ts, f.status)
        return []

    def _set_status(self, port: PortState, f: StatusReport, ts: datetime) -> None:
        if port.status != f.status:
            port.status_since = ts
        port.status = f.status
        port.status_at = ts

    def _fault_from_status(self, m: Message, cs: ChargerState, port: PortState,
                           f: StatusReport, late: bool) -> list[Diagnosis]:
        ts = m.occurred_at
        v2 = m.ocpp_version != "1.6"
        prev_status = port.status
        onset = not late and (prev_status != f.status or port.open_fault is None)
        if not late:
            self._set_status(port, f, ts)
            if f.faulted and prev_status != "Faulted":
                port.onsets.append(ts)
        notes: list[str] = []
        if v2:
            fault = self._v2_status_fault(cs, port, f, ts, notes)
            if fault.query_code is not None:
                onset = False  # the NotifyEvent already opened this episode
        else:
            code = f.error_code
            query = code
            if code is not None and code not in STANDARD_16_CODES:
                query = "OtherError"
            fault = Fault(
                port=port.connector,
                status=f.status,
                faulted=f.faulted,
                error_code=code,
                query_code=query,
                vendor_code=f.vendor_error_code,
                info=f.info,
                vendor_sent=f.vendor_id or cs.vendor_sent,
                notes=notes,
            )
            if query != code:
                notes.append("__invalid_error_code__")
        diags = self._diagnose(m, cs, port, fault, onset=onset, late=late)
        if late and port.status in HEALTHY_STATUSES:
            for d in diags:
                d.recovered_at = port.status_at
        if fault.v2 and fault.query_code is None and diags:
            rec = self._seen.get(m.fingerprint)
            if rec is not None:
                rec.v2_unexplained = True
        return diags

    def _v2_status_fault(self, cs: ChargerState, port: PortState, f: StatusReport,
                         ts: datetime, notes: list[str]) -> Fault:
        problem = None
        if port.last_problem is not None:
            at, p = port.last_problem
            if abs((ts - at).total_seconds()) <= self.cfg.v2_pairing_s:
                problem = p
                notes.append(self.say.evidence("v2_cause", component=p.component,
                                               variable=p.variable, at=at))
        return Fault(
            port=port.connector,
            status=f.status,
            faulted=f.faulted,
            error_code=None,
            query_code=f"{problem.component}/{problem.variable}" if problem else None,
            vendor_code=problem.tech_code if problem else None,
            info=problem.tech_info if problem else None,
            vendor_sent=cs.vendor_sent,
            v2=True,
            notes=notes,
        )

    def _on_event(self, m: Message, cs: ChargerState, f: EventReport) -> list[Diagnosis]:
        ts = m.occurred_at
        out: list[Diagnosis] = []
        open_problems: list[ProblemEvent] = []
        for p in f.problems:
            port = self._port(cs, p.evse if p.evse is not None else 0)
            if p.cleared:
                port.last_problem = None
                if port.open_fault is not None and port.status != "Faulted":
                    out.extend(self._recovered(cs, port, ts, "cleared"))
            else:
                open_problems.append(p)
        if not open_problems or m.fingerprint in self._seen:
            return out
        # One diagnosis per message: the problem that matters most speaks for it.
        scored = []
        for p in open_problems:
            fault = self._event_fault(cs, p)
            match = self.matcher.match(self._query(cs, fault))
            e = match.entry
            scored.append(((e is not None, e.severity.rank if e else -1, match.confidence),
                           p, fault))
        scored.sort(key=lambda t: t[0], reverse=True)
        _, best, fault = scored[0]
        for _, p, _f in scored[1:]:
            fault.notes.append(self.say.evidence("also_reported", component=p.component,
                                                 variable=p.variable,
                                                 code=cap(p.tech_code, 60)))
        port = self._port(cs, fault.port)
        port.last_problem = (ts, best)
        pending = port.open_fault
        onset = not (pending is not None and pending.v2_unexplained
                     and abs((ts - pending.ts).total_seconds()) <= self.cfg.v2_pairing_s)
        diags = self._diagnose(m, cs, port, fault, onset=onset, late=False)
        out.extend(diags)
        if not onset and pending is not None and diags:
            # The Faulted status that came first now has its cause.
            d = diags[0]
            verdict = _verdict_of(d)
            sup = self._supersede(pending, verdict, [
                *pending.base_evidence,
                self.say.evidence("v2_cause", component=best.component,
                                  variable=best.variable, at=ts)])
            if sup is not None:
                pending.v2_unexplained = False
                out.append(sup)
        return out

    def _event_fault(self, cs: ChargerState, p: ProblemEvent) -> Fault:
        return Fault(
            port=p.evse if p.evse is not None else 0,
            status=None,
            faulted=True,
            error_code=None,
            query_code=f"{p.component}/{p.variable}",
            vendor_code=p.tech_code,
            info=p.tech_info,
            vendor_sent=cs.vendor_sent,
            v2=True,
            notes=[],
        )

    def _on_transaction(self, m: Message, cs: ChargerState,
                        f: TransactionUpdate) -> list[Diagnosis]:
        ts = m.occurred_at
        tx = f.transaction_id
        # 2.x: the EVSE is the port, as for status reports (connectorId is within it)
        port_no = f.evse if (f.evse is not None and m.ocpp_version != "1.6") else f.connector
        if port_no is None:
            port_no = cs.tx_ports.get(tx or "")
        if port_no is None and f.kind == "start" and tx:
            # 1.6: the transaction id arrives in the CALLRESULT; give it to the open session.
            for no, p in cs.ports.items():
                if p.session is not None and p.session.transaction_id is None:
                    port_no = no
                    break
        if port_no is None:
            return []
        port = self._port(cs, port_no)
        session = port.session
        if f.kind == "start":
            if session is not None and (session.transaction_id in (None, tx)):
                session.transaction_id = session.transaction_id or tx
                session.id_tag = session.id_tag or f.id_tag
            else:
                if session is not None:
                    port.last_session = session
                session = SessionInfo(tx, f.id_tag, ts)
                port.session = session
                port.history.append(PortEvent(ts, "session_start", port.status, f.id_tag or ""))
            if tx:
                self._map_tx(cs, tx, port_no)
        elif session is None:
            if f.kind == "stop" or tx is None:
                return []
            session = SessionInfo(tx, f.id_tag, ts)  # joined mid-session
            port.session = session
            self._map_tx(cs, tx, port_no)
        if f.id_tag and not session.id_tag:
            session.id_tag = f.id_tag
        if f.charging_state is not None:
            session.charging_state = f.charging_state
        if f.soc is not None:
            session.soc = f.soc
        if (f.energy_wh is not None or f.power_w is not None) and self.cfg.no_energy_rule:
            track_reading(session, ts, f.energy_wh, f.power_w, self.cfg)
            if (session.flat_readings and not session.flat_checked
                    and stalled_long_enough(session, self.cfg)):
                self._stalls[(cs.charger, port_no)] = None  # the next tick judges it
        out: list[Diagnosis] = []
        if f.energy_wh is not None:
            if session.first_wh is None:
                session.first_wh = f.energy_wh
            session.last_wh = f.energy_wh
            session.last_meter_at = ts
            out = self._meter_check(cs, port, f.energy_wh, session)
        if f.kind == "stop":
            session.stopped_at = ts
            port.last_session = session
            port.session = None
            if session.transaction_id:
                cs.tx_ports.pop(session.transaction_id, None)
            port.history.append(PortEvent(ts, "session_stop", port.status, f.reason or ""))
        return out

    def _map_tx(self, cs: ChargerState, tx: str, port_no: int) -> None:
        cs.tx_ports[tx] = port_no
        while len(cs.tx_ports) > self.cfg.max_open_transactions:
            del cs.tx_ports[next(iter(cs.tx_ports))]

    def _meter_check(self, cs: ChargerState, port: PortState, energy_wh: float,
                     session: SessionInfo) -> list[Diagnosis]:
        out: list[Diagnosis] = []
        candidates = [port.open_fault]
        if port.connector != 0 and 0 in cs.ports:
            candidates.append(cs.ports[0].open_fault)
        for rec in candidates:
            if rec is None or not rec.faulted or rec.diagnosis.suppressed:
                continue
            if rec.diagnosis.severity is Severity.SAFETY or rec.category in _NEVER_ADVISORY:
                continue  # energy flowing through a safety fault is no comfort
            if "fault_while_charging" in rec.rules:
                continue
            if rec.energy_at_fault is None:
                rec.energy_at_fault = energy_wh  # first reading after the fault: the baseline
                continue
            rise = energy_wh - rec.energy_at_fault
            if rise >= self.cfg.charging_rise_wh:
                verdict = fault_while_charging(rec, rise, session.transaction_id, self.say)
                sup = self._supersede(rec, verdict, verdict.evidence)
                if sup is not None:
                    out.append(sup)
        return out

    def _recovered(self, cs: ChargerState, port: PortState, ts: datetime,
                   status: str) -> list[Diagnosis]:
        rec = port.open_fault
        port.open_fault = None
        if rec is None:
            return []
        port.history.append(PortEvent(ts, "recovered", status, rec.diagnosis.rule))
        out: list[Diagnosis] = []
        boot_rec = next((r for r in cs.boot_faults if r.port == port.connector), None)
        if boot_rec is None:
            return out
        cs.boot_faults.remove(boot_rec)
        if cs.boot_at is None or boot_rec.boot_window_s is None:
            return out
        age = (ts - cs.boot_at).total_seconds()
        if not 0 <= age <= boot_rec.boot_window_s:
            return out  # recovered too late: not a phantom
        quirk = next((q for q in cs.quirks if q.kind == "boot_fault_window"), None)
        if quirk is None and boot_rec.category not in _PHANTOM_OK:
            return out  # a specific fault (ground, e-stop...) that cleared is not the pattern
        stats = self._model_stats(cs, create=True)
        if stats is not None:
            stats.phantoms += 1  # learned per model: this boot showed the pattern
        learned = stats is not None and stats.phantoms >= self.cfg.phantom_learn_after
        if quirk is None and not learned:
            return out
        verdict = phantom_verdict(
            boot_rec,
            age_s=(boot_rec.ts - cs.boot_at).total_seconds(),
            recovered_after_s=(ts - boot_rec.ts).total_seconds(),
            status=status,
            model=cs.model,
            stats=stats,
            quirk_text=(self.say.evidence("quirk", id=quirk.id, explanation=quirk.explanation)
                        if quirk is not None else None),
            say=self.say,
        )
        sup = self._supersede(boot_rec, verdict, verdict.evidence)
        if sup is not None:
            out.append(sup)
        return out

    # --- diagnosis --------------------------------------------------------------------

    def _query(self, cs: ChargerState, fault: Fault) -> MatchQuery:
        return MatchQuery(
            vendor=fault.vendor_sent or cs.vendor_sent,
            model=cs.model,
            firmware=cs.firmware,
            code=fault.vendor_code or None,
            info=fault.info or None,
            error_code=fault.query_code,
        )

    def _diagnose(self, m: Message, cs: ChargerState, port: PortState, fault: Fault, *,
                  onset: bool, late: bool) -> list[Diagnosis]:
        ts = m.occurred_at
        cfg, say = self.cfg, self.say
        try:
            quirks = self._quirks(cs, fault.vendor_sent)
            match = self.matcher.match(self._query(cs, fault))
        except Exception:  # a broken lookup must not lose the fault
            log.exception("knowledge lookup failed for %s", m.fingerprint)
            quirks, match = (), Match(entry=None, confidence=0.0, method="none")
        evidence = self._fault_evidence(m, fault, quirks)
        evidence.extend(cap(e, _MATCH_EVIDENCE_CAP) for e in _decisive_first(match))
        site = self._site(cs)
        session = port.session_at(ts, cfg.session_linger_s)
        id_tag = session.id_tag if session is not None else None
        site_faults = self._site_faults.get(site) or ()
        vehicle_faults = (self._vehicles.get(id_tag) or ()) if id_tag else ()
        ctx = FaultContext(
            message=m,
            ts=ts,
            charger=cs,
            port=port,
            fault=fault,
            match=match,
            quirks=quirks,
            cfg=cfg,
            say=say,
            site=site,
            model_stats=self._model_stats(cs),
            site_faults=site_faults,
            vehicle_faults=vehicle_faults,
            id_tag=id_tag,
            boot_age_s=None,
            boot_window_s=None,
            evidence=evidence,
            onset=onset,
            port_onsets_in_window=self._onsets_within(port, ts),
        )
        if cs.boot_at is not None and fault.faulted:
            q = ctx.quirk("boot_fault_window")
            window = float(q.window_s) if q is not None and q.window_s else cfg.phantom_window_s
            age = (ts - cs.boot_at).total_seconds()
            if 0 <= age <= window:
                ctx.boot_age_s, ctx.boot_window_s = age, window
                evidence.append(say.evidence("boot_window", seconds=age, window=window))
        try:
            verdict = decide(ctx)
        except Exception:  # one bad rule must not lose the diagnosis
            log.exception("triage rule failed for %s", m.fingerprint)
            verdict = Verdict(
                rule="rule_error",
                category=Category.UNKNOWN,
                severity=Severity.OUTAGE if fault.faulted else Severity.ADVISORY,
                owner=Owner.REMOTE_OPERATOR,
                summary=say.summary("rule_error"),
                action=say.action("no_information"),
                confidence=0.1,
                evidence=evidence,
            )
        diag = self._diagnosis(verdict, cs.charger, fault.port, ts, m.fingerprint)
        rec = FaultRecord(
            fingerprint=m.fingerprint,
            ts=ts,
            charger=cs.charger,
            port=fault.port,
            category=verdict.category,
            diagnosis=diag,
            rules={verdict.rule},
            base_evidence=evidence,
            id_tag=id_tag,
            boot_window_s=ctx.boot_window_s,
            energy_at_fault=session.last_wh if session is not None else None,
            faulted=fault.faulted,
            onset=onset,
        )
        out = [diag]
        self._remember(cs, port, rec, site, id_tag, late)
        self._side_channels(cs, port, fault, match, verdict, session, ts)
        if verdict.suppressed:
            port.ignored.append(diag)
        for member in verdict.backfill:
            sup = self._backfill(member, verdict)
            if sup is not None:
                out.append(sup)
        if verdict.flapping:
            key = (cs.charger, port.connector)
            if port.flapping_since is None:
                port.flapping_since = ts
            self._flapping[key] = FlapInfo(cs.charger, port.connector, port.flapping_since,
                                           ctx.port_onsets_in_window)
        return out

    def _remember(self, cs: ChargerState, port: PortState, rec: FaultRecord, site: str,
                  id_tag: str | None, late: bool) -> None:
        cfg = self.cfg
        self._seen.put(rec.fingerprint, rec)
        port.faults.drop_before(rec.ts - timedelta(seconds=self._fault_horizon_s),
                                lambda r: r.ts)
        port.faults.append(rec)
        port.history.append(PortEvent(rec.ts, "fault", port.status, rec.diagnosis.rule))
        if rec.faulted and not late:
            port.open_fault = rec
            if rec.boot_window_s is not None:
                cs.boot_faults = [r for r in cs.boot_faults if r.port != rec.port] + [rec]
        if rec.category in POWER_CATEGORIES:
            dq = self._site_faults.touch(site)
            if dq is None:
                dq = deque(maxlen=256)
                self._site_faults.put(site, dq)
            prune(dq, rec.ts, cfg.site_window_s * 2)
            dq.append(rec)
        if id_tag and rec.category in VEHICLE_CATEGORIES:
            dq = self._vehicles.touch(id_tag)
            if dq is None:
                dq = deque(maxlen=32)
                self._vehicles.put(id_tag, dq)
            prune(dq, rec.ts, cfg.vehicle_window_s)
            dq.append(rec)

    def _side_channels(self, cs: ChargerState, port: PortState, fault: Fault, match: Match,
                       verdict: Verdict, session: SessionInfo | None, ts: datetime) -> None:
        blank = self._uninformative
        said = fault.vendor_code if informative(fault.vendor_code, blank) else None
        if said is None and informative(fault.info, blank):
            said = fault.info
        if said and (match.entry is None or match.method in _NOT_BY_CODE):
            self._unknown.append(UnknownSighting(
                vendor=match.vendor or cs.vendor or fault.vendor_sent,
                model=cs.model,
                firmware=cs.firmware,
                code=said[:50],
                info=fault.info[:500] if fault.info else None,
                seen_at=ts,
                charger=cs.charger,
            ))
        if verdict.rule == "meter_failure" and session is not None:
            self._suspect.append(SuspectSession(
                charger=cs.charger,
                connector=port.connector,
                transaction_id=session.transaction_id,
                id_tag=session.id_tag,
                since=ts,
                reason=verdict.summary,
            ))

    def _fault_evidence(self, m: Message, fault: Fault,
                        quirks: tuple[QuirkLike, ...]) -> list[str]:
        say, limit = self.say, self.cfg.evidence_text_cap
        out: list[str] = []
        if fault.v2 and fault.query_code is not None and fault.status is None:
            comp, _, var = fault.query_code.partition("/")
            out.append(say.evidence("event_fields", port=fault.port, component=cap(comp, limit),
                                    variable=cap(var, limit), code=cap(fault.vendor_code, limit),
                                    info=cap(fault.info, limit)))
        else:
            out.append(say.evidence("status_fields", port=fault.port, status=fault.status or "",
                                    error_code=cap(fault.error_code, limit),
                                    code=cap(fault.vendor_code, limit),
                                    info=cap(fault.info, limit),
                                    vendor=cap(fault.vendor_sent, limit), v2=fault.v2))
        for note in fault.notes:
            if note == "__invalid_error_code__":
                q = next((q for q in quirks if q.kind == "invalid_error_code"), None)
                out.append(say.evidence("invalid_error_code", code=cap(fault.error_code, limit),
                                        quirk=q.explanation if q is not None else ""))
            else:
                out.append(note)
        problem = getattr(m.fact, "port_problem", None)
        if problem:  # the frame named no usable port (issue 10): say so, not "connector 0"
            out.append(say.evidence("port_unknown", problem=cap(problem, limit)))
        elif fault.port == 0:
            out.append(say.evidence("whole_charger"))
        return out

    def _onsets_within(self, port: PortState, ts: datetime) -> int:
        start = ts - timedelta(seconds=self.cfg.policy.flapping_window_s)
        return sum(1 for t in port.onsets if start <= t <= ts)

    def _diagnosis(self, v: Verdict, charger: str, connector: int | None, ts: datetime,
                   fingerprint: str, *, supersedes: bool = False) -> Diagnosis:
        return Diagnosis(
            charger=charger,
            connector=connector,
            ts=ts,
            category=v.category,
            severity=v.severity,
            owner=v.owner,
            suppressed=v.suppressed,
            summary=v.summary,
            action=v.action,
            confidence=max(0.0, min(1.0, v.confidence)),
            rule=v.rule,
            evidence=list(v.evidence),
            message_fingerprint=fingerprint,
            supersedes=supersedes,
            flapping=v.flapping,
            site_event=v.site_event,
        )

    def _supersede(self, rec: FaultRecord, v: Verdict, evidence: list[str]) -> Diagnosis | None:
        """Replace an earlier message's diagnosis with a better-informed one (once per rule)."""
        if v.rule in rec.rules:
            return None
        v = replace(v, evidence=evidence, backfill=())
        diag = self._diagnosis(v, rec.charger, rec.port, rec.ts, rec.fingerprint,
                               supersedes=True)
        rec.rules.add(v.rule)
        rec.diagnosis = diag
        rec.category = v.category
        if v.suppressed:
            port = self._known_port(rec.charger, rec.port)
            if port is not None:
                port.ignored.append(diag)
        return diag

    def _backfill(self, rec: FaultRecord, v: Verdict) -> Diagnosis | None:
        """Site-wide / vehicle-following: an earlier member joins the verdict, with its facts."""
        own = [e for e in rec.base_evidence]
        return self._supersede(rec, v, own + v.evidence[-1:])

    def _view_of(self, charger: str, port: PortState) -> PortView:
        open_fault = port.open_fault
        return PortView(
            charger=charger,
            connector=port.connector,
            status=port.status,
            status_since=port.status_since,
            diagnosis=open_fault.diagnosis if open_fault is not None else None,
            history=list(port.history),
            ignored=list(port.ignored),
            session=port.session,
            flapping=(charger, port.connector) in self._flapping,
            recent_faults=len(port.faults),
        )


_PHANTOM_OK = frozenset({Category.INTERNAL_ERROR, Category.UNKNOWN})
_NEVER_ADVISORY = frozenset({Category.GROUND_FAULT, Category.ISOLATION_FAULT,
                             Category.EMERGENCY_STOP, Category.POWER_SWITCH})


def _verdict_of(d: Diagnosis) -> Verdict:
    return Verdict(
        rule=d.rule,
        category=d.category,
        severity=d.severity,
        owner=d.owner,
        summary=d.summary,
        action=d.action,
        confidence=d.confidence,
        evidence=list(d.evidence),
        suppressed=d.suppressed,
        flapping=d.flapping,
        site_event=d.site_event,
    )
