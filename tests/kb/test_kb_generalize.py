"""`faultbot bench generalize` (issue 11): leave one source out, over the whole base."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.bench.generalize import MAX_WRONG, MIN_SYMBOLIC_RIGHT, evaluate, is_symbolic, without
from bot.cli.main import cli
from bot.kb.loader import default_knowledge
from bot.kb.normalize import is_numeric_code


@pytest.fixture(scope="module")
def results():  # type: ignore[no-untyped-def]
    return evaluate(default_knowledge())


def test_the_acceptance_figures_hold_on_the_whole_base(results) -> None:  # type: ignore[no-untyped-def]
    every = [o for r in results for o in r.outcomes]
    wrong = [o for o in every if o.verdict == "wrong"]
    symbolic = [o for o in every if o.symbolic]
    right = [o for o in symbolic if o.verdict == "right"]
    assert len(every) >= 400
    assert len(wrong) / len(every) <= MAX_WRONG, [(o.source, o.code) for o in wrong]
    assert len(right) / len(symbolic) >= MIN_SYMBOLIC_RIGHT


def test_numeric_codes_of_a_removed_vendor_are_never_answered_from_another_manual(
    results,  # type: ignore[no-untyped-def]
) -> None:
    for r in results:
        for o in r.outcomes:
            if is_numeric_code(o.code) and o.verdict != "unknown":
                # only the charger's own OCPP errorCode or info words may answer it
                assert o.method in ("standard", "phrasing", "words", "fuzzy"), (r.name, o)


def test_every_source_with_codes_is_held_out_once(results) -> None:  # type: ignore[no-untyped-def]
    kb = default_knowledge()
    with_codes = {n for n in kb.vendors if kb.entries_for(n)}
    assert {r.name for r in results} == with_codes


def test_a_held_out_base_really_lacks_the_source() -> None:
    kb = default_knowledge()
    held = without(kb, "Alfen")
    assert "Alfen" not in held.vendors and not held.entries_for("Alfen")
    assert held.resolve_vendor("Alfen BV") is None


@pytest.mark.parametrize(
    ("code", "symbolic"),
    [("PilotShortToGround", True), ("state 18", True), ("OVRC", False), ("0x0400", False),
     ("F-0101", False), ("ERR_CODE_12", False), ("CCS_VEHICLE_NO_DATA_ERROR", True)],
)  # fmt: skip
def test_which_codes_count_as_symbolic(code: str, symbolic: bool) -> None:
    assert is_symbolic(code) is symbolic


def test_the_cli_prints_per_source_and_overall_and_checks() -> None:
    out = CliRunner().invoke(cli, ["bench", "generalize", "--check", "--show-wrong", "5"])
    assert out.exit_code == 0, out.output
    assert "overall:" in out.output and "acceptance: wrong <= 2% (met)" in out.output
    assert "Alfen" in out.output
    one = CliRunner().invoke(cli, ["bench", "generalize", "--source", "EVerest"])
    assert one.exit_code == 0 and "EVerest (scheme)" in one.output and "Alfen" not in one.output
