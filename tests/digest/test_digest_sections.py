"""Digest sections: who acts decides the section; most urgent first; open vs. over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.digest.build import build_digest
from bot.digest.render import render_digest
from bot.incidents.models import Incident, PortStatus
from bot.store.sites import SiteMap

T = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def add(s: Session, n: int, owner: str, severity: str, opened_h: float,
        resolved_h: float | None = None) -> None:
    s.add(Incident(
        open_key=None if resolved_h is not None else f"port:CP-{n}:1:x", scope="port",
        site="S", charger=f"CP-{n}", connector=1, category="ground_fault", severity=severity,
        owner=owner, suppressed=False, summary=f"summary {n}", action=f"action {n}",
        confidence=0.9, rule="r", diagnosis={}, opened_at=T + timedelta(hours=opened_h),
        updated_at=T + timedelta(hours=opened_h),
        resolved_at=None if resolved_h is None else T + timedelta(hours=resolved_h),
        occurrences=1, flaps=0, ports=[]))
    s.add(PortStatus(charger=f"CP-{n}", connector=1, ts=T - timedelta(hours=1),
                     status="Available", up=True, message_fingerprint=f"fp{n}"))


def test_sections_by_owner_and_urgency(db_session: Session) -> None:
    add(db_session, 1, "site_staff", "outage", 1)
    add(db_session, 2, "site_staff", "safety", 3)
    add(db_session, 3, "electrician", "outage", 2)
    add(db_session, 4, "remote_operator", "degraded", 0)
    add(db_session, 5, "vendor_service", "outage", 0, resolved_h=1)
    add(db_session, 6, "site_staff", "outage", -30, resolved_h=-29)  # over before the day
    db_session.commit()
    d = build_digest(db_session, date(2026, 11, 20), ZoneInfo("UTC"), SiteMap(),
                     T + timedelta(hours=10))
    got = {s.key: [ln.charger for ln in s.lines] for s in d.sections}
    assert got == {"on_site": ["CP-2", "CP-1"], "service": ["CP-3"], "remote": ["CP-4"],
                   "recovered": ["CP-5"]}
    assert d.headline.ports_down_now == 3 and d.headline.safety_open == 1
    text = render_digest(d)
    assert text.index("Needs someone on site") < text.index("Needs vendor service")
    assert "To do (site staff): action 2" in text
