"""IncidentView: the one reading of an incident row that digest, answers and Slack share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.answers.model import cause_of
from bot.digest.model import DigestLine
from bot.incidents.models import Incident
from bot.incidents.view import IncidentView, evidence_of, open_seconds

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def stored(session: Session, **kw: Any) -> Incident:
    values: dict[str, Any] = {
        "open_key": f"site|Depot North|{kw.get('category', 'power_loss')}",
        "scope": "site",
        "site": "Depot North",
        "charger": None,
        "connector": None,
        "category": "power_loss",
        "severity": "outage",
        "owner": "utility",
        "suppressed": False,
        "summary": "Every port at the site lost power at once.",
        "action": "Call the utility.",
        "confidence": 0.9,
        "rule": "site_wide_cause",
        "diagnosis": {"evidence": [f"line {i}" for i in range(12)]},
        "opened_at": T0,
        "updated_at": T0 + timedelta(minutes=5),
        "occurrences": 3,
        "flaps": 0,
        "ports": [["CP-1", 1], ["CP-1", 2], ["CP-2", 1]],
        "model": "X1",
        "flapping": True,
    }
    values.update(kw)
    inc = Incident(**values)
    session.add(inc)
    session.flush()
    session.expire_all()  # read back what the database holds
    return session.get(Incident, inc.id)  # type: ignore[return-value]


def test_view_reads_the_row(db_session: Session) -> None:
    inc = stored(db_session)
    view = IncidentView.from_incident(inc)
    assert view.incident_id == inc.id and view.site == "Depot North" and view.charger is None
    assert (view.category, view.severity, view.owner) == ("power_loss", "outage", "utility")
    assert view.since == T0 and view.resolved_at is None and view.is_open
    assert view.ports == 3 and view.flapping and view.model == "X1" and view.occurrences == 3
    assert view.open_seconds(T0 + timedelta(hours=2)) == 7200


def test_upper_stages_build_on_the_same_view(db_session: Session) -> None:
    inc = stored(db_session, resolved_at=T0 + timedelta(minutes=30))
    line = DigestLine.from_incident(inc, duration_min=30.0)
    cause = cause_of(inc)
    shared = [f for f in IncidentView.__dataclass_fields__]
    assert [getattr(line, f) for f in shared] == [getattr(cause, f) for f in shared]
    assert cause.evidence == [f"line {i}" for i in range(8)]  # answers show at most eight
    assert cause.updated_at == T0 + timedelta(minutes=5) and not cause.is_open


def test_odd_rows_read_honestly(db_session: Session) -> None:
    inc = stored(
        db_session,
        scope="port",
        charger="CP-1",
        connector=1,
        diagnosis={"evidence": "not a list"},
        ports=[],
    )
    assert evidence_of(inc) == []
    assert IncidentView.from_incident(inc).ports == 1
    # a clock that runs behind the row never gives a negative duration
    assert open_seconds(T0, None, T0 - timedelta(minutes=1)) == 0.0
