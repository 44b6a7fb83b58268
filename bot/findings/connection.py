"""Connection health: boot loops, reconnect storms and chargers whose clock is off.

Read from what each charger sends and how it connects: BootNotifications (a boot),
connection events (events.CONNECTION, recorded by the tap and read from CSMS logs),
heartbeats, and the payload timestamps of status, meter and transaction frames set
against the time the CSMS received them.

- boot loop: `boot_min` boots or more, each within `boot_gap` of the last;
- reconnect storm: `storm_min` connections or more, each within `storm_gap` of the
  last, not explained by boots (a charger that boots also reconnects; that is a loop);
- clock skew: over at least `skew_min_samples` stamped frames, the median of payload
  time minus receipt time is beyond `skew_limit` and most samples agree, so a charger
  delivering frames it queued while offline (old stamps, late receipt) is not a clock.

A charger's normal life (a boot a day, a reconnect now and then, a few seconds of
delivery lag) reports nothing. Deterministic for the same observations.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import Any, Literal

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.ocpp.times import BadTimestamp, parse_timestamp
from bot.store.compact import Unreadable
from bot.store.models import MessageRow
from bot.vocab import Category, Owner, Severity

log = logging.getLogger(__name__)

Kind = Literal["boot", "connected", "closed", "heartbeat", "stamped"]
FindingKind = Literal["boot_loop", "reconnect_storm", "clock_skew"]
# Frames whose payload carries the charger's own clock.
_STAMPED = ("StatusNotification", "MeterValues", "StartTransaction", "StopTransaction",
            "TransactionEvent", "NotifyEvent")
_READ = ("BootNotification", "Heartbeat", *_STAMPED)
# `faultbot findings` and the weekly report look at the link over the last week.
WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    boot_min: int = 4
    boot_gap: timedelta = timedelta(minutes=15)
    storm_min: int = 6
    storm_gap: timedelta = timedelta(minutes=15)
    skew_limit: timedelta = timedelta(minutes=5)
    skew_min_samples: int = 5
    skew_agree: float = 0.8  # share of samples beyond the limit, on the median's side


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing a charger did, at the time the CSMS saw it."""

    charger: str
    ts: datetime
    kind: Kind
    payload_ts: datetime | None = None  # stamped frames: the charger's own clock
    firmware: str | None = None  # boots
    close_code: int | None = None  # closed


@dataclass(frozen=True, slots=True)
class ConnectionFinding:
    kind: FindingKind
    charger: str
    category: Category
    severity: Severity
    owner: Owner
    first: datetime
    last: datetime
    count: int  # boots, connections or stamped frames
    median_gap_s: float | None = None  # loops and storms: typical time between them
    boots: int = 0  # storms: boots among the connections (explains none of them)
    heartbeats: int = 0  # heartbeats received in the episode (the link worked between)
    close_codes: tuple[int, ...] = ()  # storms: the close codes seen, most common first
    firmware: str | None = None  # loops: the firmware the boots named
    skew_s: float | None = None  # clock: median payload time minus receipt time
    agree: float | None = None  # clock: share of samples off by more than the limit

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "charger": self.charger, "category": str(self.category),
            "severity": str(self.severity), "owner": str(self.owner),
            "first": _iso(self.first), "last": _iso(self.last), "count": self.count,
            "median_gap_s": None if self.median_gap_s is None else round(self.median_gap_s),
            "boots": self.boots, "heartbeats": self.heartbeats,
            "close_codes": list(self.close_codes), "firmware": self.firmware,
            "skew_s": None if self.skew_s is None else round(self.skew_s),
            "agree": None if self.agree is None else round(self.agree, 2),
        }


@dataclass(slots=True)
class _Charger:
    boots: list[Observation] = field(default_factory=list)
    connects: list[datetime] = field(default_factory=list)
    closes: list[Observation] = field(default_factory=list)
    heartbeats: list[datetime] = field(default_factory=list)
    skews: list[float] = field(default_factory=list)
    stamped: list[datetime] = field(default_factory=list)


