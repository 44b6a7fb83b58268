"""bot/slack/escape.py at its edges: what may become Slack markup and what may not.

Each case names the text a charger, a vendor or a user could send and the exact mrkdwn
that must come out, so a weakened pattern (match for fullmatch, a missing character in
the table) changes an answer here.
"""

from __future__ import annotations

import pytest

from bot.slack.escape import (
    Mrkdwn,
    channel_mention,
    code_span,
    environment,
    escape,
    link,
    user_mention,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("a & b", "a &amp; b"),
        ("&amp; &lt; &gt;", "&amp; &lt; &gt;"),  # our own entities are not doubled
        ("&quot; &#60;", "&amp;quot; &amp;#60;"),  # entities Slack does not decode are text
        ("&", "&amp;"),
        ("x > y < z", "x &gt; y &lt; z"),
        ('"quoted" \'single\'', '"quoted" \'single\''),  # Slack shows quotes literally
        (12, "12"),
    ],
)
def test_escape(text: object, expected: str) -> None:
    assert escape(text) == expected
    assert escape(escape(text)) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("U0ONCALL", "<@U0ONCALL>"),
        ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
        ("U12", "<@U12>"),
        ("U1", "U1"),  # too short to be an id
        ("u0lower", "u0lower"),
        ("X0ONCALL", "X0ONCALL"),
        ("U" + "A" * 20, "<@U" + "A" * 20 + ">"),
        ("U" + "A" * 21, "U" + "A" * 21),  # too long
        # An id followed by more text must not become a mention: `match` would accept it.
        ("U0ONCALL> <!channel", "U0ONCALL&gt; &lt;!channel"),
        ("U0ONCALL|x", "U0ONCALL|x"),
        ("U0ONCALL\n", "U0ONCALL\n"),
        (" U0ONCALL", " U0ONCALL"),
        ("<!channel>", "&lt;!channel&gt;"),
    ],
)
def test_user_mention_only_for_whole_ids(user: str, expected: str) -> None:
    assert user_mention(user) == expected
    assert isinstance(user_mention(user), Mrkdwn)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("C0ALERTS", "<#C0ALERTS>"),
        ("G0PRIVATE", "<#G0PRIVATE>"),
        ("D0DM", "<#D0DM>"),
        ("C1", "C1"),
        ("C0ALERTS> <!here", "C0ALERTS&gt; &lt;!here"),
        ("#ops", "#ops"),
        ("C" + "A" * 21, "C" + "A" * 21),
    ],
)
def test_channel_mention_only_for_whole_ids(channel: str, expected: str) -> None:
    assert channel_mention(channel) == expected


@pytest.mark.parametrize(
    ("url", "label", "expected"),
    [
        ("https://ok.example/x", "manual", "<https://ok.example/x|manual>"),
        ("https://eXample.test/XX", "doc", "<https://eXample.test/XX|doc>"),
        ("http://ok.example/x", "a|b", "<http://ok.example/x|a¦b>"),
        ("https://ok.example/x", "<!here>", "<https://ok.example/x|&lt;!here&gt;>"),
        ("ftp://ok.example/x", "manual", "manual"),
        ("javascript:alert(1)", "<b>", "&lt;b&gt;"),
        ("https://ok.example/a|b", "x", "x"),  # a | would end the URL early
        ("https://ok.example/<x>", "x", "x"),
        ("https://ok.example/a b", "x", "x"),
        ("https://ok.example/a\nb", "x", "x"),
    ],
)
def test_link(url: str, label: str, expected: str) -> None:
    assert link(url, label) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F400", "`F400`"),
        ("a`b", "`a'b`"),
        ("a```b", "`a'b`"),
        ("two\nlines", "`two lines`"),
        ("<!channel>", "`&lt;!channel&gt;`"),
        ("", ""),
    ],
)
def test_code_span(text: str, expected: str) -> None:
    assert code_span(text) == expected


def test_templates_escape_every_printed_value_but_our_own_markup() -> None:
    env = environment()
    tpl = env.from_string("{{ a }}|{{ b }}|{{ c }}|{{ d }}|{{ e }}|{{ f | user }}")
    out = tpl.render(a="<!here>", b=Mrkdwn("<@U0OK>"), c=None, d=3, e=["<x>"], f="U0OK")
    assert out == "&lt;!here&gt;|<@U0OK>||3|['&lt;x&gt;']|<@U0OK>"
