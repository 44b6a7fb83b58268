"""The checkpoint's pickle: streamed into zlib (same bytes as compressing it whole), and
the triage state's compact pickled form gives back the same objects, limits and sharing."""

from __future__ import annotations

import pickle
import zlib
from datetime import UTC, datetime

from bot.fold.checkpoint import _compressed_pickle
from bot.triage.state import Capped, ChargerState, FaultRecord, PortState
from bot.triage.views import PortEvent, SessionInfo
from bot.vocab import Category

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _charger() -> tuple[ChargerState, FaultRecord]:
    cs = ChargerState("CP-1", vendor="ABB", model="Terra")
    port = PortState(1, 3, 2, 2, status="Faulted", status_at=T0)
    for i in range(5):  # past the cap: only the newest three stay
        port.history.append(PortEvent(T0, "status", f"S{i}", ""))
    port.session = SessionInfo("tx", "tag", T0, first_wh=1.0)
    rec = FaultRecord("fp", T0, "CP-1", 1, Category.GROUND_FAULT, None)  # type: ignore[arg-type]
    port.faults.append(rec)
    port.open_fault = rec
    cs.ports[1] = port
    cs.boot_faults.append(rec)
    return cs, rec


def test_streamed_pickle_is_the_whole_pickle_compressed() -> None:
    state = {"chargers": [_charger()[0] for _ in range(50)], "n": list(range(70_000))}
    blob = _compressed_pickle(state)
    assert blob == zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def test_state_objects_come_back_equal_capped_and_shared() -> None:
    cs, _ = _charger()
    back = pickle.loads(zlib.decompress(_compressed_pickle({"cs": cs})))["cs"]
    assert back == cs
    port = back.ports[1]
    assert isinstance(port.history, Capped) and port.history.limit == 3
    assert [e.status for e in port.history] == ["S2", "S3", "S4"]
    port.history.append(PortEvent(T0, "boot"))
    assert len(port.history) == 3  # still capped after the round trip
    assert port.open_fault is port.faults[0] is back.boot_faults[0]  # one object, as before
