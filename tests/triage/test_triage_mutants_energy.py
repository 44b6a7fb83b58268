"""Edges of charging_without_energy that the fleet tests never sit on.

Each test puts a reading exactly on a threshold of TriageConfig (30 min flat, 100 W,
50 Wh, half the peak rate, 5 kWh delivered) and says which side of it the rule must
land, so a `>=` turned into `>` or a dropped term changes an answer. The expected
evidence is worked out by hand from the frames.
"""

from __future__ import annotations

from datetime import timedelta

from test_triage_no_energy import meter, session, ticks, tx_event
from triage_frames import T0, Feed, engine


def flat(feed: Feed, minutes: range, wh: float, **kw: float) -> None:
    for m in minutes:
        meter(feed, 7, 10 + 60.0 * m, wh=wh, **kw)


def test_a_stall_is_found_on_the_reading_that_completes_30_minutes() -> None:
    # The transaction starts at 10 s (meterStart 1000 Wh: the stall clock starts there);
    # readings every minute stay at 1000 Wh with no power.
    feed = Feed(engine())
    session(feed)
    flat(feed, range(1, 30), 1000.0, w=0.0)  # the 29th reading: 29 min flat
    assert ticks(feed, 29 * 60 + 50) == []  # the clock alone proves nothing
    meter(feed, 7, 10 + 30 * 60.0, wh=1000.0, w=0.0)  # exactly 1800 s after the start
    (d,) = ticks(feed, 10 + 30 * 60.0)
    assert d.ts == T0 + timedelta(seconds=10 + 30 * 60)
    # 31 readings: meterStart at 08:00:10 and the 30 MeterValues after it
    assert d.evidence[-4] == ("meter flat for 30 min (31 readings from 08:00 to 08:30 UTC, "
                              "register at 1.0 kWh; transaction 7)")
    assert d.evidence[-3].startswith("port status Charging while the meter stayed flat")
    assert d.evidence[-2] == "the vehicle reported no state of charge"
    assert d.evidence[-1] == "no energy was delivered in this session"
    assert d.confidence == 0.6  # no state of charge: less sure it is not a full battery
    assert d.summary == ("The port reports a charging session, but no energy has flowed for "
                         "30 min; the vehicle is still connected and not full, so the charger "
                         "has most likely stopped delivering.")  # nothing delivered: no "after"


def test_a_known_state_of_charge_raises_the_confidence() -> None:
    feed = Feed(engine())
    session(feed)
    flat(feed, range(1, 31), 1000.0, w=0.0, soc=94.0)  # 94 % is not yet full (95 %)
    (d,) = ticks(feed, 31 * 60)
    assert d.confidence == 0.7
    assert d.evidence[-2] == ("the vehicle's state of charge is 94 %, below the 95 % of a "
                              "full battery")


def test_power_at_the_threshold_counts_as_flowing() -> None:
    flowing = Feed(engine())
    session(flowing)
    flat(flowing, range(1, 46), 1000.0, w=100.0)  # 100 W: energy still flows
    assert ticks(flowing, 46 * 60) == []
    stopped = Feed(engine())
    session(stopped)
    flat(stopped, range(1, 46), 1000.0, w=99.0)
    assert len(ticks(stopped, 46 * 60)) == 1


def test_a_rise_of_exactly_the_minimum_energy_restarts_the_clock() -> None:
    # Energy-only meter, flat at 1000 Wh, then +50 Wh at minute 20, flat again after.
    feed = Feed(engine())
    session(feed)
    flat(feed, range(1, 20), 1000.0)
    flat(feed, range(20, 46), 1050.0)
    assert ticks(feed, 46 * 60) == []  # flat since minute 20: 26 min
    flat(feed, range(46, 51), 1050.0)
    (d,) = ticks(feed, 51 * 60)
    assert d.ts == T0 + timedelta(seconds=10 + 50 * 60)  # 30 min after the rise
    less = Feed(engine())
    session(less)
    flat(less, range(1, 20), 1000.0)
    flat(less, range(20, 46), 1049.0)  # under 50 Wh: still the first stall
    (d,) = ticks(less, 46 * 60)
    assert d.ts == T0 + timedelta(seconds=10 + 30 * 60)


def test_an_energy_only_meter_gives_the_rate_it_stopped_at() -> None:
    # No power measurand: the rate comes from the register, 100 Wh a minute = 6 kW.
    feed = Feed(engine())
    session(feed)
    for m in range(1, 21):
        meter(feed, 7, 10 + 60.0 * m, wh=1000.0 + 100.0 * m)
    flat(feed, range(21, 52), 3000.0)
    (d,) = ticks(feed, 52 * 60)
    assert d.evidence[-1] == ("delivery stopped abruptly at 6.0 kW (session peak 6.0 kW) after "
                              "2.0 kWh, instead of tapering off as a full battery does")
    assert "register at 3.0 kWh" in d.evidence[-4]


