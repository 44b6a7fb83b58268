"""Health signals: what a message says about a port getting better.

Diagnoses say a port is faulted; signals say it recovered (a healthy status, a cleared
problem event) or that a silent charger talks again. The incident manager resolves
incidents from these, so recovery needs no triage rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.ocpp.events import (
    CONNECTION,
    HEALTHY_STATUSES,
    EventReport,
    Message,
    StatusReport,
)

SignalKind = Literal["healthy", "cleared", "contact"]


@dataclass(frozen=True, slots=True)
class Signal:
    charger: str
    connector: int | None  # None for "contact" (the charger as a whole talked)
    ts: datetime
    kind: SignalKind


def port_number(report: StatusReport) -> int:
    """The port a status report is about: the EVSE on 2.x, the connector on 1.6."""
    return report.evse if report.evse is not None else report.connector


def signals_from(message: Message) -> list[Signal]:
    """The recovery signals one message carries (often none)."""
    if message.direction != "in" or message.message_type == CONNECTION:
        return []  # a connection event is not the charger talking
    out = [Signal(message.charger, None, message.occurred_at, "contact")]
    fact = message.fact
    if isinstance(fact, StatusReport):
        if not fact.fault_bearing and fact.status in HEALTHY_STATUSES:
            out.append(Signal(message.charger, port_number(fact), message.occurred_at, "healthy"))
    elif isinstance(fact, EventReport):
        for problem in fact.problems:
            if problem.cleared:
                port = problem.evse if problem.evse is not None else problem.connector
                out.append(Signal(message.charger, port, message.occurred_at, "cleared"))
    return out
