"""A BootNotification a feed rebuilt from a CSMS's table (SteVe's charge_box) says who the
charger is, but it is not a reboot: it must not move the boot time that phantom-fault and
boot-window rules measure from."""

from __future__ import annotations

import json
from datetime import timedelta

from triage_frames import T0, Feed, engine, iso

from bot.ocpp.events import TABLE_SOURCE
from bot.ocpp.readers import read_lines


def _table_boot(feed: Feed, t: float, firmware: str) -> None:
    line = json.dumps({
        "ts": iso(T0 + timedelta(seconds=t)), "charger": "CP-1", "dir": "in", "ocpp": "1.6",
        "frame": [2, "steve-boot-1", "BootNotification",
                  {"chargePointVendor": "Alfen BV", "chargePointModel": "NG920-61001",
                   "firmwareVersion": firmware}],
    })
    messages, errors = feed.parser.parse_many(read_lines([line], source=TABLE_SOURCE))
    assert not errors and messages[0].source == TABLE_SOURCE
    assert feed.engine is not None
    for m in messages:
        feed.engine.observe(m)


def test_a_table_boot_updates_identity_but_not_the_boot_time() -> None:
    eng = engine()
    feed = Feed(eng)
    feed.boot("CP-1", "Alfen BV", "NG920-61001", 0, firmware="6.4.0")
    _table_boot(feed, 3600, firmware="6.5.0")
    view = eng.charger_view("CP-1")
    assert view is not None
    assert view.firmware == "6.5.0" and view.model == "NG920-61001"
    assert view.last_boot == T0  # the charger's own boot, not the poll


def test_a_real_boot_still_moves_the_boot_time() -> None:
    eng = engine()
    feed = Feed(eng)
    feed.boot("CP-1", "Alfen BV", "NG920-61001", 0)
    feed.boot("CP-1", "Alfen BV", "NG920-61001", 3600)
    view = eng.charger_view("CP-1")
    assert view is not None and view.last_boot == T0 + timedelta(seconds=3600)