def find_connection_issues(observations: Iterable[Observation],
                           cfg: ConnectionConfig | None = None) -> list[ConnectionFinding]:
    """Every connection finding, by charger then time."""
    cfg = cfg or ConnectionConfig()
    chargers: dict[str, _Charger] = defaultdict(_Charger)
    for o in sorted(observations, key=lambda o: (o.charger, o.ts, o.kind)):
        c = chargers[o.charger]
        if o.kind == "boot":
            c.boots.append(o)
        elif o.kind == "connected":
            c.connects.append(o.ts)
        elif o.kind == "closed":
            c.closes.append(o)
        elif o.kind == "heartbeat":
            c.heartbeats.append(o.ts)
        elif o.payload_ts is not None:
            c.skews.append((o.payload_ts - o.ts).total_seconds())
            c.stamped.append(o.ts)
    out: list[ConnectionFinding] = []
    for charger in sorted(chargers):
        c = chargers[charger]
        out += _boot_loops(charger, c, cfg)
        out += _storms(charger, c, cfg)
        skew = _clock(charger, c, cfg)
        if skew is not None:
            out.append(skew)
    out.sort(key=lambda f: (f.charger, f.first, f.kind))
    return out


def _episodes(times: list[datetime], gap: timedelta, least: int) -> Iterator[list[datetime]]:
    """Runs of times each within `gap` of the one before, at least `least` long."""
    run: list[datetime] = []
    for t in times:
        if run and t - run[-1] > gap:
            if len(run) >= least:
                yield run
            run = []
        run.append(t)
    if len(run) >= least:
        yield run


def _median_gap(run: list[datetime]) -> float:
    return median((b - a).total_seconds() for a, b in pairwise(run))


def _within(times: list[datetime], first: datetime, last: datetime) -> int:
    return sum(1 for t in times if first <= t <= last)


def _boot_loops(charger: str, c: _Charger, cfg: ConnectionConfig) -> list[ConnectionFinding]:
    out = []
    for run in _episodes([b.ts for b in c.boots], cfg.boot_gap, cfg.boot_min):
        names = sorted({b.firmware for b in c.boots if b.firmware and run[0] <= b.ts <= run[-1]})
        out.append(ConnectionFinding(
            "boot_loop", charger, Category.INTERNAL_ERROR, Severity.OUTAGE,
            Owner.VENDOR_SERVICE, run[0], run[-1], len(run), _median_gap(run),
            heartbeats=_within(c.heartbeats, run[0], run[-1]),
            firmware=", ".join(names) or None))
    return out


def _storms(charger: str, c: _Charger, cfg: ConnectionConfig) -> list[ConnectionFinding]:
    out = []
    for run in _episodes(c.connects, cfg.storm_gap, cfg.storm_min):
        boots = _within([b.ts for b in c.boots], run[0] - cfg.storm_gap, run[-1])
        if boots * 2 >= len(run):
            continue  # the charger rebooted: a boot loop, not the link
        codes: dict[int, int] = defaultdict(int)
        for cl in c.closes:
            if cl.close_code is not None and run[0] - cfg.storm_gap <= cl.ts <= run[-1]:
                codes[cl.close_code] += 1
        out.append(ConnectionFinding(
            "reconnect_storm", charger, Category.CONNECTIVITY, Severity.DEGRADED,
            Owner.REMOTE_OPERATOR, run[0], run[-1], len(run), _median_gap(run), boots=boots,
            heartbeats=_within(c.heartbeats, run[0], run[-1]),
            close_codes=tuple(sorted(codes, key=lambda k: (-codes[k], k)))))
    return out


def _clock(charger: str, c: _Charger, cfg: ConnectionConfig) -> ConnectionFinding | None:
    if len(c.skews) < cfg.skew_min_samples:
        return None
    mid = median(c.skews)
    limit = cfg.skew_limit.total_seconds()
    if abs(mid) <= limit:
        return None
    same_side = sum(1 for s in c.skews if abs(s) > limit and (s > 0) == (mid > 0))
    agree = same_side / len(c.skews)
    if agree < cfg.skew_agree:
        return None
    return ConnectionFinding(
        "clock_skew", charger, Category.CONFIGURATION, Severity.ADVISORY,
        Owner.REMOTE_OPERATOR, c.stamped[0], c.stamped[-1], len(c.skews),
        skew_s=mid, agree=agree)


# --- reading the observations ------------------------------------------------------------


