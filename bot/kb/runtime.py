"""Learning from the field: operator-taught entries and unknown-code sightings (DB-backed).

Taught entries are kept in memory and re-read at most every `refresh_s` seconds
(never per event); `teach` updates the memory at once, so the next identical query
in this process is answered from the taught entry. Unknown codes are counted with
one bulk upsert per batch; the chargers that sent each code are kept as (code, charger)
pairs (insert-ignore, also bulk), so "seen N times on M chargers" is exact.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.orm import Session

from bot.kb.knowledge import KnowledgeBase
from bot.kb.models import KBRuntimeEntry, KBUnknownCharger, KBUnknownCode
from bot.kb.normalize import CODE_LIMIT, TEXT_LIMIT, clean, loose_keys
from bot.kb.scope import glob_problem
from bot.kb.types import KBEntry, Match, MatchQuery
from bot.kb.vendors import vendor_key
from bot.store.base import table_of
from bot.store.dml import conflict_insert
from bot.store.models import CHARGER_ID_LEN
from bot.vocab import Category, Owner, Severity

CODE_MATCH_METHODS = frozenset({"exact", "normalized", "bitmask"})
GUESS_BELOW = 0.5
_BATCH_ROWS = 500  # rows per INSERT: stays under SQLite's bound-parameter limit
_NAME = 100


class TeachError(ValueError):
    """What an operator taught is not valid; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class UnknownSighting:
    vendor: str | None
    model: str | None
    firmware: str | None
    code: str
    info: str | None
    seen_at: datetime
    count: int = 1
    charger: str = ""  # the charger that sent it ('' = not known): counts distinct chargers


