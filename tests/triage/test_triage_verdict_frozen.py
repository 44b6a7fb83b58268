"""A Verdict is a value: rules and modifiers return a new one, never change one in place
(so a verdict another rule or the engine still holds cannot change under it)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.triage.rules.base import Verdict
from bot.vocab import Category, Owner, Severity


def test_a_verdict_cannot_be_changed_in_place() -> None:
    v = Verdict(rule="kb_match", category=Category.UNKNOWN, severity=Severity.DEGRADED,
                owner=Owner.REMOTE_OPERATOR, summary="s", action="a", confidence=0.5,
                evidence=[])  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.severity = Severity.OUTAGE  # type: ignore[misc]  # the point: frozen refuses it
    assert dataclasses.replace(v, confidence=0.7).confidence == 0.7 and v.confidence == 0.5
