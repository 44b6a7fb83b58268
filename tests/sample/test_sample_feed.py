"""The bundled sample: deterministic, parses with only the deliberate bad lines rejected,
and every scenario in SCENARIOS is really there (checked on parsed Messages)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.ocpp.events import (
    BootInfo,
    BootReply,
    CallError,
    EventReport,
    Heartbeat,
    LineError,
    Message,
    StatusReport,
    TransactionUpdate,
)
from bot.ocpp.parse import Parser
from bot.ocpp.readers import read_file
from bot.sample.generate import (
    END,
    EV_COMM_TAG,
    EXPECTED_BAD_LINES,
    SCENARIOS,
    SILENT_FROM,
    START,
    write_sample,
)
from bot.sample.network import CHARGERS, SITES


class Sample:
    def __init__(self, directory: Path) -> None:
        self.paths = write_sample(directory)
        self.messages, self.errors = Parser().parse_many(read_file(self.paths.feed))
        self.by_charger: dict[str, list[Message]] = defaultdict(list)
        for m in self.messages:
            self.by_charger[m.charger].append(m)

    def statuses(
        self, charger: str, pred: Callable[[StatusReport], bool] = lambda s: True
    ) -> list[tuple[Message, StatusReport]]:
        return [
            (m, m.fact)
            for m in self.by_charger[charger]
            if isinstance(m.fact, StatusReport) and pred(m.fact)
        ]

    def faults(self, charger: str) -> list[tuple[Message, StatusReport]]:
        return self.statuses(charger, lambda s: s.fault_bearing)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return Sample(tmp_path_factory.mktemp("sample"))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, sample: Sample) -> None:
    again = write_sample(tmp_path / "again")
    assert again.feed.read_bytes() == sample.paths.feed.read_bytes()
    assert again.sites.read_bytes() == sample.paths.sites.read_bytes()
    other = write_sample(tmp_path / "other", seed=8)
    assert other.feed.read_bytes() != sample.paths.feed.read_bytes()


def test_only_the_deliberate_bad_lines_are_rejected(sample: Sample) -> None:
    assert len(sample.errors) == EXPECTED_BAD_LINES
    reasons = " | ".join(e.reason for e in sample.errors)
    for part in (
        "not JSON",
        "expected a JSON array",
        "message type id 7",
        "payload is a string",
        "has whitespace",
    ):
        assert part in reasons
    assert all(isinstance(e, LineError) and e.line for e in sample.errors)


def test_network_shape(sample: Sample) -> None:
    assert 30 <= len(CHARGERS) <= 40 and 4 <= len(SITES) <= 6
    versions = {c.id: c.version for c in CHARGERS}
    parsed = {m.charger: m.ocpp_version for m in sample.messages}
    assert parsed == versions
    assert Counter(versions.values())["2.1"] == 1
    assert 2 <= Counter(versions.values())["2.0.1"] <= 5
    sites = yaml.safe_load(sample.paths.sites.read_text())["sites"]
    assert sorted(c for s in sites.values() for c in s["chargers"]) == sorted(versions)
    assert all(s["timezone"] and s["address"] for s in sites.values())
    vendors = {m.fact.vendor for m in sample.messages if isinstance(m.fact, BootInfo)}
    assert {
        "ABB",
        "Alfen BV",
        "Zaptec",
        "Keba AG",
        "Wall Box Chargers",
        "Autel",
        "Tritium",
    } <= vendors


def test_time_order_except_the_deliberate_disorder(sample: Sample) -> None:
    ts = [m.ts for m in sample.messages]
    assert min(ts) >= START and max(ts) <= END
    backwards = [
        (a, b) for a, b in zip(sample.messages, sample.messages[1:], strict=False) if b.ts < a.ts
    ]
    # the third copy of the duplicate, and the late status
    assert [b.charger for _, b in backwards] == ["CP-003", "CP-032"]
    days = Counter(m.ts.date() for m in sample.messages)
    first, second, third = (days[(START + timedelta(days=i)).date()] for i in range(3))
    assert third > first and third > second  # earlier days are lighter


def test_every_scenario_lists_real_chargers() -> None:
    ids = {c.id for c in CHARGERS}
    for name, chargers in SCENARIOS.items():
        assert chargers and set(chargers) <= ids, name


def test_sessions_meter_values_and_heartbeats(sample: Sample) -> None:
    for cid in SCENARIOS["normal_sessions"]:
        updates = [m.fact for m in sample.by_charger[cid] if isinstance(m.fact, TransactionUpdate)]
        assert any(u.kind == "update" and u.energy_wh for u in updates), cid
        assert any(u.kind == "start" and u.transaction_id for u in updates), cid
    for c in CHARGERS:
        beats = [m.ts for m in sample.by_charger[c.id] if isinstance(m.fact, Heartbeat)]
        assert len(beats) > 10, c.id
        gaps = {round((b - a).total_seconds() / c.heartbeat) for a, b in itertools.pairwise(beats)}
        assert 1 in gaps, c.id  # at the interval the CSMS gave it


def test_estop_phrasings(sample: Sample) -> None:
    texts = set()
    for cid in SCENARIOS["estop"]:
        for _, s in sample.faults(cid):
            texts.add(f"{s.vendor_error_code} {s.info}")
        for m in sample.by_charger[cid]:
            if isinstance(m.fact, EventReport):
                texts.update(f"{p.component} {p.variable} {p.tech_info}" for p in m.fact.problems)
    joined = " | ".join(texts)
    for phrase in (
        "EMERGENCY_STOP_BUTTON_1",
        "[42300]Emergency stop button pressed",
        "CX008",
        "Release emergency button and reset charger",
        "EmergencyStopSensor Tripped",
    ):
        assert phrase in joined


def test_ground_faults(sample: Sample) -> None:
    repeat = sample.faults("CP-010")
    assert len([s for _, s in repeat if s.error_code == "GroundFailure" and s.connector == 1]) >= 3
    assert len({m.ts.date() for m, _ in repeat}) == 3
    once = [s for _, s in sample.faults("CP-002") if s.error_code == "GroundFailure"]
    assert len(once) == 1


def test_site_voltage_dip(sample: Sample) -> None:
    hits = []
    for cid in SCENARIOS["site_voltage_dip"]:
        hits += [
            (m.ts, cid, s.connector)
            for m, s in sample.faults(cid)
            if m.ts.date() == datetime(2026, 11, 20).date() and m.ts.hour == 5
        ]
    hits.sort()
    assert len({(c, p) for _, c, p in hits}) >= 3
    assert hits[-1][0] - hits[0][0] <= timedelta(minutes=2)
    for cid in SCENARIOS["site_voltage_dip"]:
        boots = [m.ts for m in sample.by_charger[cid] if isinstance(m.fact, BootInfo)]
        assert any(hits[0][0] < b < hits[0][0] + timedelta(minutes=10) for b in boots)


def test_boot_phantom(sample: Sample) -> None:
    for cid in SCENARIOS["boot_phantom"]:
        msgs = sample.by_charger[cid]
        boots = [i for i, m in enumerate(msgs) if isinstance(m.fact, BootInfo)]
        assert len(boots) >= 3
        for i in boots:
            after = [
                (m, m.fact)
                for m in msgs[i : i + 12]
                if isinstance(m.fact, StatusReport) and m.fact.connector == 1
            ]
            assert after[0][1].status == "Faulted" and after[0][1].error_code == "InternalError"
            assert after[1][1].status == "Available"
            assert after[1][0].ts - after[0][0].ts < timedelta(seconds=10)


def test_faulted_while_charging(sample: Sample) -> None:
    msgs = sample.by_charger["CP-024"]
    faulted_at = next(m.ts for m, s in sample.faults("CP-024") if s.vendor_error_code == "W0601")
    clear_at = next(
        m.ts
        for m, s in sample.statuses("CP-024", lambda s: s.status == "Available")
        if m.ts > faulted_at
    )
    meter = [
        m.fact.energy_wh
        for m in msgs
        if isinstance(m.fact, TransactionUpdate)
        and m.fact.kind == "update"
        and faulted_at < m.ts < clear_at
    ]
    assert clear_at - faulted_at > timedelta(hours=2)
    assert len(meter) > 60 and meter == sorted(meter) and meter[-1] > meter[0]


def test_connector_lock_recurring(sample: Sample) -> None:
    locks = [
        m.ts.date()
        for m, s in sample.faults("CP-013")
        if s.error_code == "ConnectorLockFailure" and s.connector == 1
    ]
    assert len(set(locks)) == 3


def test_ev_comm_follows_one_id_tag(sample: Sample) -> None:
    for cid in SCENARIOS["ev_comm_follows_idtag"]:
        tags = {
            m.fact.id_tag
            for m in sample.by_charger[cid]
            if isinstance(m.fact, TransactionUpdate) and m.fact.kind == "start"
        }
        assert EV_COMM_TAG in tags
        assert any(s.error_code == "EVCommunicationError" for _, s in sample.faults(cid))


def test_reset_failure_after_a_csms_reset(sample: Sample) -> None:
    msgs = sample.by_charger["CP-016"]
    reset = next(m for m in msgs if m.action == "Reset" and m.message_type == 2)
    assert reset.direction == "out"
    failure = next(m for m, s in sample.faults("CP-016") if s.error_code == "ResetFailure")
    assert timedelta(0) < failure.ts - reset.ts < timedelta(minutes=5)


def test_power_meter_reader_flapping_no_error(sample: Sample) -> None:
    assert any(
        s.error_code == "PowerMeterFailure" and s.status == "Charging"
        for _, s in sample.faults("CP-011")
    )
    assert len([s for _, s in sample.faults("CP-015") if s.error_code == "ReaderFailure"]) == 2
    flaps = sorted(m.ts for m, s in sample.faults("CP-020") if s.faulted)
    assert any(flaps[i + 9] - flaps[i] <= timedelta(hours=1) for i in range(len(flaps) - 9))
    bare = [s for _, s in sample.faults("CP-023") if s.error_code == "NoError"]
    assert bare and bare[0].vendor_error_code is None and bare[0].info is None


def test_silent_chargers(sample: Sample) -> None:
    for cid in SCENARIOS["silent"]:
        last = max(m.ts for m in sample.by_charger[cid])
        assert last < SILENT_FROM[cid]
        assert SILENT_FROM[cid] - last < timedelta(hours=1)
        assert SILENT_FROM[cid].date() == END.date()


def test_duplicates_late_rejected_boot_and_call_errors(sample: Sample) -> None:
    fingerprints = Counter(m.fingerprint for m in sample.messages)
    dup = [f for f, n in fingerprints.items() if n > 1]
    assert len(dup) == 1 and fingerprints[dup[0]] == 3
    assert all(m.charger == "CP-003" for m in sample.messages if m.fingerprint == dup[0])
    late = [m for m, s in sample.statuses("CP-032") if m.occurred_at < m.ts - timedelta(seconds=30)]
    assert late and late[0].fact.faulted  # type: ignore[union-attr]
    replies = [m.fact.status for m in sample.by_charger["CP-036"] if isinstance(m.fact, BootReply)]
    assert replies[:2] == ["Rejected", "Accepted"]
    errors = [m.fact for m in sample.by_charger["CP-029"] if isinstance(m.fact, CallError)]
    assert {(e.code, e.for_action) for e in errors} == {
        ("NotSupported", "ChangeConfiguration"),
        ("NotImplemented", "DataTransfer"),
    }


def test_schema_violations_vendor_dialects_and_hostile_text(sample: Sample) -> None:
    violations = Counter(v for m in sample.messages for v in m.violations)
    assert any(v.startswith("info: ") and "max 50" in v for v in violations)
    assert violations["timestamp has no time zone; assumed UTC"] > 10
    assert violations["errorCode: 'Error' is not a standard value"] >= 2
    assert all(
        m.charger == "CP-036"
        for m in sample.messages
        if "timestamp has no time zone; assumed UTC" in m.violations
    )
    codes = {
        (s.vendor_id, s.vendor_error_code, s.info) for c in CHARGERS for _, s in sample.faults(c.id)
    }
    flat = " ".join(str(x) for t in codes for x in t)
    for text in (
        "0x6012",
        "DC output module Vol abnormal during idle time",
        "DYING GASP",
        "https://chargex.inl.gov",
        "Residual current detected via sensor",
        "Modbus TCP/IP lost, in safe mode max 14.0A",
        "Error(s) occurred in EVSE",
        "See logging for more information",
        "StopReason:GlobalInterlockFail",
        "<!channel>",
        "<https://evil.example|click>",
        "@here",
    ):
        assert text in flat, text
    unknown_2x = [
        p.tech_code
        for m in sample.by_charger["CP-026"]
        if isinstance(m.fact, EventReport)
        for p in m.fact.problems
    ]
    assert "TP-0x1F4" in unknown_2x


def test_versions_inferred_where_undeclared(sample: Sample) -> None:
    inferred = {m.charger for m in sample.messages if m.version_inferred}
    assert inferred == set(SCENARIOS["version_inferred"])
    v21 = [
        p
        for m in sample.by_charger["CP-030"]
        if isinstance(m.fact, EventReport)
        for p in m.fact.problems
    ]
    assert v21 and v21[0].severity == 2


def test_cli_writes_the_sample(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sample", "--out", str(tmp_path / "s"), "--seed", "7"])
    assert result.exit_code == 0, result.output
    feed, sites = result.output.split()
    assert Path(feed).name == "sample.jsonl" and Path(sites).name == "sites.yaml"
    assert Path(feed).stat().st_size > 1_000_000
    bad = CliRunner().invoke(cli, ["sample", "--out", "/proc/no/such"])
    assert bad.exit_code == 2 and "cannot write the sample" in bad.output


def test_sample_times_are_utc(sample: Sample) -> None:
    assert all(m.ts.tzinfo == UTC for m in sample.messages[:100])
