"""The Diagnosis: DESIGN contract 2, the one answer every surface shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.vocab import Category, Owner, Severity


@dataclass(slots=True)
class Diagnosis:
    charger: str
    connector: int | None
    ts: datetime
    category: Category
    severity: Severity
    owner: Owner
    suppressed: bool
    summary: str
    action: str
    confidence: float
    rule: str
    evidence: list[str] = field(default_factory=list)
    # Side information for the incident stage; not part of the contract-2 object.
    message_fingerprint: str = ""  # the message diagnosed ("" for time-based diagnoses)
    supersedes: bool = False  # replaces the earlier diagnosis of the same message
    flapping: bool = False  # the port is flapping: keep one incident, not many
    site_event: str | None = None  # key of a site-level cause this port is part of
    # A late report (older than the port's newest status): when the port had already been
    # seen healthy again, so the incident stage records a past outage, not an open one.
    recovered_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Exactly the contract-2 object (no extra keys)."""
        return {
            "charger": self.charger,
            "connector": self.connector,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "category": self.category.value,
            "severity": self.severity.value,
            "owner": self.owner.value,
            "suppressed": self.suppressed,
            "summary": self.summary,
            "action": self.action,
            "confidence": round(self.confidence, 2),
            "rule": self.rule,
            "evidence": list(self.evidence),
        }
