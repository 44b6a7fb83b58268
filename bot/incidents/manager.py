"""Turns diagnoses and recovery signals into incidents: open, update, escalate, resolve.

Decisions (documented because Slack threads and uptime depend on them):

- One open incident per *slot* (a port, a charger, or a site; see keys.py). A fault with
  a different cause on a slot whose incident is still open re-labels that incident
  ("cause_changed", same thread) instead of opening a second one; an `unknown` diagnosis
  never overrides a known cause. If the port had already recovered (it is inside its
  hold-down) a new cause is a new incident and the old one resolves at its recovery time.
- Recovery hold-down: a healthy status starts `recovering_since`; the incident resolves
  only once the port stayed healthy for the policy's hold-down (bot.triage.policy) of feed time, and
  `resolved_at` is the moment it recovered. A fault inside the hold-down counts a flap
  and keeps the same incident; a flapping port escalates once, never reopens.
- Every decision is made by event time, never at batch boundaries: a `Clock` event (the
  feed clock crossing a grid point, bot.fold.clock) resolves what is due by then, and a
  fault after the hold-down has run out *at the fault's own time* starts a new incident
  even if no Clock came in between. So the same events give the same incidents however
  they are batched.
- A late fault report (the port had already reported healthy after it) is a past outage:
  its incident opens and resolves at once, at the port's later healthy report; when an
  incident is open on that slot it only counts as an occurrence.
- Connectivity incidents resolve at the first frame the charger sends again.
- Suppressed diagnoses (phantoms, advisories while charging) are stored as diagnosis
  rows only and never open an incident, so nobody is paged.
- `open_key` is unique: if another worker opened the same incident first, the insert
  fails inside a savepoint and this occurrence is merged into the winner's incident.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.incidents.changes import ChangeKind, IncidentChange
from bot.incidents.keys import Slot, is_silence, slot_for, slot_of_key
from bot.incidents.models import DiagnosisRow, Incident
from bot.incidents.signals import Signal
from bot.incidents.sql import insert_ignore
from bot.store.base import table_of
from bot.triage.diagnosis import Diagnosis
from bot.triage.policy import DEFAULT_POLICY, FaultPolicy
from bot.vocab import Category, Severity

_CHUNK = 500  # IN-list size for batch loads


@dataclass(frozen=True, slots=True)
class Clock:
    """Feed time reached `now`: recoveries whose hold-down has run out by then resolve."""

    now: datetime


@dataclass(frozen=True, slots=True)
class Joined:
    """A port incident folded into a site-wide one by a re-diagnosis: when it began and
    when its port started recovering (None while still faulted)."""

    opened_at: datetime
    recovered: datetime | None


@dataclass(slots=True)
class Finding:
    """A diagnosis with the stored message it came from (for the audit row)."""

    diagnosis: Diagnosis
    fingerprint: str = ""  # message fingerprint; empty = synthetic (time-based rules)
    model: str | None = None
    since: datetime | None = None  # when the problem began, if before the diagnosis (silence)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = self.diagnosis.message_fingerprint

    def row_fingerprint(self) -> str:
        if self.fingerprint:
            return self.fingerprint
        d = self.diagnosis
        raw = f"tick|{d.charger}|{d.connector}|{d.ts.isoformat()}|{d.rule}"
        return hashlib.sha256(raw.encode()).hexdigest()  # 64 hex characters


Event = Finding | Signal | Clock


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return 0


class IncidentManager:
    """Works inside the caller's session and transaction; never commits."""

    def __init__(
        self,
        session: Session,
        *,
        site_of: Callable[[str], str] | None = None,
        policy: FaultPolicy = DEFAULT_POLICY,
    ) -> None:
        self.session = session
        self.site_of = site_of or (lambda charger: charger)
        self.policy = policy
        self.hold_down = policy.hold_down
        self._open: dict[str, Incident] = {}  # slot key -> open incident
        self._recovering_loaded = False
        self._all_loaded = False  # every open incident is in _open (see preload)
        # (hold-down ends, n, slot) of recovering incidents: a Clock event pops what is due
        # in O(log n), so feed time can be passed with every message.
        self._due: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._loaded_chargers: set[str] = set()
        self._loaded_sites: set[str] = set()
        self._changes: list[IncidentChange] = []
        self._rows: list[dict[str, object]] = []
        # pysqlite opens its transaction lazily, so a SAVEPOINT issued first would become
        # the outermost transaction and its RELEASE would commit. SQLite serializes
        # writers anyway (one writer at a time), so the merge-on-conflict path is only
        # needed where writers really race: PostgreSQL.
        self._savepoints = session.get_bind().dialect.name != "sqlite"

    # --- loading ------------------------------------------------------------------

    def preload(self, chargers: Iterable[str]) -> None:
        """Load the open incidents of these chargers and their sites in a few queries."""
        if self._all_loaded:
            return
        new_chargers = sorted(set(chargers) - self._loaded_chargers)
        if len(new_chargers) > _CHUNK:
            # A file or fleet batch names most chargers: one query for every open
            # incident (open ones are few, and the unique open_key index finds them)
            # costs far less than an IN list per 500 chargers. The extra ones are only
            # ever looked up by their own slot, so loading them changes nothing.
            self._all_loaded = True
            for inc in self.session.scalars(select(Incident).where(Incident.open_key.is_not(None))):
                slot = slot_of_key(inc.open_key or "")
                if self._open.setdefault(slot, inc) is inc:
                    self._track(slot, inc)
            return
        new_sites = sorted({self.site_of(c) for c in new_chargers} - self._loaded_sites)
        self._loaded_chargers.update(new_chargers)
        self._loaded_sites.update(new_sites)
        for i in range(0, max(len(new_chargers), len(new_sites)), _CHUNK):
            conds: list[ColumnElement[bool]] = []
            if part := new_chargers[i : i + _CHUNK]:
                conds.append(Incident.charger.in_(part))
            if part := new_sites[i : i + _CHUNK]:
                conds.append(and_(Incident.scope == "site", Incident.site.in_(part)))
            stmt = select(Incident).where(Incident.open_key.is_not(None), or_(*conds))
            for inc in self.session.scalars(stmt):
                slot = slot_of_key(inc.open_key or "")
                self._open[slot] = inc
                self._track(slot, inc)

    # --- the main entry -----------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> list[IncidentChange]:
        """Apply findings, signals and clock events in feed order; returns the changes."""
        events = list(events)
        self.preload(
            e.diagnosis.charger if isinstance(e, Finding) else e.charger
            for e in events
            if not isinstance(e, Clock)
        )
        for event in events:
            if isinstance(event, Finding):
                self._finding(event)
            elif isinstance(event, Clock):
                self._settle_due(event.now)
            else:
                self._signal(event)
        return self._drain()

    def settle(self, now: datetime) -> list[IncidentChange]:
        """Resolve incidents whose hold-down has passed by `now` (a Clock event alone)."""
        self._settle_due(now)
        return self._drain()

    def _settle_due(self, now: datetime) -> None:
        if not self._recovering_loaded:
            # Recovering incidents of chargers outside this batch are due too: load them
            # once (they are few: an incident recovers for at most the hold-down).
            self._recovering_loaded = True
            stmt = select(Incident).where(
                Incident.open_key.is_not(None), Incident.recovering_since.is_not(None)
            )
            for inc in self.session.scalars(stmt):
                slot = slot_of_key(inc.open_key or "")
                if self._open.setdefault(slot, inc) is inc:
                    self._track(slot, inc)
        due = self._due
        while due and due[0][0] <= now:
            _, _, slot = heapq.heappop(due)
            held = self._open.get(slot)
            since = held.recovering_since if held is not None else None
            if held is not None and since is not None and since + self.hold_down <= now:
                self._resolve(slot, held, since, "recovered")

    def _track(self, slot: str, inc: Incident) -> None:
        """Remember when a recovering incident's hold-down ends (stale entries are
        skipped when popped: the incident is checked again then)."""
        if inc.recovering_since is not None:
            heapq.heappush(self._due, (inc.recovering_since + self.hold_down,
                                       next(self._seq), slot))

    def flush_rows(self) -> int:
        """Write the queued diagnosis rows in one statement (duplicates are ignored)."""
        rows, self._rows = self._rows, []
        if rows:
            table = table_of(DiagnosisRow)
            insert_ignore(self.session, table, rows, ("message_fingerprint", "rule"))
        return len(rows)

    # --- findings -----------------------------------------------------------------

    def _finding(self, finding: Finding) -> None:
        d = finding.diagnosis
        incident_id: int | None = None
        superseding = d.supersedes and finding.fingerprint
        joined: Joined | None = None
        if superseding:
            handled, joined = self._supersede(finding)
            if handled:
                self._queue_row(finding, None)
                return
        if not d.suppressed:
            site = self.site_of(d.charger)
            slot = slot_for(d, site)
            inc = self._open.get(slot.key)
            if inc is None:
                inc = self._open_new(slot, finding)
                if d.recovered_at is not None and inc.open_key is not None and inc.occurrences == 1:
                    self._resolve(slot.key, inc, d.recovered_at, "recovered")
            else:
                self._merge(slot, inc, finding, joined)
                inc = self._open.get(slot.key, inc)
            incident_id = inc.id
        self._queue_row(finding, incident_id)

    def _queue_row(self, finding: Finding, incident_id: int | None) -> None:
        d = finding.diagnosis
        self._rows.append(
            {
                "message_fingerprint": finding.row_fingerprint(),
                "charger": d.charger,
                "connector": d.connector,
                "ts": d.ts,
                "category": d.category.value,
                "severity": d.severity.value,
                "owner": d.owner.value,
                "suppressed": d.suppressed,
                "rule": d.rule[:60],
                "confidence": d.confidence,
                "body": d.to_json(),
                "incident_id": incident_id,
                "model": finding.model,
            }
        )

    def _supersede(self, finding: Finding) -> tuple[bool, Joined | None]:
        """A re-diagnosis of an earlier message. When it finds the fault was a phantom,
        the incident that message opened is withdrawn (or loses that occurrence).
        Returns (handled, the port incident folded into another slot, if any)."""
        d = finding.diagnosis
        fp = finding.fingerprint
        incident_id = next(
            (r["incident_id"] for r in reversed(self._rows)
             if r["message_fingerprint"] == fp and r["incident_id"] is not None),
            None,
        )
        if incident_id is None:
            incident_id = self.session.scalar(
                select(DiagnosisRow.incident_id)
                .where(DiagnosisRow.message_fingerprint == fp)
                .where(DiagnosisRow.incident_id.is_not(None))
                .limit(1)
            )
        inc = self.session.get(Incident, incident_id) if incident_id is not None else None
        if not d.suppressed:
            # A better explanation. When it moves the fault to another slot (a port's
            # fault turned out to be site-wide), the port's own incident folds into it.
            new_slot = slot_for(d, self.site_of(d.charger)).key
            if (inc is not None and inc.open_key is not None and inc.occurrences <= 1
                    and slot_of_key(inc.open_key) != new_slot):
                joined = Joined(inc.opened_at, inc.recovering_since)  # before _resolve
                self._resolve(slot_of_key(inc.open_key), inc, d.ts, "merged")
                return False, joined
            return False, None
        if inc is None:
            return True, None
        if inc.occurrences > 1:
            inc.occurrences -= 1
            self._change(inc, "updated", d.ts, "phantom_occurrence")
            return True, None
        inc.suppressed = True
        if inc.open_key is not None:
            slot = slot_of_key(inc.open_key)
            self._resolve(slot, inc, inc.recovering_since or d.ts, "phantom")
        return True, None

    def _open_new(self, slot: Slot, finding: Finding) -> Incident:
        d = finding.diagnosis
        inc = Incident(
            open_key=slot.open_key(d.category.value),
            scope=slot.scope,
            site=slot.site,
            charger=slot.charger,
            connector=slot.connector,
            opened_at=min(finding.since, d.ts) if finding.since else d.ts,
            updated_at=d.ts,
            occurrences=1,
            flaps=0,
            suppressed=False,
            flapping=d.flapping,
            ports=[],
            model=finding.model,
        )
        self._describe(inc, d)
        self._add_port(inc, d)
        try:
            if self._savepoints:
                with self.session.begin_nested():
                    self.session.add(inc)
            else:
                self.session.add(inc)
                self.session.flush()
        except IntegrityError:
            # Another worker opened this fault first: merge into its incident.
            if inc in self.session:
                self.session.expunge(inc)
            winner = self.session.scalars(
                select(Incident).where(Incident.open_key == slot.open_key(d.category.value))
            ).one_or_none()
            if winner is None:  # it resolved in between; try once more on a clean slate
                return self._open_new(slot, finding)
            self._open[slot.key] = winner
            self._merge(slot, winner, finding)
            return winner
        self._open[slot.key] = inc
        self._change(inc, "opened", d.ts, d.category.value)
        return inc

    def _merge(
        self, slot: Slot, inc: Incident, finding: Finding, joined: Joined | None = None
    ) -> None:
        d = finding.diagnosis
        if d.ts < inc.opened_at or d.recovered_at is not None:
            inc.occurrences += 1  # a late, out-of-order report: count it, change nothing
            if joined is not None and inc.scope == "site":
                # Except a port's earlier fault re-read as part of this site-wide cause
                # (`joined`, its own incident now folded in): the site incident began
                # with it and the port is one of the site's, recovered or not.
                inc.opened_at = min(inc.opened_at, joined.opened_at)
                self._add_port(inc, d, recovered=joined.recovered)
            return
        if (inc.recovering_since is not None
                and inc.recovering_since + self.hold_down <= d.ts):
            # The hold-down had run out before this fault: that outage ended, this is a
            # new one (decided by the fault's own time, not by when a batch ended).
            self._resolve(slot.key, inc, inc.recovering_since, "recovered")
            self._open_new(slot, finding)
            return
        same_cause = inc.category == d.category.value
        weaker = d.category == Category.UNKNOWN and inc.category != Category.UNKNOWN.value
        if not same_cause and not weaker and inc.recovering_since is not None:
            # The port had recovered; this is a new fault, not the old one coming back.
            self._resolve(slot.key, inc, inc.recovering_since, "recovered")
            self._open_new(slot, finding)
            return
        inc.occurrences += 1
        inc.updated_at = max(inc.updated_at, d.ts)
        self._add_port(inc, d)
        flapped = inc.recovering_since is not None
        if flapped:
            inc.recovering_since = None
            inc.flaps += 1
        old_severity = inc.severity
        if weaker:
            self._change(inc, "updated", d.ts, "unknown_kept_cause")
            return
        if not same_cause:
            detail = f"{inc.category}->{d.category.value}"
            self._describe(inc, d)
            inc.open_key = slot.open_key(d.category.value)
            self._change(inc, "cause_changed", d.ts, detail)
            return
        higher = _rank(d.severity.value) > _rank(old_severity)
        self._describe(inc, d, keep_severity=not higher)
        if higher:
            self._change(inc, "escalated", d.ts, f"{old_severity}->{d.severity.value}")
        elif not inc.flapping and (
            d.flapping or inc.flaps >= self.policy.flaps_to_escalate
        ):
            inc.flapping = True
            self._change(inc, "escalated", d.ts, f"flapping:{inc.flaps}")
        elif inc.occurrences in self.policy.escalate_at_occurrences:
            self._change(inc, "escalated", d.ts, f"recurring:{inc.occurrences}")
        else:
            self._change(inc, "updated", d.ts, f"occurrences:{inc.occurrences}")

    @staticmethod
    def _describe(inc: Incident, d: Diagnosis, *, keep_severity: bool = False) -> None:
        inc.category = d.category.value
        if not keep_severity:
            inc.severity = d.severity.value
        inc.owner = d.owner.value
        inc.summary = d.summary
        inc.action = d.action
        inc.confidence = d.confidence
        inc.rule = d.rule[:60]
        inc.diagnosis = d.to_json()

    @staticmethod
    def _add_port(inc: Incident, d: Diagnosis, recovered: datetime | None = None) -> None:
        if inc.scope != "site":
            return
        port = [d.charger, d.connector or 0]
        ports = [list(p[:2]) for p in inc.ports or []]
        if port not in ports:
            # A new list object so SQLAlchemy sees the change to the JSON column.
            mark = recovered.isoformat() if recovered is not None else None
            inc.ports = [*(inc.ports or []), [*port, mark]]
        else:  # faulted again: no longer recovering
            inc.ports = [[*p[:2], None] if list(p[:2]) == port else p for p in inc.ports]

    # --- signals ------------------------------------------------------------------

    def _signal(self, sig: Signal) -> None:
        if sig.kind == "contact":  # most inbound frames: the key without a Slot or a site
            slot = "charger:" + sig.charger  # == Slot("charger", site, charger, 0).key
            inc = self._open.get(slot)
            if inc is not None and is_silence(inc.rule) and sig.ts > inc.updated_at:
                self._resolve(slot, inc, sig.ts, "recovered")
            return
        site = self.site_of(sig.charger)
        if sig.connector:
            self._recovering(Slot("port", site, sig.charger, sig.connector).key, sig)
        # Any healthy port (or connector 0) shows the charger as a whole works again.
        charger_slot = Slot("charger", site, sig.charger, 0).key
        inc = self._open.get(charger_slot)
        if inc is not None and not is_silence(inc.rule):
            self._recovering(charger_slot, sig)
        site_inc = self._open.get(Slot("site", site, None, None).key)
        if site_inc is not None and sig.ts > site_inc.updated_at:
            self._site_port_recovered(site_inc, sig)

    def _recovering(self, slot: str, sig: Signal) -> None:
        inc = self._open.get(slot)
        if inc is None or sig.ts < inc.updated_at or inc.recovering_since is not None:
            return
        inc.recovering_since = sig.ts
        self._track(slot, inc)

    def _site_port_recovered(self, inc: Incident, sig: Signal) -> None:
        port = [sig.charger, sig.connector or 0]
        ports = inc.ports or []
        matched = False
        out = []
        for p in ports:
            if list(p[:2]) == port or (sig.connector in (None, 0) and p[0] == sig.charger):
                matched = True
                out.append([p[0], p[1], p[2] or sig.ts.isoformat()])
            else:
                out.append(p)
        if not matched:
            return
        inc.ports = out
        if all(p[2] for p in out) and inc.recovering_since is None:
            inc.recovering_since = max(datetime.fromisoformat(p[2]) for p in out)
            self._track(slot_of_key(inc.open_key or ""), inc)

    # --- resolution and people ----------------------------------------------------

    def _resolve(self, slot: str, inc: Incident, at: datetime, by: str) -> None:
        inc.open_key = None
        inc.resolved_at = max(at, inc.opened_at)
        inc.resolved_by = by
        inc.recovering_since = None
        self._open.pop(slot, None)
        minutes = (inc.resolved_at - inc.opened_at) // timedelta(minutes=1)
        self._change(inc, "resolved", inc.resolved_at, f"{by}:{minutes}min")

    def _change(self, inc: Incident, kind: ChangeKind, at: datetime, detail: str) -> None:
        if inc.id is None:
            self.session.flush()
        self._changes.append(IncidentChange(inc.id, kind, at, detail))

    def _drain(self) -> list[IncidentChange]:
        changes, self._changes = self._changes, []
        return changes


