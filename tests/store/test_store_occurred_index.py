"""occurred_at is stored only when it differs from ts (migration store_0006): readers
see the payload time or ts as before, and one charger's history by time still uses the
(charger_id, coalesce(occurred_at, ts)) index."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.ocpp.readers import read_lines
from bot.store.db import make_engine, migrate
from bot.store.loader import load
from bot.store.models import MessageRow
from bot.store.queries import messages_for

_LINES = [json.dumps(o) for o in [
    {"ts": "2026-11-19T10:00:00Z", "charger": "CP-1", "dir": "in", "ocpp": "1.6",
     "frame": [2, "h1", "Heartbeat", {}]},
    # a status whose payload time (sane, earlier) is not ts
    {"ts": "2026-11-19T10:00:05Z", "charger": "CP-1", "dir": "in", "ocpp": "1.6",
     "frame": [2, "s1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                               "status": "Available",
                                               "timestamp": "2026-11-19T09:59:58Z"}]},
    {"ts": "2026-11-19T10:00:07Z", "charger": "CP-1", "dir": "in", "ocpp": "1.6",
     "frame": [2, "h2", "Heartbeat", {}]},
]]


def test_occurred_at_is_stored_only_when_it_differs_and_read_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    migrate(engine)
    assert load(engine, read_lines(_LINES, source="t")).stored == 3
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT occurred_at FROM messages ORDER BY id"))]
    assert stored[0] is None and stored[2] is None and stored[1] is not None
    with Session(engine) as s:
        rows = messages_for(s, "CP-1")
        assert [r.unique_id for r in rows] == ["s1", "h1", "h2"]  # by occurred_at
        assert rows[0].occurred_at == datetime(2026, 11, 19, 9, 59, 58, tzinfo=UTC)
        assert rows[1].occurred_at == rows[1].ts
        since = messages_for(s, "CP-1", since=datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
        assert [r.unique_id for r in since] == ["h1", "h2"]
        stmt = (select(MessageRow).where(MessageRow.charger_id == "CP-1",
                                         MessageRow.occurred_at >= datetime(2026, 1, 1, tzinfo=UTC))
                .order_by(MessageRow.occurred_at))
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # the time bound is searched in the index, not filtered after it
    assert "USING INDEX ix_messages_charger_occurred (charger_id=? AND <expr>>?)" in plan
    engine.dispose()
