"""NEVI daily uptime arithmetic, checked against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.incidents.models import DiagnosisRow, Incident, PortStatus
from bot.incidents.uptime import day_window, port_uptime, site_uptime

DAY = date(2026, 11, 20)
UTCZ = ZoneInfo("UTC")
_ids = count()


def at(hh: int, mm: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def status(s: Session, charger: str, conn: int, ts: datetime, st: str) -> str:
    fp = f"fp{next(_ids)}"
    up = st not in ("Faulted", "Unavailable")
    s.add(PortStatus(charger=charger, connector=conn, ts=ts, status=st, up=up,
                     message_fingerprint=fp))
    return fp


def incident(s: Session, *, scope: str, category: str, owner: str, opened: datetime,
             resolved: datetime | None, charger: str | None = None, connector: int | None = None,
             ports: list | None = None, rule: str = "r") -> None:
    s.add(Incident(open_key=None if resolved else f"k{next(_ids)}", scope=scope, site="S",
                   charger=charger, connector=connector, category=category, severity="outage",
                   owner=owner, suppressed=False, summary="", action="", confidence=1.0,
                   rule=rule, diagnosis={}, opened_at=opened, updated_at=opened,
                   resolved_at=resolved, occurrences=1, flaps=0, ports=ports or []))


def one(ports: list, charger: str, conn: int = 1):
    return next(p for p in ports if (p.charger, p.connector) == (charger, conn))


def test_plain_outage(db_session: Session) -> None:
    # Faulted 10:00-13:00 -> 180 min down -> (1440-180)/1440 = 87.5 %
    status(db_session, "A", 1, at(9), "Available")
    status(db_session, "A", 1, at(10), "Faulted")
    status(db_session, "A", 1, at(13), "Available")
    db_session.commit()
    p = one(port_uptime(db_session, DAY, UTCZ), "A")
    assert (p.outage_min, p.excluded_min) == (180, 0)
    assert p.uptime_pct == pytest.approx(87.5)


def test_state_carries_over_midnight_and_clips(db_session: Session) -> None:
    # Faulted since 22:00 the day before, recovers 06:00: 360 min inside the day
    status(db_session, "A", 1, at(22, day=19), "Faulted")
    status(db_session, "A", 1, at(6), "Available")
    # Unavailable from 23:00 to the next morning: 60 min inside the day
    status(db_session, "A", 1, at(23), "Unavailable")
    status(db_session, "A", 1, at(5, day=21), "Available")
    db_session.commit()
    p = one(port_uptime(db_session, DAY, UTCZ), "A")
    assert p.outage_min == 420
    assert p.uptime_pct == pytest.approx((1440 - 420) / 1440 * 100)


def test_utility_exclusion_from_a_site_incident(db_session: Session) -> None:
    # two chargers down 08:00-10:00 in a site-wide power loss; the site incident covers
    # 08:00-09:30, so 90 of the 120 minutes are excluded -> 30 count.
    for c in ("A", "B"):
        status(db_session, c, 1, at(8), "Faulted")
        status(db_session, c, 1, at(10), "Available")
    incident(db_session, scope="site", category="power_loss", owner="electrician",
             opened=at(8), resolved=at(9, 30), ports=[["A", 1, None], ["B", 0, None]])
    db_session.commit()
    ports = port_uptime(db_session, DAY, UTCZ)
    for c in ("A", "B"):
        p = one(ports, c)
        assert (p.outage_min, p.excluded_min) == (120, 90)
        assert p.uptime_pct == pytest.approx((1440 - 30) / 1440 * 100)
        assert [(e.reason, e.minutes) for e in p.exclusions] == [("utility", 90)]
    (site,) = site_uptime(db_session, DAY, UTCZ, site_of=lambda _c: "S")
    assert site.outage_min == 240 and site.excluded_min == 180


def test_vehicle_caused_fault_is_excluded(db_session: Session) -> None:
    status(db_session, "A", 1, at(12), "Faulted")
    status(db_session, "A", 1, at(12, 45), "Available")
    incident(db_session, scope="port", category="ev_communication", owner="vehicle_oem",
             opened=at(12), resolved=at(12, 45), charger="A", connector=1,
             rule="vehicle_following")
    db_session.commit()
    p = one(port_uptime(db_session, DAY, UTCZ), "A")
    assert (p.outage_min, p.excluded_min, p.uptime_pct) == (45, 45, 100.0)


def test_silent_charger_and_connector_zero_take_every_port_down(db_session: Session) -> None:
    for n in (1, 2):
        status(db_session, "A", n, at(0), "Available")
    # connector 0 Faulted 01:00-01:30 -> both ports down 30 min
    status(db_session, "A", 0, at(1), "Faulted")
    status(db_session, "A", 0, at(1, 30), "Available")
    # silent 03:00-05:00 (connectivity incident) -> both ports down 120 min more
    incident(db_session, scope="charger", category="connectivity", owner="site_staff",
             opened=at(3), resolved=at(5), charger="A", connector=0, rule="silent_charger")
    # a connectivity fault of another kind (a lost link to the energy manager) while the
    # charger keeps talking is not a silence: no outage of its own
    incident(db_session, scope="charger", category="connectivity", owner="site_staff",
             opened=at(6), resolved=at(9), charger="A", connector=0, rule="kb_match")
    db_session.commit()
    ports = port_uptime(db_session, DAY, UTCZ)
    assert [(p.connector, p.outage_min, p.excluded_min) for p in ports] == [
        (1, 150, 0), (2, 150, 0)
    ]


def test_phantom_fault_is_not_an_outage(db_session: Session) -> None:
    fp = status(db_session, "A", 1, at(14), "Faulted")
    status(db_session, "A", 1, at(18), "Charging")
    db_session.add(DiagnosisRow(message_fingerprint=fp, charger="A", connector=1, ts=at(14),
                                category="cooling_failure", severity="advisory",
                                owner="none", suppressed=True, rule="fault_while_charging",
                                confidence=0.9, body={}))
    db_session.commit()
    p = one(port_uptime(db_session, DAY, UTCZ), "A")
    assert p.outage_min == 0 and p.uptime_pct == 100.0


def test_site_timezone_moves_the_day(db_session: Session) -> None:
    # 03:00-07:00 UTC is 22:00-02:00 in New York (UTC-5 in November): 120 min on the 20th
    status(db_session, "A", 1, at(3, day=21), "Faulted")
    status(db_session, "A", 1, at(7, day=21), "Available")
    db_session.commit()
    ny = ZoneInfo("America/New_York")
    p = one(port_uptime(db_session, DAY, UTCZ, tz_of=lambda _site: ny), "A")
    assert p.outage_min == 120
    assert day_window(DAY, ny) == (at(5), at(5, day=21))


def test_open_outage_stops_at_now(db_session: Session) -> None:
    status(db_session, "A", 1, at(20), "Faulted")
    db_session.commit()
    p = one(port_uptime(db_session, DAY, UTCZ, now=at(21)), "A")
    assert p.outage_min == 60
    p = one(port_uptime(db_session, DAY, UTCZ, now=at(9, day=22)), "A")
    assert p.outage_min == 240