def observation(charger: str, ts: datetime, message_type: int, action: str | None,
                payload: Any) -> Observation | None:
    """What one charger-to-CSMS frame (or connection event) says about the link, if
    anything. `payload` is the frame's payload (details for a connection event)."""
    if not isinstance(payload, dict):
        return None
    if message_type == 0:
        if action not in ("connected", "closed"):
            return None
        code = payload.get("closeCode")
        return Observation(charger, ts, "connected" if action == "connected" else "closed",
                           close_code=code if type(code) is int else None)
    if message_type != 2:
        return None
    if action == "BootNotification":
        fw: Any = payload.get("firmwareVersion")
        station = payload.get("chargingStation")
        if fw is None and isinstance(station, dict):
            fw = station.get("firmwareVersion")
        return Observation(charger, ts, "boot", firmware=fw[:100] if isinstance(fw, str) else None)
    if action == "Heartbeat":
        return Observation(charger, ts, "heartbeat")
    stamp = _payload_time(action, payload)
    return None if stamp is None else Observation(charger, ts, "stamped", payload_ts=stamp)


def _payload_time(action: str | None, payload: dict[str, Any]) -> datetime | None:
    raw: Any = payload.get("timestamp")
    if raw is None and action == "MeterValues":
        values = payload.get("meterValue")
        if isinstance(values, list) and values and isinstance(values[-1], dict):
            raw = values[-1].get("timestamp")
    return None if raw is None else _parse(raw)


def _parse(raw: Any) -> datetime | None:
    try:
        return parse_timestamp(raw)[0]
    except BadTimestamp:
        return None


def load_observations(session: Session, since: datetime, until: datetime, *,
                      heartbeats: bool = True) -> list[Observation]:
    """The observations stored for [since, until), by receipt time (without heartbeats
    when `heartbeats` is False: `stored_connection_issues` counts those in SQL)."""
    read = _READ if heartbeats else tuple(a for a in _READ if a != "Heartbeat")
    rows = session.execute(
        select(MessageRow.charger_id, MessageRow.ts, MessageRow.message_type, MessageRow.raw)
        .where(MessageRow.direction == "in", MessageRow.ts >= since, MessageRow.ts < until,
               or_(MessageRow.message_type == 0,
                   (MessageRow.message_type == 2) & MessageRow.action.in_(read)))
        .order_by(MessageRow.id))
    out = []
    for charger, ts, kind, raw in rows:
        if isinstance(raw, Unreadable):  # one damaged row never stops the report
            log.warning("connection health: a frame of %s skipped: %s", charger, raw.reason)
            continue
        o = observation_from_frame(charger, _aware(ts), kind, raw)
        if o is not None:
            out.append(o)
    return out


def stored_connection_issues(session: Session, since: datetime, until: datetime,
                             cfg: ConnectionConfig | None = None) -> list[ConnectionFinding]:
    """find_connection_issues over the log stored for [since, until), with the
    heartbeats counted in SQL: they are most of a week's rows and only ever counted
    within an episode, so they are never read into Python. Same findings, same numbers
    as `find_connection_issues(load_observations(...))`."""
    found = find_connection_issues(load_observations(session, since, until, heartbeats=False),
                                   cfg)
    episodes = [i for i, f in enumerate(found) if f.kind != "clock_skew"]
    for start in range(0, len(episodes), _COUNTS_AT_ONCE):
        chunk = episodes[start:start + _COUNTS_AT_ONCE]
        counts = {int(i): int(n) for i, n in session.execute(union_all(*(
            _heartbeats_in(i, found[i], since, until) for i in chunk)))}
        for i in chunk:
            found[i] = replace(found[i], heartbeats=int(counts[i]))
    return found


_COUNTS_AT_ONCE = 200  # episodes counted per statement (one SELECT each, UNION ALL)


def _heartbeats_in(i: int, f: ConnectionFinding, since: datetime, until: datetime) -> Any:
    """SELECT i, the heartbeats `f.charger` sent within the episode (both ends in)."""
    m = MessageRow
    return (select(literal(i).label("i"), func.count().label("n"))
            .where(m.charger_id == f.charger, m.direction == "in", m.message_type == 2,
                   m.action == "Heartbeat", m.ts >= max(since, f.first),
                   m.ts < until, m.ts <= f.last))


def observation_from_frame(charger: str, ts: datetime, kind: int, raw: str) -> Observation | None:
    """observation() for a stored frame's text; None for anything unreadable."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(frame, list) or len(frame) < 4 or frame[0] != kind:
        return None
    return observation(charger, ts, kind, frame[2] if isinstance(frame[2], str) else None,
                       frame[3])


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
