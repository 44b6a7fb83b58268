"""Ingest: idempotent log, order-robust port state, boot identity, sessions."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from store_msgs import at, boot, boot_reply, heartbeat, message, status, tx

from bot.store.base import table_of
from bot.store.ingest import Ingestor
from bot.store.models import Charger, ChargingSession, Connector, MessageRow
from bot.store.partitions import cover


def _count(engine: Engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(MessageRow)) or 0


def _port(engine: Engine, charger: str, connector: int) -> Connector:
    with Session(engine) as s:
        row = s.get(Connector, (charger, connector))
        assert row is not None
        return row


def _snapshot(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        chargers = [
            (c.id, c.vendor, c.last_seen, c.first_seen, c.boot_status)
            for c in s.scalars(select(Charger).order_by(Charger.id))
        ]
        ports = [
            (p.charger_id, p.connector_id, p.status, p.status_since, p.updated_at)
            for p in s.scalars(select(Connector).order_by(Connector.charger_id))
        ]
        return [*chargers, *ports]


def _feed() -> list:
    return [
        boot("CP-001", at(0), "Acme", "X1"),
        boot_reply("CP-001", at(0), "Accepted", 300),
        status("CP-001", at(1), 1, "Available"),
        status("CP-001", at(2), 1, "Faulted", "OtherError", "F400", "EMERGENCY_STOP_BUTTON_1"),
        heartbeat("CP-002", at(3)),
        status("CP-002", at(4), 0, "Available"),
    ]


def test_same_frames_twice_are_stored_once(db_engine: Engine) -> None:
    feed = _feed()
    first = Ingestor(db_engine).ingest(feed)
    assert [m.fingerprint for m in first.new] == [m.fingerprint for m in feed]
    assert first.duplicates == 0
    assert first.chargers_seen == {"CP-001", "CP-002"}
    before = _snapshot(db_engine)

    again = Ingestor(db_engine).ingest(feed)  # a second worker / a second run
    assert again.new == []
    assert again.duplicates == len(feed)
    halves = Ingestor(db_engine)
    assert halves.ingest(feed[:3]).new == [] and halves.ingest(feed[3:]).new == []
    assert _count(db_engine) == len(feed)
    assert _snapshot(db_engine) == before


def test_repeats_inside_one_batch_count_as_duplicates(db_engine: Engine) -> None:
    feed = _feed()
    result = Ingestor(db_engine).ingest([*feed, feed[2], feed[0]])
    assert len(result.new) == len(feed)
    assert result.duplicates == 2
    assert _count(db_engine) == len(feed)


def test_new_messages_come_back_in_input_order(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    feed = _feed()
    ing.ingest(feed[1:3])
    result = ing.ingest(feed)
    assert [m.fingerprint for m in result.new] == [m.fingerprint for m in feed[:1] + feed[3:]]
    assert result.duplicates == 2


def test_late_older_report_does_not_overwrite(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([status("CP-1", at(10), 1, "Faulted", "GroundFailure")])
    late = status("CP-1", at(5), 1, "Available")
    assert ing.ingest([late]).new == [late]  # stored in the log ...
    port = _port(db_engine, "CP-1", 1)
    assert (port.status, port.error_code, port.updated_at) == ("Faulted", "GroundFailure", at(10))
    assert _count(db_engine) == 2
    # ... and a fresh ingestor (empty cache) leaves the state alone too: the SQL guards it
    Ingestor(db_engine).ingest([status("CP-1", at(7), 1, "Charging")])
    assert _port(db_engine, "CP-1", 1).status == "Faulted"


def test_late_report_in_the_same_batch(db_engine: Engine) -> None:
    Ingestor(db_engine).ingest(
        [status("CP-1", at(10), 1, "Charging"), status("CP-1", at(5), 1, "Preparing")]
    )
    port = _port(db_engine, "CP-1", 1)
    assert (port.status, port.status_since, port.updated_at) == ("Charging", at(10), at(10))


def test_status_since_moves_only_when_the_status_changes(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([status("CP-1", at(0), 1, "Available")])
    ing.ingest([status("CP-1", at(5), 1, "Available")])
    port = _port(db_engine, "CP-1", 1)
    assert (port.status_since, port.updated_at) == (at(0), at(5))

    ing.ingest([status("CP-1", at(10), 1, "Faulted", "OtherError", "F1")])
    ing.ingest([status("CP-1", at(12), 1, "Faulted", "OtherError", "F2")])
    port = _port(db_engine, "CP-1", 1)
    assert (port.status, port.vendor_error_code, port.status_since) == ("Faulted", "F2", at(10))

    # Faulted -> Available -> Faulted inside one batch: a new fault run, not the old one
    ing.ingest(
        [
            status("CP-1", at(20), 1, "Available"),
            status("CP-1", at(21), 1, "Faulted", "OtherError", "F3"),
            status("CP-1", at(22), 1, "Faulted", "OtherError", "F3"),
        ]
    )
    port = _port(db_engine, "CP-1", 1)
    assert (port.status, port.status_since, port.updated_at) == ("Faulted", at(21), at(22))


def test_status_since_when_the_stored_report_interrupts_a_late_run(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([status("CP-1", at(5), 1, "Charging")])
    # Available at 2 (late) and 9: the Charging report at 5 lies between them
    Ingestor(db_engine).ingest(
        [status("CP-1", at(2), 1, "Available"), status("CP-1", at(9), 1, "Available")]
    )
    port = _port(db_engine, "CP-1", 1)
    assert (port.status, port.status_since) == ("Available", at(9))


def test_boot_identity_and_heartbeat_interval(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([boot("CP-9", at(0), "Acme", "X1", "1.0"), boot_reply("CP-9", at(0), "Pending", 60)])
    ing.ingest(
        [boot("CP-9", at(30), "Acme", "X1", "2.0"), boot_reply("CP-9", at(30), "Accepted", 300)]
    )
    # an older boot arriving late does not roll the firmware back
    ing.ingest(
        [boot("CP-9", at(10), "Acme", "X1", "1.5"), boot_reply("CP-9", at(10), "Rejected", 5)]
    )
    with Session(db_engine) as s:
        c = s.get(Charger, "CP-9")
        assert c is not None
        assert (c.vendor, c.model, c.firmware) == ("Acme", "X1", "2.0")
        assert (c.boot_status, c.heartbeat_interval_s) == ("Accepted", 300)
        assert c.last_boot_at == at(30)
        assert c.first_seen == at(0)
        assert c.last_seen == at(30)  # the boot replies are outbound: not "seen"
        assert c.ocpp_version == "1.6"


def test_last_seen_counts_inbound_frames_only(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([heartbeat("CP-3", at(1)), boot_reply("CP-3", at(50), "Accepted", 60)])
    ing.ingest([heartbeat("CP-3", at(0))])  # an older frame moves first_seen, not last_seen
    with Session(db_engine) as s:
        c = s.get(Charger, "CP-3")
        assert c is not None
        assert (c.first_seen, c.last_seen) == (at(0), at(1))


def test_sessions_from_transaction_updates(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest(
        [
            tx("CP-5", at(0), "start", "77", energy=1000, id_tag="TAG1"),
            tx("CP-5", at(10), "update", "77", energy=2500),
        ]
    )
    ing.ingest([tx("CP-5", at(15), "update", None, connector=1, energy=3000)])  # names no tx
    ing.ingest([tx("CP-5", at(20), "stop", "77", energy=4000, reason="EVDisconnected")])
    with Session(db_engine) as s:
        row = s.scalars(select(ChargingSession)).one()
        assert (row.transaction_id, row.connector_id, row.id_tag) == ("77", 1, "TAG1")
        assert (row.started_at, row.stopped_at, row.stop_reason) == (
            at(0),
            at(20),
            "EVDisconnected",
        )
        assert (row.meter_start_wh, row.last_energy_wh, row.last_meter_at) == (1000, 4000, at(20))
        assert not row.energy_suspect


def test_session_energy_suspect(db_engine: Engine) -> None:
    ing = Ingestor(db_engine)
    ing.ingest([tx("CP-5", at(0), "start", "1", energy=5000), tx("CP-6", at(0), "start", "2")])
    ing.ingest([tx("CP-5", at(5), "update", "1", energy=4000)])  # register ran backwards
    ing.ingest([status("CP-6", at(6), 1, "Charging", "PowerMeterFailure")])
    with Session(db_engine) as s:
        rows = {r.charger_id: r for r in s.scalars(select(ChargingSession))}
    assert rows["CP-5"].energy_suspect
    assert rows["CP-5"].energy_suspect_reason == "energy register went backwards"
    assert rows["CP-6"].energy_suspect
    assert rows["CP-6"].energy_suspect_reason == "power meter failure reported"


def test_unstorable_messages_are_rejected_not_fatal(db_engine: Engine) -> None:
    good = status("CP-1", at(0), 1, "Faulted", "OtherError", "E\x00X", "bad\x00info")
    huge = heartbeat("C" * 500, at(0))
    naive = heartbeat("CP-2", at(0).replace(tzinfo=None))
    absurd = status("CP-3", at(0), 10**12, "Available")
    result = Ingestor(db_engine).ingest([huge, good, naive, absurd])
    assert result.new == [good, absurd]
    assert [r.reason.split(" ")[0] for r in result.rejected] == ["charger", "timestamp"]
    port = _port(db_engine, "CP-1", 1)
    assert port.vendor_error_code == "E\ufffdX"
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Connector)) == 1  # not the absurd one


def test_two_workers_ingesting_overlapping_data(db_engine: Engine) -> None:
    feed = [
        status(f"CP-{i % 7}", at(i), i % 3, ["Available", "Charging"][i % 2]) for i in range(400)
    ]
    feed += [message(f"CP-{i % 7}", at(i), None, action="DataTransfer") for i in range(200)]
    news: list[int] = []
    errors: list[BaseException] = []

    def work(chunk: list) -> None:
        ing = Ingestor(db_engine)
        try:
            for i in range(0, len(chunk), 50):
                news.append(len(ing.ingest(chunk[i : i + 50]).new))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(feed,)),
        threading.Thread(target=work, args=(list(reversed(feed)),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(news) == len(feed) == _count(db_engine)
    last = {}
    for m in feed[:400]:
        last[(m.charger, m.fact.connector)] = m
    for (charger, connector), m in last.items():
        assert _port(db_engine, charger, connector).updated_at == m.occurred_at


def test_fast_log_insert_writes_times_as_the_orm_does(db_engine: Engine) -> None:
    """The log insert bypasses the column types; times must still compare and load
    exactly like ORM-written ones (SQLite keeps the log's as integer microseconds)."""
    from datetime import timedelta, timezone

    oslo = timezone(timedelta(hours=1))
    when = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=oslo)
    m = heartbeat("CP-T", when)
    Ingestor(db_engine).ingest([m])
    with Session(db_engine) as s:
        row = s.scalars(select(MessageRow).where(MessageRow.ts == when)).one()
        assert row.ts == when and row.ts.utcoffset() == timedelta(0)
        assert row.occurred_at == when
        charger = s.get(Charger, "CP-T")
        assert charger is not None and charger.last_seen == row.ts
        assert s.scalar(select(func.count()).where(MessageRow.ts == charger.last_seen)) == 1
        stored = s.execute(text("SELECT ts, occurred_at FROM messages")).one()
        if db_engine.dialect.name == "sqlite":  # what the column type writes, to the µs
            ts_type = table_of(MessageRow).c.ts.type.dialect_impl(db_engine.dialect)
            written = ts_type.bind_processor(db_engine.dialect)
            assert written is not None
            # occurred_at equal to ts is not stored twice (store_0006)
            assert tuple(stored) == (written(when), None) == (1_795_163_415_123_456, None)
            # the state tables keep SQLAlchemy's ISO text: the log's integers must not leak
            state_type = table_of(Charger).c.last_seen.type.dialect_impl(db_engine.dialect)
            state_written = state_type.bind_processor(db_engine.dialect)
            assert state_written is not None
            last_seen = s.execute(text("SELECT last_seen FROM chargers")).scalar()
            assert last_seen == state_written(when) == "2026-11-20 08:30:15.123456"


