"""Escaping and Block Kit budgets, without Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_helpers import assert_no_injection, make_incident, mrkdwn_texts
from sqlalchemy.orm import Session

from bot.slack.escape import Mrkdwn, code_span, escape, link, render, user_mention
from bot.slack.render.budget import (
    SECTION_TEXT,
    SlackMessage,
    button,
    check,
    context,
    fit,
    header,
    pack_sections,
    section,
)
from bot.slack.render.incident import render_alert_reply, render_alert_root

HOSTILE = 'Vendor "X" says <!channel> & <https://evil.example|click> @here <@U123> `x`'


def test_escape_three_entities_only_and_idempotent() -> None:
    out = escape(HOSTILE)
    assert out == (
        'Vendor "X" says &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; @here '
        "&lt;@U123&gt; `x`"
    )
    assert escape(out) == out  # a second pass (nested template) changes nothing
    assert escape(Mrkdwn("<@U1>")) == "<@U1>"


def test_helpers_build_markup_only_from_what_we_trust() -> None:
    assert user_mention("U0ONCALL") == "<@U0ONCALL>"
    assert user_mention("<!channel>") == "&lt;!channel&gt;"
    assert link("https://ok.example/x", "a|b <c>") == "<https://ok.example/x|a¦b &lt;c&gt;>"
    assert link("javascript:alert(1)", "x") == "x"
    assert code_span("a`b`<c>") == "`a'b'&lt;c&gt;`"


def test_templates_do_not_html_escape() -> None:
    env_text = render("answers.j2")  # renders (macros only) without error
    assert env_text == ""
    from bot.slack.render.answers import m

    text = str(m().did_you_mean('say "hi" & <!here>', None, "/faultbot"))
    assert '"hi"' in text and "&#34;" not in text and "&lt;!here&gt;" in text


def test_budget_checker_finds_every_violation() -> None:
    too_many = SlackMessage("x", [section("a")] * 51)
    assert any("51 blocks" in p for p in check(too_many))
    bad = SlackMessage(
        "",
        [
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}},
            {"type": "section", "text": {"type": "mrkdwn", "text": ""}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "f"},
                "fields": [{"type": "mrkdwn", "text": "x"}] * 11,
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "a",
                        "text": {"type": "plain_text", "text": "b"},
                        "value": "v" * 2001,
                    }
                ],
            },
        ],
    )
    problems = check(bad)
    for needle in (
        "fallback",
        "header",
        "3001",
        "section text length 0",
        "11 fields",
        "11 context",
        "button value",
    ):
        assert any(needle in p for p in problems), (needle, problems)
    fixed = fit(bad)
    assert check(fixed) == []


def test_builders_never_exceed_limits() -> None:
    long = "line with <vendor> text & more\n" * 500
    blocks = [header("H" * 400), section(long), context(*["c"] * 20)]
    blocks += [section(c) for c in pack_sections(long.splitlines())]
    message = SlackMessage("fallback", blocks)
    assert check(message) == []
    assert all(len(c) <= SECTION_TEXT for c in pack_sections(["x" * 5000, "y"]))
    try:
        button("b", "a", "v" * 2001)
    except ValueError:
        pass
    else:
        raise AssertionError("an over-long button value must be refused")


def test_alert_messages_escape_vendor_text(db_session: Session) -> None:
    inc = make_incident(
        db_session,
        summary=HOSTILE,
        action="Press <!everyone> & go",
        site="<#C1> Site",
        charger="CP-<!here>",
        acked_by="U0ONCALL",
    )
    tz, now = ZoneInfo("Europe/Berlin"), datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    root = render_alert_root(inc, tz, now)
    assert check(root) == []
    texts = [root.text, *mrkdwn_texts(root.blocks)]
    assert_no_injection(texts)
    joined = "\n".join(texts)
    assert "&lt;!channel&gt;" in joined and "<@U0ONCALL>" in joined  # ours stays a mention
    assert "<!date^" in joined  # a date token we built ourselves
    for kind in ("escalated", "cause_changed", "resolved", "acknowledged", "reopened"):
        reply = render_alert_reply(kind, inc, tz, now, detail="recurring:3")
        assert check(reply) == [] and reply.text
        assert_no_injection([reply.text, *mrkdwn_texts(reply.blocks)])


def test_only_a_severity_change_reads_escalated_to(db_session: Session) -> None:
    """A recurrence or flapping at the same severity is paged as an escalation, but the
    thread must not say "Escalated to Safety" a second time (seen in demo-slack)."""
    inc = make_incident(db_session, severity="safety", occurrences=3)
    tz, now = ZoneInfo("Europe/Berlin"), datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def text(detail: str) -> str:
        return render_alert_reply("escalated", inc, tz, now, detail=detail).text

    assert text("outage->safety").startswith(":arrow_double_up: Escalated to ")
    recurring, flapping = text("recurring:3"), text("flapping:2")
    assert recurring.startswith(":arrow_double_up: Recurring: seen 3 times, still ")
    assert flapping.startswith(":arrow_double_up: Flapping: ")
    assert "Escalated" not in recurring + flapping
    assert all("Emergency stop button 1 is pressed." in t for t in (recurring, flapping))
