"""Forgiving names: what a person typed -> the charger or site they meant."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.orm import Session

from bot.store.names import NameMatch, match_name, normalize_name

_TTL_S = 30.0  # the index is rebuilt when this old or when the number of chargers changes
_lock = threading.Lock()
_index: dict[str, tuple[float, int, list[str], dict[str, list[str]]]] = {}


def _charger_index(session: Session) -> tuple[list[str], dict[str, list[str]]]:
    """All charger ids and a normalized-spelling index, cached per database."""
    from sqlalchemy import func, select

    from bot.store.models import Charger
    from bot.store.queries import all_charger_ids

    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    count = session.scalar(select(func.count()).select_from(Charger)) or 0
    with _lock:
        hit = _index.get(key)
    if hit is not None and now - hit[0] < _TTL_S and hit[1] == count:
        return hit[2], hit[3]
    ids = all_charger_ids(session)
    index: dict[str, list[str]] = {}
    for charger in ids:
        index.setdefault(normalize_name(charger), []).append(charger)
    with _lock:
        _index[key] = (now, len(ids), ids, index)
    return ids, index


def resolve_charger(session: Session, text: str) -> NameMatch:
    """`cp12` -> CP-012; several equal matches -> all of them; none -> near misses.

    Same rules as bot.store.queries.match_charger; the exact id is one primary-key
    lookup and the forgiving spellings use a cached index, so answers stay fast on a
    large fleet.
    """
    from bot.store.models import Charger

    text = text.strip()[:200]
    if text and session.get(Charger, text) is not None:
        return NameMatch([text])
    ids, index = _charger_index(session)
    same = index.get(normalize_name(text))
    if same:
        return match_name(text, same)  # orders equal spellings like the store does
    return match_name(text, ids)  # near misses: did you mean


def resolve_site(session: Session, text: str, sites: Any) -> NameMatch:
    """Sites from the sites file plus one-charger sites of every known charger."""
    from bot.store.sites import SiteMap

    site_map = sites if sites is not None else SiteMap()
    ids, _ = _charger_index(session)
    return site_map.match_site(text.strip()[:200], ids)
