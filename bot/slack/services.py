"""What listeners need from the rest of faultbot, built once per app.

Listeners stay thin: they parse, ack, and call these. Heavy objects (the knowledge
base, the matcher, the site map) are built on first use, not at start-up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.slack.alerts import AlertPublisher
from bot.slack.dbutil import insert_ignore, utcnow
from bot.slack.models import SlackSeenEvent
from bot.slack.outbox import OutboxWorker
from bot.slack.permissions import ChannelMembers, Policy
from bot.store.base import table_of

log = logging.getLogger(__name__)


class SlackServices:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        worker: OutboxWorker | None,
        *,
        publisher: AlertPublisher | None = None,
        clock: Callable[[], datetime] = utcnow,
        sites: Any = None,
        matcher: Any = None,
        runtime: Any = None,
        client: Any = None,
        remote: Any = None,
    ) -> None:
        from bot.actions.channels import Channels

        self.engine = engine
        self.settings = settings
        self.worker = worker
        self.clock = clock
        self.publisher = publisher or AlertPublisher(engine, settings, clock=clock)
        self._sites = sites
        self._matcher = matcher
        self._runtime = runtime
        # The channels that reach chargers for remote actions (none: buttons say why).
        self.remote: Channels = remote if remote is not None else Channels()
        client = client if client is not None else getattr(worker, "client", None)
        self.policy = Policy(settings, ChannelMembers(client) if client is not None else _unknown)
        self._deliver_lock = threading.Lock()
        self._dirty = threading.Event()

    @property
    def tz(self) -> Any:
        return self.settings.timezone

    @property
    def command(self) -> str:
        return self.settings.slash_command

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def deliver(self) -> None:
        """Send what was just queued, now. One pass at a time: a caller that finds a
        pass running marks the outbox dirty and the running pass goes round again."""
        if self.worker is None:
            return
        self._dirty.set()
        self.worker.kick()  # a run_forever loop, if any, wakes too
        while self._dirty.is_set():
            if not self._deliver_lock.acquire(blocking=False):
                return
            try:
                while self._dirty.is_set():
                    self._dirty.clear()
                    self.worker.run_once()
            except Exception:
                log.exception("outbox delivery after a Slack action failed")
                return
            finally:
                self._deliver_lock.release()

    def first_delivery(self, event_id: str | None) -> bool:
        """False when this Events API delivery was already handled (a Slack retry)."""
        if not event_id:
            return True
        with self.transaction() as s:
            values = {"event_id": event_id[:80], "seen_at": self.clock()}
            return insert_ignore(s, table_of(SlackSeenEvent), values)

    # -- lazily built domain objects ---------------------------------------------------
    @property
    def sites(self) -> Any:
        if self._sites is None:
            from bot.store.sites import SiteMap

            self._sites = SiteMap.from_settings(self.settings)
        return self._sites

    @cached_property
    def kb(self) -> Any:
        from bot.kb.loader import default_knowledge

        return default_knowledge()

    @property
    def runtime(self) -> Any:
        if self._runtime is None:
            from bot.kb.runtime import RuntimeEntries

            self._runtime = RuntimeEntries(self.engine, self.kb)
        return self._runtime

    @property
    def matcher(self) -> Any:
        if self._matcher is None:
            from bot.kb.matcher import Matcher

            self._matcher = Matcher(self.kb, runtime=self.runtime)
        return self._matcher


def _unknown(channel: str) -> frozenset[str] | None:
    return None  # no Slack client: membership cannot be known, so nobody is a member
