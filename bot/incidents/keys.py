"""Which incident a diagnosis belongs to: its scope and its open_key.

open_key = "<scope>:<subject>:<category>", e.g. `port:CP-001:1:emergency_stop`,
`charger:CP-009:connectivity`, `site:Depot North:power_loss`. The key without the
category (the *slot*) names the thing that is broken; one slot holds at most one open
incident, and a new cause on the same slot is reported as "cause_changed".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.triage.diagnosis import Diagnosis

Scope = Literal["port", "charger", "site"]

# Triage rules that attribute a fault to the site (several ports at once) rather than
# to one port. Matched by prefix so the triage stage can name variants freely.
SITE_RULE_PREFIXES = ("site_", "site-", "site.")
# Rules that say the charger went silent: the charger itself is the subject, and the
# first frame it sends again ends the incident.
SILENT_RULES = frozenset({"silent_charger"})


def is_silence(rule: str | None) -> bool:
    return rule in SILENT_RULES


@dataclass(frozen=True, slots=True)
class Slot:
    scope: Scope
    site: str
    charger: str | None
    connector: int | None

    @property
    def key(self) -> str:
        if self.scope == "site":
            return f"site:{self.site}"
        if self.scope == "charger":
            return f"charger:{self.charger}"
        return f"port:{self.charger}:{self.connector}"

    def open_key(self, category: str) -> str:
        return f"{self.key}:{category}"


def is_site_rule(rule: str) -> bool:
    return rule.startswith(SITE_RULE_PREFIXES)


def slot_for(diagnosis: Diagnosis, site: str) -> Slot:
    # `site_event` is set by triage when the port is part of a site-level cause.
    if diagnosis.site_event or is_site_rule(diagnosis.rule):
        return Slot("site", site, None, None)
    if is_silence(diagnosis.rule) or not diagnosis.connector:
        return Slot("charger", site, diagnosis.charger, 0)
    return Slot("port", site, diagnosis.charger, diagnosis.connector)


def slot_of_key(open_key: str) -> str:
    """The slot part of an open_key (everything before the last ':')."""
    return open_key.rsplit(":", 1)[0]
