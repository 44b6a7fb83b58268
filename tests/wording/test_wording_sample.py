"""Issue 9 item 5: the sample's own outputs must not contradict themselves.

Each test reads real output (the bundled sample through the pipeline, then the digest,
`why` and the Slack digest) and pins the corrected wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sample_db import sample_db as load_sample_db
from sqlalchemy import Engine

from bot.answers.render import render_why
from bot.answers.why import why
from bot.digest.build import build_digest
from bot.digest.model import VISIT_AFTER_MIN, Digest
from bot.digest.render import render_digest
from bot.store.db import make_sessionmaker

DAY = date(2026, 11, 20)
ZONE = ZoneInfo("UTC")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sample(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Any, datetime]]:
    """The sample feed loaded once per backend (it takes seconds)."""
    yield from load_sample_db(request, tmp_path_factory.mktemp("wording"))


def _digest(sample: tuple[Engine, Any, datetime]) -> Digest:
    engine, sites, end = sample
    with make_sessionmaker(engine)() as session:
        return build_digest(session, DAY, ZONE, sites, end)


def _why(sample: tuple[Engine, Any, datetime], charger: str, now: str) -> str:
    engine, sites, _ = sample
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        return render_why(why(session, charger, now=at, sites=sites))


def test_a_charger_dark_for_hours_is_not_filed_under_no_visit(sample: Any) -> None:
    d = _digest(sample)
    # CP-003 has been dark since 11:07, CP-035 since 14:37: past the visit threshold
    on_site = {ln.charger: ln for ln in d.section("on_site").lines}
    assert {"CP-003", "CP-035"} <= set(on_site)
    assert all(on_site[c].visit_due and on_site[c].duration_min >= VISIT_AFTER_MIN
               for c in ("CP-003", "CP-035"))
    assert not [ln for ln in d.section("remote").lines if ln.category == "connectivity"]
    text = render_digest(d, "text")
    assert "no visit needed" not in text
    block = text[text.index("Needs someone on site"):text.index("Recovered or resolved")]
    assert "CP-003" in block
    assert "Dark for 10 h 52 min: remote steps have not brought it back, so send someone " \
           "on site." in block


def test_a_silent_charger_line_names_when_it_went_quiet_not_a_stale_duration(
        sample: Any) -> None:
    text = render_digest(_digest(sample), "text")
    line = next(ln for ln in text.splitlines() if "CP-003: not talking" in ln)
    assert "since 11:07 (10 h 52 min)" in line
    body = text[text.index(line):].splitlines()[1]
    assert body.strip().startswith("The charger has sent nothing since Nov 20 11:07 UTC ")
    assert not re.search(r"sent nothing for \d", text)  # no second, disagreeing duration


def test_why_counts_a_port_in_its_recovery_hold_down_as_recovering(sample: Any) -> None:
    out = _why(sample, "CP-020", "2026-11-20T13:05")
    assert "Port 1: Available since Nov 20 13:02." in out
    assert "port cannot charge" not in out
    assert "Every port can charge; 1 is back after a fault and recovering" in out
    assert "It looks healthy again since Nov 20 13:02" in out
    # while it is still faulted (13:00:30 in the flap), it is counted as down
    assert "1 of 1 port cannot charge." in _why(sample, "CP-020", "2026-11-20T13:00:30")


def test_an_ignored_phantom_is_not_also_listed_as_a_fault(sample: Any) -> None:
    out = _why(sample, "CP-018", "2026-11-20T21:59")
    history = out[out.index("Before that:"):out.index("Ignored on purpose:")]
    for day in ("Nov 19 3:10", "Nov 20 3:10"):
        assert f"{day}  ignored: internal error" in history
        assert f"{day}  fault: internal error" not in history
    assert "Nov 18 0:02  fault: internal error" in history  # the real one stays a fault


def test_a_sub_minute_incident_shows_its_seconds(sample: Any) -> None:
    out = _why(sample, "CP-018", "2026-11-20T21:59")
    assert "Nov 18 0:02 to Nov 18 0:02 (5 s), port 1: internal error." in out


def test_evidence_names_what_decided_before_what_did_not_match(sample: Any) -> None:
    out = _why(sample, "CP-005", "2026-11-20T09:17")
    shown = [ln.strip()[2:] for ln in out[out.index("Evidence:"):].splitlines()[1:5]]
    assert shown[1] == ("info EMERGENCY_STOP_BUTTON_1 matched the emergency_stop phrasing "
                        "'EMERGENCY_STOP_BUTTON' (phrasing, score 100)")
    assert "vendorErrorCode F400 is not in Alfen's manual" in shown[2:]
    # on every stored diagnosis, a line naming the match comes before any miss
    from sqlalchemy import select

    from bot.incidents.models import DiagnosisRow
    engine = sample[0]
    with make_sessionmaker(engine)() as session:
        bodies = session.scalars(select(DiagnosisRow.body)).all()
    checked = 0
    for body in bodies:
        ev = body["evidence"]
        hits = [i for i, e in enumerate(ev) if " matched " in e]
        misses = [i for i, e in enumerate(ev) if " is not in " in e or "says nothing" in e]
        if hits and misses:
            checked += 1
            assert hits[0] < misses[0], ev
    assert checked >= 5


def _slack_lines(sample: Any) -> list[str]:
    from bot.slack.render.digest import render_digest_messages

    texts = []
    for message in render_digest_messages(_digest(sample), ZONE):
        for block in message.blocks:
            if block.get("type") == "section" and "text" in block:
                texts.extend(block["text"]["text"].splitlines())
    return texts


def test_slack_digest_tells_two_incidents_on_one_port_apart(sample: Any) -> None:
    cp10 = [ln for ln in _slack_lines(sample) if "*CP-010 port 1" in ln]
    assert len(cp10) == 2 and cp10[0] != cp10[1]
    spans = sorted(re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", ln).rsplit(" · ", 1)[-1]
                   for ln in cp10)
    assert spans == ["2026-11-20 07:15 UTC to 2026-11-20 07:36 UTC (21 min)",
                     "2026-11-20 16:50 UTC to 2026-11-20 17:23 UTC (33 min)"]


def test_slack_durations_under_a_minute_are_never_zero() -> None:
    from bot.slack.escape import environment

    labels = environment().get_template("_labels.j2").module
    assert str(labels.duration(0.2)) == "under 1 s"
    assert str(labels.duration(5)) == "5 s"
    assert str(labels.duration(59.6)) == "1 min"
    from bot.digest.templating import duration
    assert duration(5 / 60) == "5 s" and duration(0.001) == "under 1 s"
