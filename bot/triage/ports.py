"""What triage needs from the stages before it, as Protocols.

The engine is typed against these so it depends on behaviour, not on the concrete
knowledge-base or site classes (bot.kb.loader.KnowledgeBase, bot.kb.matcher.Matcher,
bot.store.sites.SiteMap satisfy them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.kb.types import Match, MatchQuery


class QuirkLike(Protocol):
    id: str
    vendor: str | None
    kind: str  # boot_fault_window, degraded_not_down, fault_while_charging_advisory, ...
    window_s: float | None
    codes: Sequence[str]
    explanation: str


class KnowledgeLike(Protocol):
    def quirks_for(
        self, vendor: str | None, model: str | None, firmware: str | None
    ) -> Sequence[QuirkLike]: ...

    def resolve_vendor(self, sent: str | None, model: str | None = None) -> str | None: ...


class MatcherLike(Protocol):
    def match(self, q: MatchQuery) -> Match: ...


class SitesLike(Protocol):
    def site_of(self, charger: str) -> str: ...
