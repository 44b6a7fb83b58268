"""First aid in the alert threads: run the policy (bot.actions.first_aid) and write what
it did, or in dry-run what it would have done, to each incident's thread, once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.actions.channels import Channels
from bot.actions.first_aid import Policy, run_first_aid
from bot.config import Settings
from bot.slack.actions_render import render_first_aid
from bot.slack.actions_thread import thread_channel
from bot.slack.dbutil import utcnow
from bot.slack.outbox import enqueue

log = logging.getLogger(__name__)
EVERY_S = 30.0


class FirstAidJob:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        channels: Callable[[], Channels],
        policy: Policy,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.settings, self.channels = engine, settings, channels
        self.policy, self.clock, self.on_enqueued = policy, clock, on_enqueued

    def run_once(self) -> int:
        """One pass; the number of actions taken or (dry-run) recorded."""
        now = self.clock()
        mode = self.settings.first_aid
        done = run_first_aid(self.engine, self.policy, self.channels(), now, mode=mode)
        if not done:
            return 0
        with Session(self.engine) as s, s.begin():
            for rule, row in done:
                if row.incident_id is None:
                    continue
                channel = thread_channel(s, row.incident_id)
                if channel is None:
                    continue
                enqueue(s, channel=channel,
                        message=render_first_aid(row, rule.id, self.settings.timezone,
                                                 mode == "dry-run"),
                        dedupe_key=f"first-aid:{row.id}", incident_id=row.incident_id,
                        ref="reply", now=now)
        if self.on_enqueued is not None:
            self.on_enqueued()
        return len(done)

    def run_forever(self, stop: threading.Event, every: float = EVERY_S) -> None:
        while not stop.wait(every):
            try:
                self.run_once()
            except Exception:  # one bad pass must not end first aid
                log.exception("first aid pass failed")
