"""The feed clock: time as the message log tells it, advanced only by stored messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_TICK = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class FeedClock:
    """The newest CSMS time (`Message.ts`) folded so far, and the tick grid.

    CSMS time, not the payload's own time: a charger's clock may be hours off, and a
    buffered report delivered after a reconnect carries an old payload time but a new
    CSMS time, so it is in order here.
    """

    every: timedelta = DEFAULT_TICK
    now: datetime | None = None
    _next: datetime | None = None  # the first grid point after `now` (a cache)

    def advance(self, ts: datetime) -> datetime | None:
        """Move to `ts` if it is later. Returns the newest grid point crossed on the way
        (when time-based rules are due), or None. A late `ts` changes nothing."""
        previous = self.now
        if previous is not None and ts <= previous:
            return None
        self.now = ts
        if previous is None:
            self._next = self.grid_point(ts) + self.every
            return None
        following = self._next
        if following is None:
            following = self.grid_point(previous) + self.every
        if ts < following:
            self._next = following
            return None
        point = self.grid_point(ts)
        self._next = point + self.every
        return point

    def grid_point(self, ts: datetime) -> datetime:
        """The last grid point at or before `ts` (grid points are whole multiples of
        `every` since the epoch, so they do not depend on where a feed started)."""
        step = self.every.total_seconds()
        since = (ts - _EPOCH).total_seconds()
        return _EPOCH + timedelta(seconds=(since // step) * step)
