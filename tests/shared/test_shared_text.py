"""bot.text.clean and bot.templating.terminal_env: the one way charger text is shown."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from bot.templating import TEMPLATE_ROOT, template_root, terminal_env
from bot.text import CONTROL, clean


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("EMERGENCY_STOP_BUTTON_1", "EMERGENCY_STOP_BUTTON_1"),
        ("\x1b[31mBOOM\x07", "[31mBOOM"),  # no escape sequence, no bell
        ("\u202eevil\u2066x\u2069", "evilx"),  # bidi overrides and isolates
        ("\ufeffAlfen\u200b", "Alfen"),  # BOM and zero-width space
        ("line one\nline two\r\n\tend", "line one line two   end"),  # one line
        ("a\u2028b\x85c", "a b c"),
        (None, ""),
        (4711, "4711"),
    ],
)
def test_clean_removes_what_a_terminal_would_obey(raw: object, shown: str) -> None:
    assert clean(raw, 100) == shown


def test_clean_bounds_length_and_says_so() -> None:
    assert clean("x" * 10, 10) == "x" * 10
    assert clean("x" * 11, 10) == "x" * 9 + "…"
    assert clean("ab", 1) == "…"
    # Mostly-invisible hostile text is still marked as cut.
    assert clean("\x00" * 5000 + "tail", 20).endswith("…")


def test_clean_on_a_huge_hostile_field() -> None:
    out = clean("\u202e" * 5_000_000 + "x" * 5_000_000, 200)
    assert out == "…"  # only a bounded prefix is examined; it held nothing printable
    assert clean("y" * 10_000_000, 200) == "y" * 199 + "…"


def test_control_pattern_keeps_printable_unicode() -> None:
    assert CONTROL.search("Ladesäule Größe 充电桩 — ok ✓") is None


def test_terminal_env_is_strict_fresh_and_has_clean() -> None:
    env = terminal_env("cli")
    assert env is not terminal_env("cli")  # callers add filters to their own copy
    assert env.undefined is jinja2.StrictUndefined
    tpl = env.from_string("{{ v | clean(8) }}")
    assert tpl.render(v="\x1bAB\u202eCDEFGHIJ") == "ABCDEFG…"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing.attr }}").render()


def test_terminal_env_finds_the_templates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert (TEMPLATE_ROOT / "cli" / "kb_lookup.j2").is_file()
    assert "kb_lookup.j2" in terminal_env("cli").list_templates()
    assert "triage/summary.j2" in terminal_env().list_templates()
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "x.j2").write_text("{% if true %}\n  hi {{ n }}\n{% endif %}\n")
    monkeypatch.setenv("FAULTBOT_TEMPLATES_DIR", str(tmp_path))
    assert template_root() == tmp_path
    assert terminal_env("cli").get_template("x.j2").render(n=1) == "  hi 1\n"
