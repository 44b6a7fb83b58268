"""silent_charger (time-based): no inbound frame for longer than its heartbeat allows."""

from __future__ import annotations

from datetime import datetime

from bot.triage.config import TriageConfig
from bot.triage.phrasing import Phrasebook
from bot.triage.rules.base import Verdict
from bot.triage.state import ChargerState
from bot.vocab import Category, Owner, Severity


def silent_charger(cs: ChargerState, now: datetime, cfg: TriageConfig,
                   say: Phrasebook) -> Verdict | None:
    if cs.last_in is None:
        return None
    interval = cs.interval_s or cfg.default_heartbeat_s
    allowed = cfg.silent_misses * interval + cfg.silent_grace_s
    quiet = (now - cs.last_in).total_seconds()
    if quiet <= allowed:
        return None
    return Verdict(
        rule="silent_charger",
        category=Category.CONNECTIVITY,
        severity=Severity.OUTAGE,
        owner=Owner.REMOTE_OPERATOR,
        summary=say.summary("silent_charger", last=cs.last_in, interval=interval),
        action=say.action("silent_charger"),
        confidence=0.9,
        evidence=[say.evidence("silent", last=cs.last_in, quiet=quiet, interval=interval,
                               known=cs.interval_s is not None, misses=cfg.silent_misses)],
    )
