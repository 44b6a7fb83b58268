"""Builders for contract-1 lines, parsed by the real reader and Parser into Messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.kb.loader import default_knowledge
from bot.kb.matcher import Matcher
from bot.ocpp.events import Message
from bot.ocpp.parse import Parser
from bot.ocpp.readers import read_lines
from bot.store.sites import SiteMap
from bot.triage.config import TriageConfig
from bot.triage.diagnosis import Diagnosis
from bot.triage.engine import TriageEngine

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
_MATCHER: Matcher | None = None


def matcher() -> Matcher:
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = Matcher(default_knowledge())
    return _MATCHER


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def engine(sites: dict[str, list[str]] | None = None, tmp: Path | None = None,
           **config: Any) -> TriageEngine:
    site_map = None
    if sites is not None:
        assert tmp is not None
        path = tmp / "sites.yaml"
        path.write_text("sites:\n" + "".join(
            f"  {name}:\n    chargers: [{', '.join(ids)}]\n" for name, ids in sites.items()))
        site_map = SiteMap.load(path)
    return TriageEngine(default_knowledge(), matcher(), site_map, config=TriageConfig(**config))


class Feed:
    """Writes contract-1 lines and parses them; `t` is seconds after T0."""

    def __init__(self, eng: TriageEngine | None = None) -> None:
        self.parser = Parser()
        self.engine = eng
        self.n = 0
        self.lines: list[str] = []
        self.diagnoses: list[Diagnosis] = []

    def _uid(self) -> str:
        self.n += 1
        return f"u{self.n}"

    def send(self, charger: str, frame: list[Any], t: float, *, direction: str = "in",
             ocpp: str | None = "1.6") -> list[Message]:
        obj: dict[str, Any] = {"ts": iso(T0 + timedelta(seconds=t)), "charger": charger,
                               "dir": direction, "frame": frame}
        if ocpp:
            obj["ocpp"] = ocpp
        line = json.dumps(obj)
        self.lines.append(line)
        messages, errors = self.parser.parse_many(
            read_lines([line.encode()], source="test", charger=None))
        assert not errors, errors
        if self.engine is not None:
            for m in messages:
                self.diagnoses.extend(self.engine.observe(m))
        return messages

    def call(self, charger: str, action: str, payload: dict[str, Any], t: float,
             reply: dict[str, Any] | None = None, **kw: Any) -> list[Message]:
        uid = self._uid()
        out = self.send(charger, [2, uid, action, payload], t, **kw)
        if reply is not None:
            d = "out" if kw.get("direction", "in") == "in" else "in"
            out += self.send(charger, [3, uid, reply], t, direction=d,
                             ocpp=kw.get("ocpp", "1.6"))
        return out

    def boot(self, charger: str, vendor: str, model: str, t: float, *, firmware: str = "1.0",
             interval: int = 300) -> list[Message]:
        return self.call(charger, "BootNotification",
                         {"chargePointVendor": vendor, "chargePointModel": model,
                          "firmwareVersion": firmware}, t,
                         reply={"status": "Accepted", "currentTime": iso(T0), "interval": interval})

    def status(self, charger: str, connector: int, status: str, t: float, *,
               error: str = "NoError", code: str | None = None, info: str | None = None,
               vendor_id: str | None = None) -> list[Message]:
        p: dict[str, Any] = {"connectorId": connector, "errorCode": error, "status": status,
                             "timestamp": iso(T0 + timedelta(seconds=t))}
        if code is not None:
            p["vendorErrorCode"] = code
        if info is not None:
            p["info"] = info
        if vendor_id is not None:
            p["vendorId"] = vendor_id
        return self.call(charger, "StatusNotification", p, t, reply={})

    def fault(self, charger: str, connector: int, t: float, **kw: Any) -> Diagnosis:
        """A Faulted status; returns its (first) diagnosis."""
        before = len(self.diagnoses)
        self.status(charger, connector, "Faulted", t, **kw)
        new = self.diagnoses[before:]
        assert new, "a fault-bearing message must get a diagnosis"
        return new[0]

    def start(self, charger: str, connector: int, id_tag: str, tx: int, wh: float,
              t: float) -> list[Message]:
        return self.call(charger, "StartTransaction",
                         {"connectorId": connector, "idTag": id_tag, "meterStart": int(wh),
                          "timestamp": iso(T0 + timedelta(seconds=t))}, t,
                         reply={"transactionId": tx, "idTagInfo": {"status": "Accepted"}})

    def meter(self, charger: str, connector: int, tx: int, wh: float, t: float) -> list[Message]:
        return self.call(charger, "MeterValues", {
            "connectorId": connector, "transactionId": tx,
            "meterValue": [{"timestamp": iso(T0 + timedelta(seconds=t)), "sampledValue": [
                {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}],
        }, t, reply={})

    def stop(self, charger: str, tx: int, wh: float, t: float) -> list[Message]:
        return self.call(charger, "StopTransaction",
                         {"transactionId": tx, "meterStop": int(wh),
                          "timestamp": iso(T0 + timedelta(seconds=t))}, t,
                         reply={"idTagInfo": {"status": "Accepted"}})

    def heartbeat(self, charger: str, t: float) -> list[Message]:
        return self.call(charger, "Heartbeat", {}, t, reply={"currentTime": iso(T0)})

    def since(self, index: int) -> list[Diagnosis]:
        return self.diagnoses[index:]
