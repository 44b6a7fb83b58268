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
    # Read-only members: quirks are frozen values, so the protocol must not ask to set them.
    @property
    def id(self) -> str: ...
    @property
    def vendor(self) -> str | None: ...
    @property
    def kind(self) -> str: ...  # boot_fault_window, degraded_not_down, ...
    @property
    def window_s(self) -> float | None: ...
    @property
    def codes(self) -> Sequence[str]: ...
    @property
    def explanation(self) -> str: ...


class KnowledgeLike(Protocol):
    def quirks_for(
        self, vendor: str | None, model: str | None, firmware: str | None
    ) -> Sequence[QuirkLike]: ...

    def resolve_vendor(self, sent: str | None, model: str | None = None) -> str | None: ...


class MatcherLike(Protocol):
    def match(self, q: MatchQuery) -> Match: ...


class SitesLike(Protocol):
    def site_of(self, charger: str) -> str: ...
