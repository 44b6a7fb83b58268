"""The SteVe poller reads charger identity from `charge_box`, on both SteVe schemas:
`why` shows vendor, model and firmware, and vendor-scoped matching uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from test_feeds_steve import T0, _connect, insert, steve_db  # noqa: F401 - steve_db: fixture

from bot.cli.main import cli
from bot.feeds.sink import pipeline_sink
from bot.feeds.steve import IDENTITY_NOTE, SteVePoller
from bot.store.models import Charger, MessageRow

# charge_box as SteVe's baseline migration (B1_0_5) creates it, the columns the poller
# reads and a few around them; the same table in both schemas.
CHARGE_BOX = """CREATE TABLE charge_box (
    charge_box_pk int(11) NOT NULL AUTO_INCREMENT,
    charge_box_id varchar(255) NOT NULL,
    ocpp_protocol varchar(255) DEFAULT NULL,
    registration_status varchar(255) NOT NULL DEFAULT 'Accepted',
    charge_point_vendor varchar(255) DEFAULT NULL,
    charge_point_model varchar(255) DEFAULT NULL,
    charge_point_serial_number varchar(255) DEFAULT NULL,
    charge_box_serial_number varchar(255) DEFAULT NULL,
    fw_version varchar(255) DEFAULT NULL,
    last_heartbeat_timestamp timestamp(6) NULL DEFAULT NULL,
    PRIMARY KEY (charge_box_pk), UNIQUE KEY (charge_box_id))"""


@pytest.fixture
def steve_with_boxes(steve_db: tuple[str, str]) -> Iterator[tuple[str, str]]:  # noqa: F811
    url, schema = steve_db
    conn = _connect(url.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.execute(CHARGE_BOX)
        # What SteVe writes on a BootNotification; CP-200 has not booted yet (NULLs).
        cur.execute(
            "INSERT INTO charge_box (charge_box_id, ocpp_protocol, charge_point_vendor,"
            " charge_point_model, charge_point_serial_number, fw_version) VALUES"
            " ('CP-100', 'ocpp1.6J', 'Alfen BV', 'NG920-61001', 'ACE0123456', '6.1.0-4128'),"
            " ('CP-200', 'ocpp1.6J', NULL, NULL, NULL, NULL)"
        )
    conn.close()
    yield url, schema


def _why(db_url: str, charger: str) -> str:
    result = CliRunner().invoke(cli, ["why", charger, "--database-url", db_url], env={})
    assert result.exit_code == 0, result.output
    return result.output


def _set_firmware(url: str, firmware: str) -> None:
    conn = _connect(url.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.execute("UPDATE charge_box SET fw_version = %s WHERE charge_box_id = 'CP-100'",
                    (firmware,))
    conn.close()


def test_identity_from_charge_box_reaches_why_and_matching(
    steve_with_boxes: tuple[str, str], db_url: str, db_engine: Engine
) -> None:
    url, _ = steve_with_boxes
    # Alfen's display code 3 with no vendorId: only the charger's vendor can place it.
    insert(url, [(1, T0, "Faulted", "OtherError", None, None, "3")])
    poller = SteVePoller(url, pipeline_sink(db_engine), state_engine=db_engine)
    assert poller.poll_once() == 1  # status rows; the identity is not counted
    with db_engine.connect() as conn:
        boots = conn.execute(
            select(MessageRow.charger_id, MessageRow.action, MessageRow.violations)
            .where(MessageRow.action == "BootNotification")
        ).all()
        charger = conn.execute(
            select(Charger.vendor, Charger.model, Charger.firmware).where(Charger.id == "CP-100")
        ).one()
    assert [(b.charger_id, b.action) for b in boots] == [("CP-100", "BootNotification")]
    assert IDENTITY_NOTE in boots[0].violations
    assert (charger.vendor, charger.model, charger.firmware) == (
        "Alfen BV", "NG920-61001", "6.1.0-4128")

    answer = _why(db_url, "CP-100")
    assert "Alfen" in answer and "NG920-61001" in answer and "6.1.0-4128" in answer
    assert "too many failed attempts" in answer  # Alfen's code 3, matched by vendor

    # Unchanged identity: nothing new. A firmware update (SteVe rewrites the row on the
    # next BootNotification): one new BootNotification, and why shows the new firmware.
    assert poller.poll_once() == 0
    _set_firmware(url, "6.2.0-4200")
    poller.poll_once()
    again = SteVePoller(url, pipeline_sink(db_engine), state_engine=db_engine)
    again.poll_once()  # a restart re-reads every identity; the store keeps each once
    with db_engine.connect() as conn:
        count = len(conn.execute(
            select(MessageRow.id).where(MessageRow.action == "BootNotification")).all())
    assert count == 2
    assert "6.2.0-4200" in _why(db_url, "CP-100")
    poller.source.dispose()
    again.source.dispose()


def test_without_charge_box_vendor_codes_stay_unplaced(
    steve_db: tuple[str, str], db_url: str, db_engine: Engine  # noqa: F811
) -> None:
    """The control: the same row without an identity is not matched to Alfen."""
    url, _ = steve_db
    insert(url, [(1, T0, "Faulted", "OtherError", None, None, "3")])
    poller = SteVePoller(url, pipeline_sink(db_engine), state_engine=db_engine)
    assert poller.poll_once() == 1
    answer = _why(db_url, "CP-100")
    assert "too many failed attempts" not in answer
    poller.source.dispose()
