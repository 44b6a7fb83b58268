"""Forgiving names: what a person typed -> the charger or site they meant."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.store.names import NameMatch


def resolve_charger(session: Session, text: str) -> NameMatch:
    """`cp12` -> CP-012; several equal matches -> all of them; none -> near misses."""
    from bot.store.queries import match_charger

    return match_charger(session, text.strip()[:200])


def resolve_site(session: Session, text: str, sites: Any) -> NameMatch:
    """Sites from the sites file plus one-charger sites of every known charger."""
    from bot.store.queries import all_charger_ids
    from bot.store.sites import SiteMap

    site_map = sites if sites is not None else SiteMap()
    return site_map.match_site(text.strip()[:200], all_charger_ids(session))
