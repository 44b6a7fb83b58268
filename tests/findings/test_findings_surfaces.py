"""The new findings where people read them: alerts (incidents), the digest, `why`, and
`faultbot findings` (text and JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.answers.render import render_why
from bot.answers.why import why
from bot.cli.main import cli
from bot.digest.build import build_digest
from bot.digest.render import render_digest
from bot.incidents.models import Incident
from bot.ocpp.readers import read_lines
from bot.pipeline import Pipeline
from bot.sample.fleet_firmware import FirmwarePlan, generate_firmware_history

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_uid = iter(range(1, 1_000_000))


def at(minute: float) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def frame(minute: float, action: str, payload: dict, reply: dict | None = None) -> list[str]:
    uid = str(next(_uid))
    out = [json.dumps({"ts": at(minute), "charger": "CP-077", "dir": "in", "ocpp": "1.6",
                       "frame": [2, uid, action, payload]})]
    if reply is not None:
        out.append(json.dumps({"ts": at(minute + 0.01), "charger": "CP-077", "dir": "out",
                               "ocpp": "1.6", "frame": [3, uid, reply]}))
    return out


def stalled_session() -> list[str]:
    """A session whose meter stops after 20 min while the port stays Charging."""
    lines = frame(0, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "AC22",
                                          "firmwareVersion": "1.0"},
                  {"status": "Accepted", "currentTime": at(0), "interval": 300})
    lines += frame(1, "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                             "status": "Preparing"}, {})
    lines += frame(2, "StartTransaction", {"connectorId": 1, "idTag": "T1", "meterStart": 5000,
                                           "timestamp": at(2)},
                   {"transactionId": 41, "idTagInfo": {"status": "Accepted"}})
    lines += frame(2.1, "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                               "status": "Charging"}, {})
    wh = 5000.0
    for m in range(3, 90):
        if m <= 22:
            wh += 7000 / 60
        power = 7000 if m <= 22 else 0
        lines += frame(m, "MeterValues", {"connectorId": 1, "transactionId": 41, "meterValue": [
            {"timestamp": at(m), "sampledValue": [
                {"value": str(round(wh)), "measurand": "Energy.Active.Import.Register"},
                {"value": str(power), "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "55", "measurand": "SoC", "unit": "Percent"}]}]}, {})
        if m % 5 == 0:
            lines += frame(m + 0.5, "Heartbeat", {}, {"currentTime": at(m)})
    return lines


def test_charging_without_energy_in_alerts_digest_and_why(db_engine: Engine,
                                                          db_session: Session) -> None:
    result = Pipeline(db_engine).process(read_lines(stalled_session(), source="t"))
    (d,) = [d for d in result.diagnoses if d.rule == "charging_without_energy"]
    assert d.ts == T0 + timedelta(minutes=53)  # flat since minute 22, found on the grid
    (inc,) = db_session.scalars(select(Incident)).all()
    assert (inc.charger, inc.connector, inc.category, inc.owner, inc.severity) == (
        "CP-077", 1, "power_module", "remote_operator", "outage")
    assert inc.rule == "charging_without_energy" and inc.resolved_at is None
    now = T0 + timedelta(minutes=95)
    text = render_why(why(db_session, "cp77", None, now))
    assert "no energy has flowed for 30 min" in text
    assert "stop and restart the transaction remotely" in text
    digest = render_digest(build_digest(db_session, T0.date(), ZoneInfo("UTC"), None, now),
                           "text")
    assert "CP-077" in digest and "no energy has flowed" in digest


def test_findings_command_and_digest_section(tmp_path: Path) -> None:
    plan = FirmwarePlan(ratio=4.0)
    feed = tmp_path / "fleet.jsonl"
    feed.write_text("\n".join(generate_firmware_history(700, 90, 5, plan=plan)) + "\n")
    db = f"sqlite:///{tmp_path / 'f.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(feed), "--database-url", db]).exit_code == 0
    out = runner.invoke(cli, ["findings", "--database-url", db])
    assert out.exit_code == 0, out.output
    assert "Since firmware 2.2.0.1 on Zaptec Go OCPP, ground fault reports are" in out.output
    assert "exact rate-ratio test" in out.output and "To do: Ask Zaptec" in out.output
    raw = runner.invoke(cli, ["findings", "--json", "--database-url", db])
    body = json.loads(raw.output)
    assert body["chargers"] == 700
    firmware = [r for r in body["regressions"] if r["kind"] == "firmware"]
    assert [(r["model"], r["firmware"], r["category"]) for r in firmware] == [
        ("Zaptec Go OCPP", "2.2.0.1", "ground_fault")]
    assert firmware[0]["ports"] == len(plan.changed) and firmware[0]["ratio"] > 2.5
    # ... before the change there is nothing to say
    early = runner.invoke(cli, ["findings", "--now", "2026-12-20T00:00:00Z", "--database-url",
                                db])
    assert "No firmware or model regression" in early.output
    digest = runner.invoke(cli, ["digest", "--date", "2027-02-10", "--database-url", db])
    assert "Fault rates that rose (" in digest.output
    assert "ground fault reports are" in digest.output
    assert "Evidence: " in digest.output and "exact rate-ratio test" in digest.output
    assert "faultbot report --week" in digest.output  # the digest points to the weekly report
    assert runner.invoke(cli, ["findings", "--now", "nope", "--database-url", db]).exit_code == 2