class SightingLike(Protocol):
    """Anything shaped like UnknownSighting (triage has its own); an optional `charger`
    attribute is read when present."""

    @property
    def vendor(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def firmware(self) -> str | None: ...
    @property
    def code(self) -> str: ...
    @property
    def info(self) -> str | None: ...
    @property
    def seen_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class UnknownCode:
    vendor: str
    model: str
    firmware: str
    code: str
    info: str | None
    first_seen: datetime
    last_seen: datetime
    count: int
    chargers: int = 0  # distinct chargers seen sending it (0 for rows older than kb_0002)


def unknown_code_key(vendor: str, model: str, firmware: str, code: str) -> str:
    """One short key for an unknown code's identity (links kb_unknown_chargers to it)."""
    joined = "\x1f".join((vendor, model, firmware, code))
    return hashlib.sha1(joined.encode("utf-8"), usedforsecurity=False).hexdigest()


def sighting_for(
    q: MatchQuery, match: Match, seen_at: datetime, charger: str = ""
) -> UnknownSighting | None:
    """A sighting to record when the query carried a code the base could not explain by code.

    Answers that came from text, the standard errorCode or a guess across vendors
    still leave the vendor's code unknown, so they are recorded too.
    """
    code = clean(q.code, CODE_LIMIT)
    if not code:
        return None
    explained = (
        match.entry is not None
        and match.method in CODE_MATCH_METHODS
        and not match.ambiguous
        and match.confidence >= GUESS_BELOW  # not a guess from another vendor's manual
    )
    if explained:
        return None
    return UnknownSighting(
        vendor=match.vendor or clean(q.vendor, 255) or None,
        model=clean(q.model, 100) or None,
        firmware=clean(q.firmware, 100) or None,
        code=code,
        info=clean(q.info, TEXT_LIMIT) or None,
        seen_at=seen_at,
        charger=charger,
    )


def _required(value: str | None, name: str, limit: int) -> str:
    text = clean(value, limit * 2)
    if not text:
        raise TeachError(f"{name} is required")
    if len(text) > limit:
        raise TeachError(f"{name} is longer than {limit} characters")
    return text


def _vocab(value: object, enum: type[Any], name: str, exclude: str | None = None) -> str:
    allowed = [e.value for e in enum if e.value != exclude]
    text = str(getattr(value, "value", value) or "").strip().lower()
    if text not in allowed:
        raise TeachError(f"{name} {text!r} is not one of {', '.join(allowed)}")
    return text


def _to_entry(row: KBRuntimeEntry) -> KBEntry:
    source = f"taught by {row.taught_by} on {row.taught_at:%Y-%m-%d}"
    if row.note:
        source += f" ({row.note})"
    return KBEntry(
        key=f"runtime:{row.id}",
        vendor=row.vendor,
        code=row.code,
        category=Category(row.category),
        severity=Severity(row.severity),
        owner=Owner(row.owner),
        meaning=row.meaning,
        action=row.action,
        escalation=row.escalation,
        source=source,
        models=(row.model,) if row.model else (),
    )


class RuntimeEntries:
    def __init__(
        self, engine: Engine, kb: KnowledgeBase | None = None, refresh_s: float = 30.0
    ) -> None:
        self.engine = engine
        self.kb = kb
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._generation = 0
        self._entries: list[KBEntry] = []
        self._fingerprint: tuple[tuple[int, datetime], ...] | None = None
        self._taught: dict[str, set[str]] = {}
        self._loaded_at = float("-inf")

    # -- taught entries ----------------------------------------------------------------
    def snapshot(self) -> tuple[int, list[KBEntry]]:
        """(generation, taught entries); re-reads the table at most every refresh_s."""
        if time.monotonic() - self._loaded_at >= self.refresh_s:
            self._reload()
        return self._generation, self._entries

    def _reload(self) -> None:
        with self._lock, Session(self.engine) as session:
            rows = list(session.scalars(select(KBRuntimeEntry).order_by(KBRuntimeEntry.id)))
            fingerprint = tuple((r.id, r.taught_at) for r in rows)
            if fingerprint != self._fingerprint:
                self._entries = [_to_entry(r) for r in rows]
                taught: dict[str, set[str]] = {}
                for entry in self._entries:
                    taught.setdefault(vendor_key(entry.vendor or ""), set()).update(
                        loose_keys(entry.code or "")
                    )
                self._taught = taught
                self._fingerprint = fingerprint
                self._generation += 1
            self._loaded_at = time.monotonic()

    def all(self) -> list[KBEntry]:
        self._reload()
        return list(self._entries)

    def rows(self) -> list[KBRuntimeEntry]:
        """The taught rows with their attribution (for export)."""
        with Session(self.engine) as session:
            return list(session.scalars(select(KBRuntimeEntry).order_by(KBRuntimeEntry.id)))

    def teach(
        self,
        vendor: str,
        code: str,
        category: Category | str,
        owner: Owner | str,
        severity: Severity | str,
        meaning: str,
        action: str,
        taught_by: str,
        model: str | None = None,
        escalation: str | None = None,
        note: str | None = None,
        taught_at: datetime | None = None,
    ) -> KBEntry:
        """Store (or replace) what an operator taught; used by matchers at once."""
        vendor_c = _required(vendor, "vendor", _NAME)
        if self.kb is not None:
            vendor_c = self.kb.resolve_vendor(vendor_c) or vendor_c
        code_c = _required(code, "code", CODE_LIMIT)
        model_c = clean(model, _NAME * 2)
        if model_c:
            problem = glob_problem(model_c)
            if problem:
                raise TeachError(problem)
        values = {
            "category": _vocab(category, Category, "category", exclude="unknown"),
            "owner": _vocab(owner, Owner, "owner"),
            "severity": _vocab(severity, Severity, "severity"),
            "meaning": _required(meaning, "meaning", 1000),
            "action": _required(action, "action", 1000),
            "escalation": clean(escalation, 1000) or None,
            "taught_by": _required(taught_by, "taught_by", 64),
            "taught_at": taught_at or datetime.now(UTC),
            "note": clean(note, 1000) or None,
        }
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(KBRuntimeEntry).where(
                    KBRuntimeEntry.vendor == vendor_c,
                    KBRuntimeEntry.model == model_c,
                    KBRuntimeEntry.code == code_c,
                )
            )
            if row is None:
                row = KBRuntimeEntry(vendor=vendor_c, model=model_c, code=code_c, **values)
                session.add(row)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            session.flush()
            entry = _to_entry(row)
        self._reload()
        return entry

    def is_taught(self, vendor: str | None, code: str) -> bool:
        self.snapshot()
        keys = self._taught.get(vendor_key(vendor or ""))
        return keys is not None and not keys.isdisjoint(loose_keys(code))

    # -- unknown codes -----------------------------------------------------------------
    def record_unknown(
        self, items: Sequence[SightingLike], *, conn: Connection | None = None
    ) -> int:
        """Count sightings with one bulk upsert per batch; returns the distinct codes written.
        With `conn`, write inside the caller's transaction (the pipeline's batch)."""
        merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        pairs: dict[tuple[str, str], datetime] = {}  # (code_key, charger) -> first seen
        for s in items:
            code = clean(s.code, CODE_LIMIT)
            if not code:
                continue
            vendor = clean(s.vendor, _NAME)
            if vendor and self.kb is not None:
                vendor = self.kb.resolve_vendor(vendor) or vendor
            key = (vendor, clean(s.model, _NAME), clean(s.firmware, _NAME), code)
            seen = s.seen_at if s.seen_at.tzinfo else s.seen_at.replace(tzinfo=UTC)
            count = max(1, int(getattr(s, "count", 1) or 1))
            row = merged.get(key)
            if row is None:
                row = merged[key] = {
                    "vendor": key[0],
                    "model": key[1],
                    "firmware": key[2],
                    "code": code,
                    "info": clean(s.info, TEXT_LIMIT) or None,
                    "first_seen": seen,
                    "last_seen": seen,
                    "count": count,
                    "code_key": unknown_code_key(*key),
                    "chargers": 0,
                }
                self._pair(pairs, row["code_key"], getattr(s, "charger", ""), seen)
                continue
            self._pair(pairs, row["code_key"], getattr(s, "charger", ""), seen)
            row["count"] += count
            row["first_seen"] = min(row["first_seen"], seen)
            if seen >= row["last_seen"]:
                row["last_seen"] = seen
                row["info"] = clean(s.info, TEXT_LIMIT) or row["info"]
        # Sorted, so concurrent writers lock rows in the same order.
        rows = sorted(merged.values(), key=lambda r: r["code_key"])
        pair_rows = [
            {"code_key": k, "charger": c, "first_seen": t} for (k, c), t in sorted(pairs.items())
        ]
        if rows and conn is not None:
            self._write_unknown(conn, rows, pair_rows)
        elif rows:
            with self.engine.begin() as own:
                self._write_unknown(own, rows, pair_rows)
        return len(rows)

    @staticmethod
    def _pair(
        pairs: dict[tuple[str, str], datetime], code_key: str, charger: object, seen: datetime
    ) -> None:
        name = clean(charger, CHARGER_ID_LEN)
        if name:
            first = pairs.get((code_key, name))
            pairs[(code_key, name)] = seen if first is None else min(first, seen)

    def _write_unknown(
        self, conn: Connection, rows: list[dict[str, Any]], pair_rows: list[dict[str, Any]]
    ) -> None:
        for start in range(0, len(rows), _BATCH_ROWS):
            conn.execute(self._upsert(rows[start : start + _BATCH_ROWS]))
        if pair_rows:
            self._count_chargers(conn, pair_rows)

    def _count_chargers(self, conn: Connection, pair_rows: list[dict[str, Any]]) -> None:
        """Insert-ignore the (code, charger) pairs, then add the new ones to `chargers`.

        PostgreSQL and SQLite return the pairs actually inserted, so the increment is exact
        even with several workers; MySQL/MariaDB recount the touched codes instead."""
        codes, pairs = table_of(KBUnknownCode), table_of(KBUnknownCharger)
        returning = conn.dialect.name in ("postgresql", "sqlite")
        new: Counter[str] = Counter()
        for start in range(0, len(pair_rows), _BATCH_ROWS):
            stmt = self._insert_ignore(pairs, pair_rows[start : start + _BATCH_ROWS])
            if returning:
                new.update(key for (key,) in conn.execute(stmt.returning(pairs.c.code_key)))
            else:
                conn.execute(stmt)
        if returning:
            if new:
                conn.execute(
                    update(codes)
                    .where(codes.c.code_key == bindparam("b_key"))
                    .values(chargers=codes.c.chargers + bindparam("b_new")),
                    [{"b_key": k, "b_new": n} for k, n in sorted(new.items())],
                )
            return
        keys = sorted({r["code_key"] for r in pair_rows})
        counted = select(func.count()).where(pairs.c.code_key == codes.c.code_key).scalar_subquery()
        for start in range(0, len(keys), _BATCH_ROWS):
            chunk = keys[start : start + _BATCH_ROWS]
            conn.execute(update(codes).where(codes.c.code_key.in_(chunk)).values(chargers=counted))

    def _insert_ignore(self, table: Any, rows: list[dict[str, Any]]) -> Any:
        name = self.engine.dialect.name
        if name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            return mysql_insert(table).values(rows).prefix_with("IGNORE")
        stmt = conflict_insert(name, table)
        assert stmt is not None, name  # the other dialects returned above
        return stmt.values(rows).on_conflict_do_nothing()

    def _upsert(self, rows: list[dict[str, Any]]) -> Any:
        table = table_of(KBUnknownCode)
        name = self.engine.dialect.name
        if name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            stmt = mysql_insert(table).values(rows)
            new = stmt.inserted
            return stmt.on_duplicate_key_update(
                count=table.c.count + new.count,
                first_seen=func.least(table.c.first_seen, new.first_seen),
                last_seen=func.greatest(table.c.last_seen, new.last_seen),
                info=func.coalesce(new.info, table.c.info),
            )
        on_conflict = conflict_insert(name, table)
        assert on_conflict is not None, name  # the other dialects returned above
        # SQLite's two-argument min/max are scalar functions, like least/greatest.
        least, greatest = (func.min, func.max) if name == "sqlite" else (func.least, func.greatest)
        upsert = on_conflict.values(rows)
        new = upsert.excluded
        return upsert.on_conflict_do_update(
            index_elements=["vendor", "model", "firmware", "code"],
            set_={
                "count": table.c.count + new.count,
                "first_seen": least(table.c.first_seen, new.first_seen),
                "last_seen": greatest(table.c.last_seen, new.last_seen),
                "info": func.coalesce(new.info, table.c.info),
            },
        )

    def unknown(self, limit: int = 50) -> list[UnknownCode]:
        """Most frequent unknown codes first, leaving out codes taught since."""
        out: list[UnknownCode] = []
        for row in self._unknown_rows():
            if self.is_taught(row.vendor, row.code):
                continue
            out.append(
                UnknownCode(
                    row.vendor,
                    row.model,
                    row.firmware,
                    row.code,
                    row.info,
                    row.first_seen,
                    row.last_seen,
                    row.count,
                    row.chargers,
                )
            )
            if len(out) >= limit:
                break
        return out

    def _unknown_rows(self) -> Iterator[KBUnknownCode]:
        page, offset = 200, 0
        order = (KBUnknownCode.count.desc(), KBUnknownCode.last_seen.desc(), KBUnknownCode.id)
        with Session(self.engine) as session:
            while True:
                rows = list(
                    session.scalars(
                        select(KBUnknownCode).order_by(*order).offset(offset).limit(page)
                    )
                )
                yield from rows
                if len(rows) < page:
                    return
                offset += page
