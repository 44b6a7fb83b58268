"""Readiness: can this process do its job right now?

Checked on each GET /health/ready, each with a fresh connection (a pooled one could
still point at a database that has since gone): the database answers, its schema is at
the newest migration of every branch, every feed this process runs is live and fresh,
and Slack is connected when Slack is configured. Liveness (/health/live) only says the
process answers; a load balancer drains on readiness, an orchestrator restarts on
liveness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.feeds.health import HealthState, utcnow

CONNECT_TIMEOUT_S = 3


@dataclass
class Readiness:
    database_url: str
    health: HealthState
    # None when Slack is off; else a function telling whether Slack is connected
    slack_connected: Callable[[], bool] | None = None
    _heads: frozenset[str] | None = field(default=None, init=False)

    def _script_heads(self) -> frozenset[str]:
        if self._heads is None:
            from alembic.script import ScriptDirectory

            from bot.store.db import MIGRATIONS_DIR

            self._heads = frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
        return self._heads

    def _database(self) -> tuple[str | None, str | None]:
        """(problem reaching the database, problem with its schema)."""
        from alembic.runtime.migration import MigrationContext

        url = make_url(self.database_url)
        args: dict[str, Any] = {}
        if url.get_backend_name() in ("postgresql", "mysql"):
            args["connect_timeout"] = CONNECT_TIMEOUT_S
        elif url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # read-write, never create: a database file that went away is not "reachable"
            url = url.set(database=f"file:{url.database}", query={"mode": "rw", "uri": "true"})
        engine = create_engine(url, poolclass=NullPool, connect_args=args)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current = frozenset(MigrationContext.configure(conn).get_current_heads())
        except Exception as exc:
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
            return f"database unreachable: {type(exc).__name__}: {first[:200]}", None
        finally:
            engine.dispose()
        if current != self._script_heads():
            return None, "database schema is not at the newest migration"
        return None, None

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, body) for GET /health/ready; blocking (run it in a thread)."""
        reachable, schema = self._database()
        checks: dict[str, Any] = {
            "database": {"ok": reachable is None, "problem": reachable},
            "migrations": {"ok": reachable is None and schema is None,
                           "problem": schema or ("not checked" if reachable else None)},
        }
        now = utcnow()
        for name, feed in sorted(self.health.feeds.items()):
            problem = None
            if not feed.live:
                problem = "not live"
            elif feed.lag(now) > self.health.max_lag:
                problem = f"lag over {self.health.max_lag}"
            checks[f"feed:{name}"] = {"ok": problem is None, "problem": problem,
                                      "lag_seconds": round(feed.lag(now).total_seconds(), 3)}
        if self.slack_connected is not None:
            try:
                connected = bool(self.slack_connected())
            except Exception:  # a failing probe means "not connected", never a 500
                connected = False
            checks["slack"] = {"ok": connected, "problem": None if connected else "not connected"}
        ready = all(c["ok"] for c in checks.values())
        return ready, {"ready": ready, "checks": checks}