def _charger(engine: Engine, charger: str) -> tuple[object, ...]:
    with Session(engine) as s:
        c = s.get(Charger, charger)
        assert c is not None
        return (c.vendor, c.model, c.firmware, c.ocpp_version, c.first_seen, c.last_seen,
                c.last_boot_at, c.boot_status, c.heartbeat_interval_s)


def test_a_known_charger_heard_again_keeps_identity_and_moves_only_forward(
    db_engine: Engine,
) -> None:
    """Issue 14: most batches only move a known charger's last_seen (the narrow statement
    on SQLite, the full upsert on PostgreSQL). The state must be exactly what one batch of
    all the frames gives, in any split, and a late older frame never moves it back."""
    frames = [
        boot("CP-1", at(0), "Acme", "X1", "2.0"),
        boot_reply("CP-1", at(0), "Accepted", 300),
        heartbeat("CP-1", at(5)),
        heartbeat("CP-1", at(9)),
        heartbeat("CP-1", at(3)),  # late and older
        status("CP-1", at(-2), 1, "Available"),  # older than the first seen so far
    ]
    # two workers, each with a cache behind what the other wrote: the heartbeat at 5 min
    # reaches the database after the one at 9 and must not move last_seen back
    one, two = Ingestor(db_engine), Ingestor(db_engine)
    one.ingest(frames[0:2])
    two.ingest(frames[0:2])
    two.ingest([frames[3]])
    one.ingest([frames[2]])
    for m in frames[4:]:
        one.ingest([m])
    split = _charger(db_engine, "CP-1")
    assert split[0:3] == ("Acme", "X1", "2.0")
    assert split[4:6] == (at(-2), at(9))  # first_seen moved earlier, last_seen forward only
    assert split[7:9] == ("Accepted", 300)
    with Session(db_engine) as s:
        for model in (MessageRow, Connector, Charger):
            s.query(model).delete()
        s.commit()
    Ingestor(db_engine).ingest(frames)  # one batch, a fresh cache: the full upsert
    assert _charger(db_engine, "CP-1") == split


