"""What every rule sees (FaultContext) and returns (Verdict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.kb.types import KBEntry, Match
from bot.ocpp.events import Message
from bot.triage.config import TriageConfig
from bot.triage.phrasing import Phrasebook
from bot.triage.ports import QuirkLike
from bot.triage.state import ChargerState, FaultRecord, ModelStats, PortState
from bot.vocab import Category, Owner, Severity


@dataclass(slots=True)
class Fault:
    """A fault-bearing report normalised across 1.6 StatusNotification and 2.x NotifyEvent."""

    port: int  # 0 = the whole charger
    status: str | None  # the status reported with it (None for a NotifyEvent)
    faulted: bool
    error_code: str | None  # 1.6 errorCode as sent
    query_code: str | None  # what the matcher gets: standard 1.6 code or "Component/Variable"
    vendor_code: str | None  # vendorErrorCode / techCode
    info: str | None  # info / techInfo
    vendor_sent: str | None  # vendorId, or the BootNotification vendor
    v2: bool = False
    notes: list[str] = field(default_factory=list)  # evidence from normalisation


@dataclass(slots=True, frozen=True)
class Verdict:
    rule: str
    category: Category
    severity: Severity
    owner: Owner
    summary: str
    action: str
    confidence: float
    evidence: list[str]
    suppressed: bool = False
    flapping: bool = False
    site_event: str | None = None
    # earlier faults this verdict also explains (site-wide, vehicle-following): the engine
    # re-diagnoses them with it, superseding their first diagnosis
    backfill: Sequence[FaultRecord] = ()


@dataclass(slots=True)
class FaultContext:
    message: Message
    ts: datetime
    charger: ChargerState
    port: PortState
    fault: Fault
    match: Match
    quirks: Sequence[QuirkLike]
    cfg: TriageConfig
    say: Phrasebook
    site: str
    model_stats: ModelStats | None
    site_faults: Sequence[FaultRecord]  # recent power faults at the site (before this one)
    vehicle_faults: Sequence[FaultRecord]  # recent faults under the same idTag
    id_tag: str | None
    boot_age_s: float | None  # seconds since the charger's boot, when inside a boot window
    boot_window_s: float | None
    evidence: list[str]  # what the fault said and what the matcher found
    onset: bool = True  # this report starts a fault episode on the port
    port_onsets_in_window: int = 0  # Faulted onsets on the port within the flapping window

    @property
    def entry(self) -> KBEntry | None:
        return self.match.entry

    @property
    def category(self) -> Category:
        return self.match.entry.category if self.match.entry else Category.UNKNOWN

    def quirk(self, kind: str) -> QuirkLike | None:
        """The first quirk of this kind that applies to the fault's codes."""
        codes = {c for c in (self.fault.vendor_code, self.fault.error_code) if c}
        for q in self.quirks:
            if q.kind != kind:
                continue
            wanted = {str(c) for c in (q.codes or ())}
            if not wanted or wanted & codes:
                return q
        return None

    def from_entry(
        self,
        rule: str,
        *,
        severity: Severity | None = None,
        owner: Owner | None = None,
        summary: str | None = None,
        action: str | None = None,
        confidence: float | None = None,
        evidence: list[str] | None = None,
        suppressed: bool | None = None,
    ) -> Verdict:
        """A verdict that reads the matched entry as it is (meaning, action, owner...);
        a rule overrides what it decides itself."""
        e = self.match.entry
        assert e is not None
        if summary is None:
            summary = e.meaning
            if self.match.borrowed_from:  # no maker named: say whose manual this guess is from
                summary = self.say.summary("borrowed", vendor=self.match.borrowed_from,
                                           meaning=summary)
        return Verdict(
            rule=rule,
            category=e.category,
            severity=e.severity if severity is None else severity,
            owner=e.owner if owner is None else owner,
            summary=summary,
            action=e.action if action is None else action,
            confidence=self.match.confidence if confidence is None else confidence,
            evidence=list(self.evidence) if evidence is None else evidence,
            suppressed=e.suppress if suppressed is None else suppressed,
        )


# Backfill (site-wide, vehicle-following) never overrides these: they say "not a fault".
KEEP_RULES = frozenset({"phantom_boot_fault", "not_a_fault", "site_wide_cause",
                        "vehicle_following"})


def worse(a: Severity, b: Severity) -> Severity:
    return a if a.rank >= b.rank else b


def cap(text: str | None, limit: int) -> str:
    """Vendor free text for evidence: verbatim, control characters made visible, capped."""
    if not text:
        return ""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
