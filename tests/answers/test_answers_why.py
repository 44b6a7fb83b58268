"""`why` and `site`: forgiving ids, ambiguity, causes, history and ignored phantoms."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from answers_frames import at, boot, broken_switch, heartbeat, phantom_boots, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.answers.render import render_site, render_why
from bot.answers.site import site
from bot.answers.why import why
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.slack.render.answers import render_site as render_site_slack
from bot.store.sites import Site, SiteMap

SITES = SiteMap([Site("Depot North", chargers=["CP-012", "CP-100", "CP-101", "CP-102"])])


def load(engine: Engine, lines: list[str]) -> None:
    Pipeline(engine, sites=SITES).process(read_lines(lines, source="t.jsonl"))


def test_forgiving_id_finds_the_charger_and_explains(db_engine: Engine,
                                                     db_session: Session) -> None:
    load(db_engine, broken_switch("CP-012", 0))
    a = why(db_session, "cp12", now=at(90), sites=SITES)
    assert a.found and a.charger == "CP-012" and a.site == "Depot North"
    assert a.model == "DC-50" and a.ports_down == 1
    (port,) = a.ports
    assert port.status == "Faulted" and port.status_since == at(30)
    (cause,) = port.causes
    assert (cause.category, cause.owner) == ("power_switch", "vendor_service")
    assert cause.since == at(30) and cause.evidence
    assert [h.status or h.category for h in port.history] == [
        "Available", "Faulted", "power_switch"]
    text = render_why(a)
    assert "CP-012 at Depot North" in text and "1 of 1 port cannot charge" in text
    assert "the vendor's service team" in text and cause.action in text


def test_ambiguous_and_unknown_ids(db_engine: Engine, db_session: Session) -> None:
    load(db_engine, [heartbeat(0, "CP-12"), heartbeat(0, "CP-012"), heartbeat(0, "CP-130")])
    a = why(db_session, "cp12", now=at(1))
    assert not a.found and a.ambiguous and sorted(a.candidates) == ["CP-012", "CP-12"]
    assert "could mean 2 chargers" in render_why(a)
    a = why(db_session, "CP-13", now=at(1))
    assert not a.found and "CP-130" in a.suggestions
    assert "Did you mean" in render_why(a)
    a = why(db_session, "zzzz", now=at(1))
    assert not a.found and not a.candidates and "nothing close" in render_why(a)


def test_why_shows_what_was_ignored_and_why(db_engine: Engine, db_session: Session) -> None:
    load(db_engine, phantom_boots(["CP-100", "CP-101", "CP-102"]))
    a = why(db_session, "CP-102", now=at(60), sites=SITES)
    (port,) = a.ports
    assert port.status == "Available" and not port.causes
    assert [i.rule for i in port.ignored] == ["phantom_boot_fault"]
    assert "Ignored on purpose" in render_why(a)
    assert port.ignored[0].summary in render_why(a)


def test_hostile_text_is_neutralised(db_engine: Engine, db_session: Session) -> None:
    nasty = "\u202eEMERGENCY\x07 <!channel> " + "x" * 400
    load(db_engine, [status(0, "CP-7", "Faulted", error="OtherError", info=nasty[:50],
                            vendorErrorCode="\x1b[31mBOOM")])
    text = render_why(why(db_session, "cp7", now=at(5)))
    assert "\u202e" not in text and "\x07" not in text and "\x1b" not in text


def test_site_answer(db_engine: Engine, db_session: Session) -> None:
    load(db_engine, broken_switch("CP-012", 0) + phantom_boots(["CP-100", "CP-101", "CP-102"]))
    a = site(db_session, "depot north", now=at(90), sites=SITES)
    assert a.found and a.site == "Depot North" and a.chargers == 4
    assert a.ports_down == [("CP-012", 1, "Faulted")]
    assert a.by_owner == {"vendor_service": 1} and a.ignored_today == 1
    text = render_site(a)
    assert "1 port cannot charge: CP-012 port 1 (Faulted)" in text
    assert "the vendor's service team (1)" in text
    missing = site(db_session, "Depot Nort", now=at(90), sites=SITES)
    assert not missing.found and missing.suggestions == ["Depot North"]


def test_port_folded_into_a_site_wide_cause_is_not_shown_as_its_own_outage(
    db_engine: Engine, db_session: Session
) -> None:
    # Two chargers of one site report under-voltage 12 s apart, then both recover: the
    # first port's own incident is folded into the site incident. Its why-answer must
    # not list it as a separate "(under 1 s)" outage (seen in the demo on CP-001).
    lines = [
        boot(0, "CP-100"), boot(0, "CP-101"),
        status(1, "CP-100", "Available"), status(1, "CP-101", "Available"),
        status(10, "CP-100", "Faulted", error="UnderVoltage"),
        status(10.2, "CP-101", "Faulted", error="UnderVoltage"),
        status(14, "CP-100", "Available"), status(14.5, "CP-101", "Available"),
        heartbeat(60, "CP-100"), heartbeat(60, "CP-101"),  # the hold-down passes
    ]
    load(db_engine, lines)
    a = why(db_session, "CP-100", now=at(120), sites=SITES)
    text = render_why(a)
    assert "under 1 s" not in text
    (over,) = a.recent  # the site-wide under-voltage, from CP-100's fault on
    assert over.category == "under_voltage" and over.since == at(10)
    assert over.rule == "site_wide_cause"


def test_slack_site_answer_keeps_date_tokens_and_escapes_vendor_text_once(
    db_engine: Engine, db_session: Session
) -> None:
    # The per-port causes of a site answer are rendered by a macro inside a macro; its
    # output was escaped a second time, so Slack showed "&lt;!date^…&gt;" as text.
    hostile = "a&b <!channel>"
    load(db_engine, [*broken_switch("CP-012", 0),
                     status(40, "CP-100", "Faulted", error="OtherError", info=hostile)])
    a = site(db_session, "Depot North", now=at(90), sites=SITES)
    assert a.port_causes
    blob = json.dumps(render_site_slack(a, ZoneInfo("UTC")).blocks)
    assert "<!date^" in blob and "&lt;!date" not in blob
    assert "<!channel>" not in blob and "&amp;amp;" not in blob