def test_sessions_with_whole_and_fractional_readings_in_one_batch(db_engine: Engine) -> None:
    """A meterStart of 1000 (int) and a reading of 1500.5 (float) in one batch: PostgreSQL
    gets each column as one array, and its driver cannot send an array of mixed types."""
    Ingestor(db_engine).ingest([
        tx("CP-1", at(0), "start", "T1", energy=1000),
        tx("CP-2", at(0), "start", "T2", energy=2000.25),
        tx("CP-2", at(1), "update", "T2", energy=2500),
        tx("CP-1", at(1), "update", "T1", energy=1500.5),
    ])
    with Session(db_engine) as s:
        got = s.execute(
            select(ChargingSession.transaction_id, ChargingSession.meter_start_wh,
                   ChargingSession.last_energy_wh).order_by(ChargingSession.transaction_id)
        ).all()
    assert [tuple(r) for r in got] == [("T1", 1000, 1500.5), ("T2", 2000.25, 2500)]


def test_ids_follow_input_order_though_rows_are_written_in_fingerprint_order(
    db_engine: Engine,
) -> None:
    """PostgreSQL writes a batch in fingerprint order (one lock order for every worker)
    but draws the ids in input order: the fold replays the log by id."""
    feed = [heartbeat(f"CP-{i}", at(i)) for i in range(60)]
    assert sorted(m.fingerprint for m in feed) != [m.fingerprint for m in feed]
    ing = Ingestor(db_engine)
    ing.ingest(feed[:20])
    ing.ingest(list(reversed(feed)))  # the first 20 again, now last: duplicates
    with db_engine.connect() as conn:
        stored = list(conn.scalars(select(MessageRow.fingerprint).order_by(MessageRow.id)))
    assert stored == [m.fingerprint for m in feed[:20]] + [
        m.fingerprint for m in reversed(feed[20:])
    ]


