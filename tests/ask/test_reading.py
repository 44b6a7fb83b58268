"""Pieces of the reader: time windows in the site's zone, the JSON round trip of a
reading (button values, metadata), thread follow-ups, and hostile input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from ask_fleet import sample_index
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ask.followup import context_from, context_of, follow_up
from bot.ask.index import NameIndex, build_index
from bot.ask.intent import understand
from bot.ask.model import Command, Option, TimeRef
from bot.ask.when import window


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return sample_index()

BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("key", "now", "start", "end"), [
    # 09:00 UTC = 10:00 in Berlin (CET, UTC+1)
    ("last_night", "2026-11-20T09:00", "2026-11-19T17:00", "2026-11-20T07:00"),
    ("this_morning", "2026-11-20T09:00", "2026-11-19T23:00", "2026-11-20T09:00"),  # ends now
    ("yesterday", "2026-11-20T09:00", "2026-11-18T23:00", "2026-11-19T23:00"),
    ("today", "2026-11-20T09:00", "2026-11-19T23:00", "2026-11-20T09:00"),
    ("day_before_yesterday", "2026-11-20T09:00", "2026-11-17T23:00", "2026-11-18T23:00"),
    # the night the clocks went back (25 October 2026): 18:00 CEST to 08:00 CET
    ("last_night", "2026-10-25T12:00", "2026-10-24T16:00", "2026-10-25T07:00"),
])
def test_windows_are_local_hours_of_the_site(key: str, now: str, start: str, end: str) -> None:
    w = window(TimeRef(key, key), utc(now), BERLIN)
    assert (w.start, w.end) == (utc(start), utc(end))


def test_weekday_date_and_hours() -> None:
    now = utc("2026-11-20T09:00")  # a Friday
    tuesday = window(TimeRef("weekday", "tuesday", weekday=1), now, BERLIN)
    assert tuesday.day == date(2026, 11, 17)
    friday = window(TimeRef("weekday", "friday", weekday=4), now, BERLIN)
    assert friday.day == date(2026, 11, 20) and friday.end == now  # today, so far
    on = window(TimeRef("date", "2026-11-19", day=date(2026, 11, 19)), now, BERLIN)
    assert (on.start, on.end) == (utc("2026-11-18T23:00"), utc("2026-11-19T23:00"))
    hours = window(TimeRef("last_hours", "last 6 hours", hours=6), now, BERLIN)
    assert hours.start == utc("2026-11-20T03:00") and hours.end == now
    future = window(TimeRef("date", "2027-01-01", day=date(2027, 1, 1)), now, BERLIN)
    assert future.start == future.end == now  # nothing can have happened yet


def test_a_reading_round_trips_through_json() -> None:
    cmd = Command("clarify", connector=2, when=TimeRef("date", "2026-11-19",
                                                      day=date(2026, 11, 19)),
                  options=(Option("charger", "CP-012"), Option("site", "Depot North")),
                  intent="why", raw="cp12 at depot north")
    again = Command.from_dict(json.loads(json.dumps(cmd.to_dict())))
    assert again == cmd
    assert again.choose(Option("site", "Depot North")).kind == "site"


@pytest.mark.parametrize("bad", [
    None, [], "why", {"kind": "rm -rf"}, {"kind": "why", "charger": 7},
    {"kind": "why", "connector": -1}, {"kind": "why", "connector": "2"},
    {"kind": "why", "when": {"key": "weekday", "weekday": 9}},
    {"kind": "digest", "day": "2026-02-30"},
])
def test_forged_readings_are_refused(bad: object) -> None:
    assert Command.from_dict(bad) is None


def test_follow_ups_take_the_thread_context() -> None:
    meta = context_of(Command("why", charger="cp30", connector=1), charger="CP-030",
                      site="Airport Fast Hub")
    context = context_from(json.loads(json.dumps(meta)))
    assert context is not None and context.charger == "CP-030"
    port = follow_up(understand("and port 2?"), context)
    assert (port.kind, port.charger, port.connector) == ("why", "CP-030", 2)
    night = follow_up(understand("what about yesterday?"), context)
    assert (night.charger, night.connector, night.when.key if night.when else None) == (
        "CP-030", 1, "yesterday")
    who = follow_up(understand("who should go?"), context)
    assert (who.kind, who.charger, who.problem) == ("why", "CP-030", None)
    new = follow_up(understand("and cp-7?"), context)  # its own charger: a new question
    assert new.charger == "cp-7"
    helped = follow_up(understand("help"), context)
    assert helped.kind == "help"
    code = context_from(context_of(Command("code", code="0x0002", vendor="ABB")))
    other = follow_up(understand("and on zaptec?", build_index((), kb=None)), code)
    assert (other.kind, other.code) == ("code", "0x0002")
    assert context_from({"event_type": "someone_else", "event_payload": {}}) is None
    assert context_from("not metadata") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_reading(text: str) -> None:
    cmd = understand(text)
    assert cmd.kind in ("why", "site", "code", "digest", "unknown_codes", "help", "unknown",
                        "clarify")


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(["cp", "12", "port", "2", "depot", "north", "last", "night",
                                 "error", "0x12", "abb", "why", "?", "at", "on", "tuesday",
                                 "2026-11-40", "charger", "code", "digest", "unknown"]),
                max_size=12))
def test_word_salad_of_real_words_never_crashes(words: list[str], index: NameIndex) -> None:
    cmd = understand(" ".join(words), index)
    if cmd.kind == "why" and cmd.charger and cmd.problem is None:
        assert cmd.charger in index.chargers or not cmd.charger.upper().startswith("CP-0")
