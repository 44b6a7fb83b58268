"""Read side of the store: history, current port state and charger lookup.

Triage replays history through the same rules by `rehydrate`-ing stored rows: each
raw frame is parsed again with the time, charger, direction, version and action that
were stored with it, so the rebuilt Message carries the same fact as the original.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ocpp.events import Message, Record
from bot.store.compact import Unreadable, first_unreadable
from bot.store.models import Charger, Connector, MessageRow
from bot.store.names import NameMatch, match_name
from bot.store.sites import SiteMap

log = logging.getLogger(__name__)


def messages_for(
    session: Session,
    charger: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[MessageRow]:
    """One charger's log by occurred_at (since inclusive, until exclusive)."""
    c = MessageRow
    stmt = select(c).where(c.charger_id == charger)
    if since is not None:
        stmt = stmt.where(c.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(c.occurred_at < until)
    if newest_first:
        stmt = stmt.order_by(c.occurred_at.desc(), c.ts.desc(), c.id.desc())
    else:
        stmt = stmt.order_by(c.occurred_at, c.ts, c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


@dataclass
class UnreadableRow:
    """A stored row with a value that could not be decoded (bot.store.compact): shown
    in its place as unreadable, with the reason, never parsed. Its attributes are the
    ones a reader of a rebuilt Message uses; a damaged one is U+FFFD."""

    unreadable: Unreadable  # the first damaged value: why the row cannot be read
    id: int
    charger: str
    ts: datetime
    occurred_at: datetime
    direction: str
    action: str | None
    ocpp_version: str
    version_inferred: bool
    message_type: int
    fingerprint: str
    raw: str
    violations: list[str] = field(default_factory=list)
    fact: Any = None


def _unreadable(row: MessageRow) -> UnreadableRow | None:
    bad = first_unreadable(row.raw, row.direction, row.action, row.ocpp_version,
                           row.fingerprint)
    if bad is None:
        return None
    return UnreadableRow(bad, row.id, row.charger_id, row.ts, row.occurred_at, row.direction,
                         row.action, row.ocpp_version, row.version_inferred, row.message_type,
                         row.fingerprint, row.raw)


def rehydrate(rows: Sequence[MessageRow]) -> list[Message | UnreadableRow]:
    """Messages rebuilt from stored rows, in the order given.

    Frames are re-parsed in the order the CSMS saw them so replies meet their CALLs;
    the stored action is passed as a hint for replies whose CALL is not among `rows`.
    A row with a value that could not be decoded stays in its place as an
    UnreadableRow (and is logged): a reader shows it, it never stops the others.
    """
    from bot.ocpp.parse import Parser  # here: `why` and `status` never parse (jsonschema)

    parser = Parser()
    rebuilt: dict[int, Message | UnreadableRow] = {}
    for row in sorted(rows, key=lambda r: (r.ts, r.id)):
        damaged = _unreadable(row)
        if damaged is not None:
            log.warning("message %s: %s; shown as unreadable", row.id, damaged.unreadable.reason)
            rebuilt[id(row)] = damaged
            continue
        try:
            frame = json.loads(row.raw)
        except ValueError:
            log.warning("message %s: stored raw frame is not JSON; skipped", row.fingerprint)
            continue
        record = Record(
            ts=row.ts,
            charger=row.charger_id,
            direction=row.direction,  # type: ignore[arg-type]  # the column holds only "in"/"out"
            frame=frame,
            ocpp=row.ocpp_version,
            raw=row.raw,
            source=row.source,
            action_hint=row.action,
        )
        message = parser.parse(record)
        if not isinstance(message, Message):
            log.warning("message %s: %s; skipped", row.fingerprint, message.reason)
            continue
        # what was decided at ingest stands (reader notes, inferred version, timing)
        message.occurred_at = row.occurred_at
        message.version_inferred = row.version_inferred
        message.violations = list(row.violations or [])
        message.fingerprint = row.fingerprint
        if message.action is None:
            message.action = row.action
        rebuilt[id(row)] = message
    return [rebuilt[id(r)] for r in rows if id(r) in rebuilt]


def all_charger_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Charger.id).order_by(Charger.id)))


def chargers_by_id(session: Session, ids: Iterable[str]) -> dict[str, Charger]:
    wanted = sorted(set(ids))
    found: dict[str, Charger] = {}
    for start in range(0, len(wanted), 500):  # keep IN lists within every backend's limits
        chunk = wanted[start : start + 500]
        rows = session.scalars(select(Charger).where(Charger.id.in_(chunk)))
        found.update((c.id, c) for c in rows)
    return found


def connector_states(
    session: Session,
    charger: str | None = None,
    site: str | None = None,
    sites: SiteMap | None = None,
) -> list[Connector]:
    """Current state of each port, by charger then port; all ports when neither
    charger nor site is given."""
    stmt = select(Connector).order_by(Connector.charger_id, Connector.connector_id)
    if charger is not None:
        stmt = stmt.where(Connector.charger_id == charger)
    if site is not None:
        members = (sites or SiteMap()).chargers_in(site, all_charger_ids(session))
        if not members:
            return []
        if len(members) <= 500:
            stmt = stmt.where(Connector.charger_id.in_(members))
        else:
            wanted = set(members)
            return [c for c in session.scalars(stmt) if c.charger_id in wanted]
    return list(session.scalars(stmt))


def match_charger(session: Session, text: str) -> NameMatch:
    """Exact id wins; else ids equal ignoring case, punctuation and leading zeros
    (`cp12` -> `CP-012`); else near misses as suggestions."""
    text = text.strip()
    if text and session.get(Charger, text) is not None:
        return NameMatch([text])
    return match_name(text, all_charger_ids(session))


def find_chargers(session: Session, text: str) -> list[str]:
    """Charger ids the text may mean, best first (several when ambiguous)."""
    return match_charger(session, text).ranked