def taper_session(final_w: float, final_wh: float, start_wh: float = 1000.0) -> int:
    """10 kW for 24 min (1 kWh each 6 min from meterStart `start_wh`), a last flowing
    reading at `final_w`, then a flat meter: how many findings."""
    feed = Feed(engine())
    session(feed, wh=start_wh)
    for k in range(1, 5):
        meter(feed, 7, 10 + 360.0 * k, wh=start_wh + 1000.0 * k, w=10000.0)
    meter(feed, 7, 10 + 360.0 * 5, wh=final_wh, w=final_w)
    flat(feed, range(31, 70), final_wh, w=0.0)
    return len(ticks(feed, 70 * 60))


def test_half_the_peak_rate_is_not_yet_a_taper() -> None:
    assert taper_session(5000.0, 6000.0) == 1  # 5 kW is not under half of 10 kW
    assert taper_session(4999.0, 6000.0) == 0  # just under: the battery was filling


def test_a_taper_needs_five_kwh_delivered() -> None:
    assert taper_session(4000.0, 6000.0) == 0  # exactly 5 kWh since meterStart
    assert taper_session(4000.0, 5999.0) == 1  # short of it: a charger that faded out
    assert taper_session(4000.0, 5000.0, start_wh=0.0) == 0  # a meter that starts at 0 Wh
    assert taper_session(4000.0, 4999.0, start_wh=0.0) == 1


def test_a_meter_at_zero_that_never_moves_delivered_nothing() -> None:
    feed = Feed(engine())
    session(feed, wh=0.0)
    flat(feed, range(1, 32), 0.0)
    (d,) = ticks(feed, 32 * 60)
    assert "(after" not in d.summary and "register at 0.0 kWh" in d.evidence[-4]


def test_a_rate_from_readings_half_a_second_apart() -> None:
    # 50 Wh in 0.5 s after meterStart is 360 kW (a high-power DC charger), then nothing.
    feed = Feed(engine())
    session(feed)
    meter(feed, 7, 10.5, wh=1050.0)
    flat(feed, range(1, 33), 1050.0)
    (d,) = ticks(feed, 33 * 60)
    assert d.evidence[-1].startswith("delivery stopped abruptly at 360.0 kW (session peak "
                                     "360.0 kW)")


def test_the_register_rate_is_per_hour_exactly() -> None:
    # 60.49 Wh every 36 s is 6049 W: shown as 6.0 kW (a rate off by 1/3600 would be 6.1).
    feed = Feed(engine())
    session(feed)
    for k in range(1, 21):
        meter(feed, 7, 10 + 36.0 * k, wh=1000.0 + 60.49 * k)
    flat(feed, range(13, 45), 1000.0 + 60.49 * 20)
    (d,) = ticks(feed, 45 * 60)
    assert d.evidence[-1].startswith("delivery stopped abruptly at 6.0 kW (session peak 6.0 kW)"
                                     " after 1.2 kWh")


def test_a_small_rise_after_the_stop_does_not_move_the_stall_register() -> None:
    # 7 kW until 2940 Wh, then the power drops to 0 and the register creeps up 49 Wh:
    # under the 50 Wh that would count as energy flowing, so the stall began at 2940 Wh.
    feed = Feed(engine())
    session(feed)
    for m in range(1, 21):
        meter(feed, 7, 10 + 60.0 * m, wh=1000.0 + 97.0 * m, w=7000.0)
    flat(feed, range(21, 52), 2989.0, w=0.0)
    (d,) = ticks(feed, 52 * 60)
    assert d.ts == T0 + timedelta(seconds=10 + 50 * 60)  # 30 min after the last flow
    assert "register at 2.9 kWh" in d.evidence[-4]
    assert d.evidence[-1].startswith("delivery stopped abruptly at 7.0 kW (session peak 7.0 kW)"
                                     " after 1.9 kWh")


def test_a_v2_stall_names_the_charging_state_and_its_transaction() -> None:
    feed = Feed(engine())
    tx_event(feed, 10, "Started", "Charging", 0.0, 500.0)
    for m in range(1, 32):
        tx_event(feed, 10 + 60.0 * m, "Updated", "Charging", 0.0, 500.0)
    (d,) = ticks(feed, 32 * 60)
    assert "transaction T-9)" in d.evidence[-4]
    assert d.evidence[-3].startswith("TransactionEvent chargingState Charging while")
