"""The SteVe poller against a throwaway MariaDB database, in both SteVe schemas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pymysql
import pytest
from conftest import service_unavailable
from sqlalchemy import Engine, func, select

from bot.feeds.models import FeedOffset
from bot.feeds.sink import store_sink
from bot.feeds.steve import SteVePoller, detect_schema
from bot.store.models import MessageRow

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

# The tables as SteVe creates them (B1_0_5 baseline; V1_1_4 renamed connector -> evse).
SCHEMAS = {
    "connector": [
        """CREATE TABLE connector (
            connector_pk int(11) unsigned NOT NULL AUTO_INCREMENT,
            charge_box_id varchar(255) NOT NULL, connector_id int(11) NOT NULL,
            PRIMARY KEY (connector_pk), UNIQUE KEY (charge_box_id, connector_id))""",
        """CREATE TABLE connector_status (
            connector_pk int(11) unsigned NOT NULL,
            status_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
            status varchar(255) NULL, error_code varchar(255) NULL,
            error_info varchar(255) NULL, vendor_id varchar(255) NULL,
            vendor_error_code varchar(255) NULL,
            KEY (connector_pk, status_timestamp),
            FOREIGN KEY (connector_pk) REFERENCES connector (connector_pk))""",
    ],
    "evse": [
        """CREATE TABLE evse (
            evse_pk int(11) unsigned NOT NULL AUTO_INCREMENT,
            charge_box_id varchar(255) NOT NULL, evse_id int(11) NOT NULL,
            evse_id_external varchar(255) DEFAULT NULL,
            topology_source enum('ocpp1', 'ocpp2') NOT NULL,
            PRIMARY KEY (evse_pk), UNIQUE KEY (charge_box_id, topology_source, evse_id))""",
        """CREATE TABLE connector_status (
            evse_pk int(11) unsigned NOT NULL,
            status_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
            status varchar(255) NULL, error_code varchar(255) NULL,
            error_info varchar(255) NULL, vendor_id varchar(255) NULL,
            vendor_error_code varchar(255) NULL,
            KEY (evse_pk, status_timestamp),
            FOREIGN KEY (evse_pk) REFERENCES evse (evse_pk))""",
    ],
}


def _connect(db: str | None = None) -> pymysql.connections.Connection:
    conn = pymysql.connect(**MARIADB, database=db, connect_timeout=3, autocommit=True,
                           init_command="SET time_zone = '+00:00'")
    return conn


@pytest.fixture(params=["connector", "evse"])
def steve_db(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    try:
        admin = _connect()
    except pymysql.MySQLError as exc:
        service_unavailable("MariaDB", str(exc))
    name = f"faultbot_steve_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    conn = _connect(name)
    with conn.cursor() as cur:
        for ddl in SCHEMAS[request.param]:
            cur.execute(ddl)
        if request.param == "connector":
            cur.execute("INSERT INTO connector VALUES (1, 'CP-100', 1), (2, 'CP-100', 2)")
        else:
            cur.execute("INSERT INTO evse VALUES (1, 'CP-100', 1, NULL, 'ocpp1'),"
                        " (2, 'CP-100', 2, NULL, 'ocpp1')")
    conn.close()
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}", request.param
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


def insert(url: str, rows: list[tuple[object, ...]]) -> None:
    conn = _connect(url.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO connector_status VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
    conn.close()


T0 = datetime(2026, 11, 20, 8, 0, 0, 123456)


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(MessageRow.raw).where(MessageRow.source == "steve-db")))


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(MessageRow)) or 0)


def test_poller_reads_both_schemas_late_rows_and_resumes(
    steve_db: tuple[str, str], db_engine: Engine
) -> None:
    url, schema = steve_db
    sink = store_sink(db_engine)
    insert(url, [
        (1, T0, "Faulted", "OtherError", "EMERGENCY_STOP_BUTTON_1", "Acme", "F400"),
        (2, T0, "Available", "NoError", None, None, None),
        (1, T0 + timedelta(seconds=5), "Available", "NoError", None, None, None),
        (2, None, "Faulted", "GroundFailure", None, None, None),  # no time: cannot be placed
    ])
    poller = SteVePoller(url, sink, state_engine=db_engine, page=2)
    assert detect_schema(poller.source) == schema
    assert poller.poll_once() == 3
    assert poller.poll_once() == 0  # nothing new
    assert poller.health.rejected >= 1
    with db_engine.connect() as conn:
        raw = conn.execute(
            select(MessageRow.charger_id, MessageRow.connector_id, MessageRow.action,
                   MessageRow.direction, MessageRow.ts, MessageRow.raw, MessageRow.source)
            .where(MessageRow.fault_bearing)
        ).all()
        assert [(m.charger_id, m.connector_id, m.action, m.direction) for m in raw] == [
            ("CP-100", 1, "StatusNotification", "in")]
        assert raw[0].ts == T0.replace(tzinfo=UTC)
        assert raw[0].source == "steve-db"
        assert '"F400"' in raw[0].raw
        offset = conn.execute(select(FeedOffset.position_ts)).one()
        assert offset.position_ts == (T0 + timedelta(seconds=5)).replace(tzinfo=UTC)

    # A late row (charger clock behind) inside the overlap window, and a new one.
    insert(url, [
        (2, T0 + timedelta(seconds=2), "Faulted", "OverVoltage", None, None, None),
        (2, T0 + timedelta(seconds=9), "Available", "NoError", None, None, None),
    ])
    assert poller.poll_once() == 2
    assert count(db_engine) == 5

    # A restart resumes from the saved position; re-read rows are stored once.
    again = SteVePoller(url, sink, state_engine=db_engine)
    again.poll_once()
    assert again.health.stored == 0
    assert count(db_engine) == 5
    poller.source.dispose()
    again.source.dispose()


def test_poller_run_loop_survives_a_missing_database(db_engine: Engine) -> None:
    poller = SteVePoller("mysql+pymysql://root@127.0.0.1:1/none", store_sink(db_engine),
                         state_engine=db_engine, interval=0.05)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        async def failed() -> None:
            while poller.health.sink_failures < 1:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(failed(), 20)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert poller.health.last_error
    assert not poller.health.live


def test_poison_rows_from_mariadb_affect_only_themselves(
    steve_db: tuple[str, str], db_engine: Engine
) -> None:
    """Issue 10 on the MariaDB-backed path: a port that cannot exist is rejected, text no
    store takes (NUL) is cleaned, the good rows around them are stored, the poller moves
    on."""
    url, schema = steve_db
    conn = _connect(url.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        table = "connector" if schema == "connector" else "evse"
        extra = "" if schema == "connector" else ", NULL, 'ocpp1'"
        cur.execute(f"INSERT INTO {table} VALUES (3, 'CP-100', -1{extra})")
    conn.close()
    insert(url, [
        (1, T0, "Faulted", "OtherError", "stop\x00\x9b[2J", "Acme", "F400"),
        (3, T0 + timedelta(seconds=1), "Faulted", "OtherError", None, None, None),
        (2, T0 + timedelta(seconds=2), "Available", "NoError", None, None, None),
    ])
    poller = SteVePoller(url, store_sink(db_engine), state_engine=db_engine)
    assert poller.poll_once() == 3
    assert poller.health.stored == 2 and poller.health.rejected == 1
    assert poller.poll_once() == 0  # the position moved past the poison row
    with db_engine.connect() as conn2:
        infos = list(conn2.scalars(select(MessageRow.raw).where(MessageRow.fault_bearing)))
    assert len(infos) == 1 and "\x00" not in infos[0]
    poller.source.dispose()