# --- helpers for people acting from Slack ---------------------------------------------


def acknowledge(session: Session, incident_id: int, user: str, now: datetime) -> IncidentChange:
    inc = _get(session, incident_id)
    inc.acked_by, inc.acked_at = user, now
    return IncidentChange(inc.id, "acknowledged", now, user)


def resolve(session: Session, incident_id: int, user: str, now: datetime) -> IncidentChange:
    inc = _get(session, incident_id)
    if inc.resolved_at is None:
        inc.open_key = None
        inc.resolved_at = max(now, inc.opened_at)
        inc.resolved_by = user
        inc.recovering_since = None
    return IncidentChange(inc.id, "resolved", inc.resolved_at or now, f"{user}:manual")


def snooze(session: Session, incident_id: int, until: datetime, now: datetime) -> IncidentChange:
    inc = _get(session, incident_id)
    inc.snoozed_until = until
    return IncidentChange(inc.id, "snoozed", now, until.isoformat())


class IncidentNotFound(LookupError):
    pass


def _get(session: Session, incident_id: int) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise IncidentNotFound(f"no incident #{incident_id}")
    return inc


def open_incidents(session: Session, chargers: Sequence[str] | None = None) -> list[Incident]:
    stmt = select(Incident).where(Incident.open_key.is_not(None))
    if chargers is not None:
        stmt = stmt.where(Incident.charger.in_(list(chargers)))
    return list(session.scalars(stmt.order_by(Incident.opened_at)))
