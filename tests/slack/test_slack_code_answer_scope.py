"""`/faultbot code ...` says when an answer is a guess or only a hint (issue 11)."""

from __future__ import annotations

from slack_helpers import mrkdwn_texts

from bot.kb.loader import default_knowledge
from bot.kb.matcher import Matcher
from bot.kb.types import MatchQuery
from bot.slack.render.answers import render_code


def _text(code: str, vendor: str | None) -> str:
    match = Matcher(default_knowledge()).match(MatchQuery(vendor=vendor, code=code))
    message = render_code(code, vendor, match)
    return "\n".join(mrkdwn_texts(message.blocks))


def test_a_code_without_a_vendor_is_a_labelled_guess_naming_the_manual() -> None:
    text = _text("F1", None)
    assert "A guess from ABL's manual" in text


def test_a_named_unknown_vendor_gets_unknown_and_a_hint_escaped() -> None:
    text = _text("F1", "<!channel> Foo")
    assert "I don't know" in text and "Hint, not an answer: ABL's manual uses F1" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_a_code_read_from_its_words_says_so() -> None:
    text = _text("PlcModemLost", "Nobody Knows GmbH")
    assert "Read from the code's own words" in text