def test_the_same_frame_at_another_time_is_stored_once(db_engine: Engine) -> None:
    """The log's unique key on PostgreSQL is (fingerprint, ts), one index per day
    partition: a frame seen again at another time, another day, is still a duplicate."""
    first = heartbeat("CP-1", at(0))
    later = replace(first, ts=first.ts + timedelta(days=2, minutes=3))
    cover(db_engine, {first.ts.date(), later.ts.date()}, set())
    ing = Ingestor(db_engine)
    assert len(ing.ingest([first]).new) == 1
    again = ing.ingest([later, heartbeat("CP-2", later.ts)])
    assert [m.charger for m in again.new] == ["CP-2"] and again.duplicates == 1
    assert _count(db_engine) == 2


def test_a_batch_rolled_back_is_stored_when_retried_on_the_same_connection(
    db_engine: Engine,
) -> None:
    """The loader retries a failed batch (in halves) on the connection it failed on:
    what the first attempt set up on that connection went with its transaction."""
    feed = _feed()
    ing = Ingestor(db_engine)
    with db_engine.connect() as conn:
        tx = conn.begin()
        assert len(ing.ingest(feed, conn=conn).new) == len(feed)
        tx.rollback()
        with conn.begin():
            result = ing.ingest(feed, conn=conn)
        ing.committed(result)
    assert [m.fingerprint for m in result.new] == [m.fingerprint for m in feed]
    assert _count(db_engine) == len(feed)
