"""The matcher is declared as tables of small steps, and its sentences live in templates.

Pins the order of INDEX_STEPS, LOOKUP_STEPS and SCOPE_RULES (changing it changes
answers, so it must be a visible edit here), that each step is a small function, that
the module docstring lists every table in that order, and that no evidence sentence is
built in Python: every sentence is a macro of templates/kb/evidence.j2.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from bot.kb import matcher
from bot.kb.matcher import INDEX_STEPS, LOOKUP_STEPS, SCOPE_RULES, Matcher
from bot.kb.types import MatchQuery
from bot.kb.wording import say, show

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "bot" / "kb" / "matcher.py"
TEMPLATE = ROOT / "templates" / "kb" / "evidence.j2"
MAX_STEP_LINES = 25

TABLES = {
    "INDEX_STEPS": (INDEX_STEPS, [
        "index_vendors", "index_code_formats", "index_schemes", "index_phrasings",
        "index_false_friends", "index_vendor_text", "index_code_reader",
    ]),
    "LOOKUP_STEPS": (LOOKUP_STEPS, [
        "resolve_vendor", "taught", "vendor_exact", "vendor_normalised", "vendor_scheme",
        "vendor_bitmask", "vendor_unlisted", "vendor_embedded", "other_vendors",
        "text_or_standard", "link_to_a_device", "code_words", "borrowed_guess",
    ]),
    "SCOPE_RULES": (SCOPE_RULES, ["model_scope", "firmware_scope"]),
}  # fmt: skip


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_lists_its_steps_in_order(table: str) -> None:
    steps, names = TABLES[table]
    assert [step.__name__ for step in steps] == names


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_step_is_a_small_function_of_the_matcher(table: str) -> None:
    for step in TABLES[table][0]:
        assert inspect.isfunction(step) and step.__module__ == "bot.kb.matcher", step
        lines, _ = inspect.getsourcelines(step)
        assert len(lines) <= MAX_STEP_LINES, f"{step.__name__}: {len(lines)} lines"


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_module_docstring_lists_each_table_in_order(table: str) -> None:
    doc = matcher.__doc__ or ""
    assert table in doc.split("\n\n")[1], "the opening paragraph names the tables"
    header = f"| {table}"
    block = doc[doc.index(header):].split("\n\n")[0]
    listed = re.findall(r"^\| (\w+)\s+\|", block, re.MULTILINE)[1:]  # [0] is the header
    assert listed == TABLES[table][1]


def _sentence_building(tree: ast.AST) -> list[str]:
    """Places where Python puts words together: f-strings, `+`/`%` with text, str.join or
    str.format on text, and literals of two or more words (docstrings excepted)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip

    def wordy(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(
            re.search(r"[A-Za-z]", node.value)
        )

    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.JoinedStr) and any(wordy(v) for v in node.values):
            found.append(f"{line}: f-string with words")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod) and (
            wordy(node.left) or wordy(node.right)
        ):
            found.append(f"{line}: text joined with + or %")
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("join", "format") and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str) and node.func.value.value.strip()
        ):  # fmt: skip
            found.append(f"{line}: str.{node.func.attr}")
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", node.value)
        ):  # fmt: skip
            found.append(f"{line}: literal {node.value!r}")
    return found


def test_no_evidence_sentence_is_built_in_python() -> None:
    found = _sentence_building(ast.parse(SOURCE.read_text(encoding="utf-8")))
    assert not found, f"words belong in {TEMPLATE.relative_to(ROOT)}: {found}"


def test_the_check_catches_sentences_built_in_python() -> None:
    for code in (
        'ev.append(f"vendor {name} is not known")',
        'ev.append("vendor " + name)',
        'ev.append("; ".join(parts))',
        'ev.append("{} is not known".format(name))',
        'ev.append("no entry matched")',
    ):
        assert _sentence_building(ast.parse(code)), code
    assert not _sentence_building(ast.parse('padded = f" {query} "\nsay("vendor_exact", x=1)'))


def test_every_sentence_the_matcher_says_is_a_template_macro() -> None:
    macros = set(re.findall(r"\{% macro (\w+)\(", TEMPLATE.read_text(encoding="utf-8")))
    said = set(re.findall(r"\bsay\(\s*\"(\w+)\"", SOURCE.read_text(encoding="utf-8")))
    assert said and said <= macros, said - macros


def test_sentences_render_exactly_with_charger_text_shortened() -> None:
    long = "x" * 80
    assert say("vendor_unknown", sent=long) == f"vendor {show(long)} is not in the knowledge base"
    assert show(long).endswith("…") and len(show(long)) == 60


def test_a_lookup_runs_the_table_and_says_each_step(matcher: Matcher) -> None:
    m = matcher.match(MatchQuery(vendor="Alfen BV", code="E-102"))
    assert m.entry is not None and m.entry.key == "alfen:102"
    assert m.evidence[0] == "vendor Alfen BV is Alfen"
    assert m.evidence[-1].endswith("(normalised, score 100)")
