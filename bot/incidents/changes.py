"""What the incident stage tells the stages after it (Slack alerts, the digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ChangeKind = Literal[
    "opened",  # a new incident
    "updated",  # another occurrence; nothing a human must see at once (edit in place)
    "escalated",  # severity went up, or recurrence crossed a threshold
    "cause_changed",  # a different category / owner now explains it
    "resolved",  # the port recovered (or a person resolved it)
    "acknowledged",
    "snoozed",
    "reopened",  # a person reopened a resolved incident (detail: who)
]


@dataclass(frozen=True, slots=True)
class IncidentChange:
    incident_id: int
    kind: ChangeKind
    at: datetime
    detail: str = ""  # short machine-readable note, e.g. "outage->safety"
