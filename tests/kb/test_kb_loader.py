"""Loading and linting: every problem reported as file:line: problem, nothing half-loaded."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.lint import lint_knowledge
from bot.kb.loader import KnowledgeError, default_root, load_knowledge, read_knowledge

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


GOOD_VENDOR = """
vendor:
  name: Acme
  sends: ["Acme Corp"]
  code_format: decimal
source: "Acme manual v1"
codes:
  - code: "1"
    category: ground_fault
    severity: safety
    owner: electrician
    meaning: "m"
    action: "a"
"""


def test_fixture_base_loads_and_lints_clean(fixture_kb: KnowledgeBase) -> None:
    assert lint_knowledge(FIXTURE_ROOT) == []
    assert "Alfen" in fixture_kb.vendors
    assert fixture_kb.standard("GroundFailure") is not None
    assert fixture_kb.standard("connectorplugretentionlock/problem") is not None
    assert fixture_kb.standard("OtherError") is None
    file, line = fixture_kb.locations["alfen:210"]
    assert file == "base/vendors/alfen.yaml"
    assert (FIXTURE_ROOT / "vendors/alfen.yaml").read_text().splitlines()[line - 1].strip() == (
        '- code: "210"'
    )


def test_unquoted_codes_are_taken_as_written(fixture_kb: KnowledgeBase) -> None:
    # abb.yaml writes `code: 0x0002` unquoted; YAML would make that the integer 2.
    assert any(e.code == "0x0002" for e in fixture_kb.entries_for("ABB"))


def test_problems_point_at_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    _write(
        root,
        "vendors/acme.yaml",
        GOOD_VENDOR
        + """
  - code: "2"
    category: ground_fault
    severity: high
    owner: electrician
    meaning: "m"
    action: "a"
  - code: "3"
    category: teleportation
    owner: electrician
    meaning: "m"
    action: "a"
    sevrity: outage
  - code: "01"
    category: ground_fault
    severity: safety
    owner: electrician
    meaning: "duplicate of code 1 once normalised"
    action: "a"
  - code: "4"
    category: ground_fault
    severity: safety
    owner: electrician
    meaning: "m"
    action: "a"
    models: ["NG[910"]
    firmware: ">=four"
""",
    )
    problems = [str(p) for p in read_knowledge(root)[1]]
    assert (
        "knowledge/vendors/acme.yaml:16: severity 'high' is not one of "
        "safety, outage, degraded, advisory, info" in problems
    )
    assert any(
        p.startswith("knowledge/vendors/acme.yaml:21: category 'teleportation'") for p in problems
    )
    assert "knowledge/vendors/acme.yaml:20: missing required field 'severity'" in problems
    assert any(
        p.startswith("knowledge/vendors/acme.yaml:25: unknown field 'sevrity'")
        and "did you mean severity" in p
        for p in problems
    )
    assert any(
        p.startswith("knowledge/vendors/acme.yaml:26: code '01' is already defined")
        and "acme.yaml:7" in p
        for p in problems
    )
    assert any(p.startswith("knowledge/vendors/acme.yaml:38: model pattern") for p in problems)
    assert any(p.startswith("knowledge/vendors/acme.yaml:39: firmware range") for p in problems)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    assert len(err.value.problems) == len(problems)
    assert str(err.value).count("\n") == len(problems) - 1


def test_yaml_syntax_and_cross_file_problems(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    _write(root, "vendors/acme.yaml", GOOD_VENDOR)
    _write(root, "vendors/acme2.yaml", GOOD_VENDOR.replace("Acme Corp", "Other"))
    _write(root, "vendors/broken.yaml", "vendor:\n  name: X\n  sends: [unclosed\n")
    _write(
        root,
        "vendors/bits.yaml",
        """
        vendor: {name: Bits, code_format: hex_bitmask}
        source: s
        codes:
          - {code: "0x0003", category: ground_fault, severity: safety, owner: electrician,
             meaning: m, action: a}
        """,
    )
    _write(
        root,
        "quirks.yaml",
        """
        quirks:
          - id: q1
            vendor: Nobody
            kind: boot_fault_window
            explanation: e
            source: s
          - id: q1
            vendor: Acme
            kind: sometimes
            explanation: e
            source: s
        """,
    )
    problems = [str(p) for p in read_knowledge(root)[1]]
    assert any(
        p.startswith(
            "kb/vendors/acme2.yaml:2: vendor 'Acme' is already defined at kb/vendors/acme.yaml:2"
        )
        for p in problems
    )
    assert any(p.startswith("kb/vendors/broken.yaml:") and "not valid YAML" in p for p in problems)
    assert any(
        p.startswith("kb/vendors/bits.yaml:4: code '0x0003' is not a single bit") for p in problems
    )
    assert "kb/quirks.yaml:2: a boot_fault_window quirk needs 'window_s' (seconds)" in problems
    assert any(p.startswith("kb/quirks.yaml:9: kind 'sometimes'") for p in problems)
    assert "kb/quirks.yaml:7: quirk id 'q1' is already used at line 2" in problems
    assert "kb/quirks.yaml:2: quirk 'q1': unknown vendor 'Nobody'" in problems


def test_lint_checks_coverage_and_phrase_conflicts(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_ROOT, root)
    text = (root / "phrasings.yaml").read_text()
    # Drop the surge block and make an internal_error phrase also a power_loss phrase.
    start = text.index("  - category: surge_protection")
    end = text.index("  - category: configuration")
    text = text[:start] + text[end:]
    text = text.replace('"FPGA watchdog triggered"', '"DYING GASP"')
    (root / "phrasings.yaml").write_text(text)
    problems = [str(p) for p in lint_knowledge(root)]
    assert "knowledge/phrasings.yaml:1: no phrasing block for category 'surge_protection'" in (
        problems
    )
    # Coverage problems stop the matcher-based check; fix coverage and look again.
    text = text.replace(
        "  - category: configuration",
        "  - category: surge_protection\n"
        "    severity: outage\n    owner: electrician\n    meaning: m\n    action: a\n"
        '    phrases: ["SPD fault"]\n    source: s\n  - category: configuration',
        1,
    )
    (root / "phrasings.yaml").write_text(text)
    problems = [str(p) for p in lint_knowledge(root)]
    assert any("phrase 'DYING GASP' is also a power_loss phrase" in p for p in problems)


def test_default_root_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_root().name == "knowledge"
    monkeypatch.setenv("FAULTBOT_KNOWLEDGE_DIR", str(tmp_path))
    assert default_root() == tmp_path
    assert read_knowledge(tmp_path / "missing")[1][0].message == "knowledge directory not found"
