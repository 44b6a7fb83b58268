"""Aliases in the OCPP standard files are indexed like codes, and each fact lives once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.lint import lint_knowledge
from bot.kb.loader import load_knowledge, read_knowledge
from bot.kb.matcher import Matcher
from bot.kb.types import MatchQuery
from bot.vocab import Category

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"

# Spelling -> the code of the entry that must answer it (the real knowledge/ base).
REAL_ALIASES = {
    "Mode3Error": "EVCommunicationError",  # the OCPP 1.5 name
    "Connector/Tripped": "Connector/Problem",
    "EVSE/Tripped": "EVSE/Problem",
    "ChargingStation/Tripped": "ChargingStation/Problem",
    "EVSE/Overload": "ChargingStation/Overload",
    "ConnectorPlugRetentionLock/Tripped": "ConnectorPlugRetentionLock/Problem",
    "EVRetentionLock/Problem": "ConnectorPlugRetentionLock/Problem",
    "CPPWMController/Problem": "ControlPilot/Problem",
    "OverCurrentProtection/Operated": "OverCurrentProtection/Tripped",
    "RCD/Operated": "RCD/Tripped",
    "ExternalTemperatureSensor/Problem": "TemperatureSensor/Problem",
    "PowerContactor/Tripped": "PowerContactor/Problem",
    "EmergencyStopSensor/Active": "EmergencyStopSensor/Tripped",
    "CaseAccessSensor/Problem": "CaseAccessSensor/Tripped",
    "ShockSensor/Active": "TiltSensor/Active",
    "FloodSensor/Active": "FloodSensor/Tripped",
    "HumiditySensor/Problem": "FloodSensor/Tripped",
    "AreaVentilation/Problem": "AirCoolingSystem/Problem",
    "AcDcConverter/Tripped": "AcDcConverter/Problem",
    "ELVSupply/Fallback": "ElectricalFeed/Problem",
    "UpstreamProtectionTrigger/Problem": "UpstreamProtectionTrigger/Tripped",
    "ControlMetering/Problem": "FiscalMetering/Problem",
    "DataLink/Fallback": "DataLink/Problem",
    "LocalController/Problem": "Controller/Problem",
}


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.mark.parametrize(("alias", "code"), sorted(REAL_ALIASES.items()))
def test_a_standard_alias_answers_with_its_entry(
    real_kb: KnowledgeBase, alias: str, code: str
) -> None:
    entry = real_kb.standard(alias)
    assert entry is not None and entry.code == code, entry
    assert alias in entry.aliases
    assert real_kb.standard(alias.upper()) is entry  # case-insensitive like codes
    m = Matcher(real_kb, cache_size=0).match(MatchQuery(error_code=alias))
    assert m.entry is entry and m.method == "standard", m.evidence


def test_each_standard_fact_lives_once(real_kb: KnowledgeBase) -> None:
    """No two standard entries carry the same advice: a spelling is an alias, not a copy."""
    seen: dict[tuple[str, ...], str] = {}
    for entry in real_kb.entries:
        if entry.vendor is not None:
            continue
        fact = (entry.category, entry.severity, entry.owner, entry.meaning, entry.action)
        assert fact not in seen, f"{entry.code} repeats {seen[fact]}"
        seen[fact] = entry.code or ""
    codes = {e.code for e in real_kb.entries if e.vendor is None}
    assert not codes & set(REAL_ALIASES), "an alias is still its own entry"


def test_recloser_problems_keep_their_own_advice(real_kb: KnowledgeBase) -> None:
    """A recloser that cannot re-arm is a different fact from the trip itself."""
    trip, recloser = real_kb.standard("RCD/Tripped"), real_kb.standard("RCDRecloser/Problem")
    assert trip is not None and recloser is not None and trip is not recloser
    assert recloser.category == Category.GROUND_FAULT and recloser.owner != trip.owner


def _copy_fixture(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_ROOT, root)
    return root


def _append(path: Path, code: str, alias: str, category: str = "ground_fault") -> int:
    """Append a standard entry with one alias; returns the line of its `- code:` line."""
    before = path.read_text(encoding="utf-8")
    if not before.endswith("\n"):
        before += "\n"
    entry = (
        f'  - code: "{code}"\n    aliases: ["{alias}"]\n    category: {category}\n'
        '    severity: degraded\n    owner: driver\n    meaning: "m"\n    action: "a"\n'
    )
    path.write_text(before + entry, encoding="utf-8")
    return before.count("\n") + 1


def test_fixture_aliases_are_indexed(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path)
    _append(root / "standards/ocpp16.yaml", "Mode3Error", "Mode3", "ev_communication")
    kb = load_knowledge(root)
    entry = kb.standard("mode3")
    assert entry is not None and entry.code == "Mode3Error" and kb.standard("MODE3ERROR") is entry
    assert lint_knowledge(root) == []


def test_an_alias_colliding_with_a_code_of_the_other_standard_is_a_problem(
    tmp_path: Path,
) -> None:
    root = _copy_fixture(tmp_path)
    line = _append(root / "standards/ocpp201.yaml", "Foo/Problem", "GroundFailure")
    kb, problems = read_knowledge(root)
    text = [str(p) for p in problems]
    assert any(
        t.startswith(f"kb/standards/ocpp201.yaml:{line}: alias 'GroundFailure' collides with")
        and "standard:ocpp16 at kb/standards/ocpp16.yaml:" in t
        for t in text
    ), text
    # The code keeps its own entry: an alias never takes over another entry's code.
    assert kb.standard("GroundFailure") is not None
    assert kb.standard("GroundFailure").category == Category.GROUND_FAULT
    assert kb.standard("GroundFailure").code == "GroundFailure"
    assert any("alias 'GroundFailure' collides" in str(p) for p in lint_knowledge(root))


def test_an_alias_colliding_with_a_code_of_the_same_file_is_a_problem(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path)
    line = _append(
        root / "standards/ocpp16.yaml", "Mode3Error", "HighTemperature", "ev_communication"
    )
    problems = [str(p) for p in lint_knowledge(root)]
    assert any(
        p.startswith(f"kb/standards/ocpp16.yaml:{line}: alias 'HighTemperature' (of 'Mode3Error')")
        and "is already defined for standard:ocpp16" in p
        for p in problems
    ), problems
