"""Contract-2 validation for `explain --json` objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.vocab import Category, Owner, Severity

KEYS = {"charger", "connector", "ts", "category", "severity", "owner", "suppressed", "summary",
        "action", "confidence", "rule", "evidence"}


def check(obj: dict[str, Any]) -> None:
    assert set(obj) == KEYS, set(obj) ^ KEYS
    assert isinstance(obj["charger"], str) and obj["charger"]
    assert obj["connector"] is None or (isinstance(obj["connector"], int)
                                        and not isinstance(obj["connector"], bool))
    assert obj["ts"].endswith("Z")
    datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
    assert obj["category"] in {c.value for c in Category}
    assert obj["severity"] in {s.value for s in Severity}
    assert obj["owner"] in {o.value for o in Owner}
    assert isinstance(obj["suppressed"], bool)
    for key in ("summary", "action", "rule"):
        assert isinstance(obj[key], str) and obj[key].strip(), key
    assert isinstance(obj["confidence"], float | int) and 0 <= obj["confidence"] <= 1
    assert isinstance(obj["evidence"], list) and all(isinstance(e, str) for e in obj["evidence"])
    assert "{{" not in obj["summary"] and "{{" not in obj["action"]
