"""Forgiving names: what a person typed -> the charger or site they meant."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from bot.store.names import NameMatch, match_name, normalize_name

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

_TTL_S = 30.0  # the index is rebuilt when this old or when the number of chargers changes
_lock = threading.Lock()
_index: dict[str, tuple[float, int, list[str], dict[str, list[str]]]] = {}


def _charger_index(session: Session | Connection) -> tuple[list[str], dict[str, list[str]]]:
    """All charger ids and a normalized-spelling index, cached per database."""
    from sqlalchemy import Connection, func, select

    from bot.store.core_tables import core_table

    chargers = core_table("chargers")
    bind = session if isinstance(session, Connection) else session.get_bind()
    key = str(bind.engine.url)
    now = time.monotonic()
    count = session.execute(select(func.count()).select_from(chargers)).scalar() or 0
    with _lock:
        hit = _index.get(key)
    if hit is not None and now - hit[0] < _TTL_S and hit[1] == count:
        return hit[2], hit[3]
    ids = list(session.execute(select(chargers.c.id).order_by(chargers.c.id)).scalars())
    index: dict[str, list[str]] = {}
    for charger in ids:
        index.setdefault(normalize_name(charger), []).append(charger)
    with _lock:
        _index[key] = (now, len(ids), ids, index)
    return ids, index


def resolve_charger(session: Session | Connection, text: str) -> NameMatch:
    """`cp12` -> CP-012; several equal matches -> all of them; none -> near misses.

    Same rules as bot.store.queries.match_charger; the exact id is one primary-key
    lookup and the forgiving spellings use a cached index, so answers stay fast on a
    large fleet.
    """
    from sqlalchemy import select

    from bot.store.core_tables import core_table

    chargers = core_table("chargers")
    text = text.strip()[:200]
    if text and session.execute(
        select(chargers.c.id).where(chargers.c.id == text)
    ).first() is not None:
        return NameMatch([text])
    ids, index = _charger_index(session)
    same = index.get(normalize_name(text))
    if same:
        return match_name(text, same)  # orders equal spellings like the store does
    return match_name(text, ids)  # near misses: did you mean


def resolve_site(session: Session | Connection, text: str, sites: Any) -> NameMatch:
    """Sites from the sites file plus one-charger sites of every known charger."""
    from bot.store.sites import SiteMap

    site_map = sites if sites is not None else SiteMap()
    ids, _ = _charger_index(session)
    return site_map.match_site(text.strip()[:200], ids)
