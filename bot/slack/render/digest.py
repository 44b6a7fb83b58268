"""The daily digest as Slack messages, packed into Block Kit limits.

A big fleet's digest does not fit one message: lines are packed into sections
(<= 2800 chars), sections into messages (<= 50 blocks); each section shows at most
`LINES_PER_SECTION` lines and summarises the rest by category; past `MAX_MESSAGES`
the remainder is summarised in one line. Every message carries a text fallback.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.model import SECTION_ORDER, Digest, DigestLine, UnknownCode
from bot.slack.escape import environment, link
from bot.slack.render.budget import (
    MAX_BLOCKS,
    SlackMessage,
    actions,
    button,
    context,
    divider,
    header,
    pack_sections,
    section,
)
from bot.slack.render.times import slack_date

LINES_PER_SECTION = 40
MAX_MESSAGES = 4
MAX_TEACH_BUTTONS = 10
MAX_SITES = 30
MAX_PHANTOMS = 8
TEACH = "teach_code"


@lru_cache(maxsize=1)
def _macros() -> Any:
    return environment().get_template("digest.j2").module


def teach_value(u: UnknownCode) -> str:
    import json

    return json.dumps({"vendor": (u.vendor or "")[:200], "code": u.code[:200]})


def _line_texts(lines: list[DigestLine], tz: ZoneInfo) -> list[str]:
    m = _macros()
    return [
        str(m.line(ln, slack_date(ln.since, tz, "{date_short} {time}"),
                   slack_date(ln.resolved_at, tz, "{time}")))
        for ln in lines
    ]


def digest_blocks(
    digest: Digest, tz: ZoneInfo, lines_per_section: int = LINES_PER_SECTION
) -> list[dict[str, Any]]:
    """Every block of the digest body, in reading order (before splitting)."""
    m = _macros()
    blocks: list[dict[str, Any]] = [section(str(m.headline(digest.headline)))]
    if not digest.has_data:  # say so, but still list what the incident log holds
        blocks.append(section(str(m.no_data(digest))))
    for key in SECTION_ORDER:
        lines = digest.section(key).lines
        if not lines:
            continue
        blocks.append(divider())
        blocks.append(section(str(m.section_title(key, len(lines)))))
        shown, rest = lines[:lines_per_section], lines[lines_per_section:]
        for chunk in pack_sections(_line_texts(shown, tz)):
            blocks.append(section(chunk))
        if rest:
            by_cat = Counter(ln.category for ln in rest).most_common(6)
            blocks.append(context(str(m.more_lines(len(rest), by_cat))))
    if digest.unknown_codes:
        codes = digest.unknown_codes
        blocks.append(divider())
        blocks.append(section(str(m.unknown_title(len(codes)))))
        for chunk in pack_sections([str(m.unknown_line(u)) for u in codes[:40]]):
            blocks.append(section(chunk))
        buttons = [
            button(str(m.teach_label(u)), f"{TEACH}:{i}", teach_value(u))
            for i, u in enumerate(codes[:MAX_TEACH_BUTTONS])
        ]
        for i in range(0, len(buttons), 5):
            blocks.append(actions(*buttons[i : i + 5]))
    if digest.fixes:
        from bot.slack.actions_render import m as action_words

        aw = action_words()
        blocks.append(divider())
        blocks.append(section(str(aw.fixes_title(len(digest.fixes)))))
        for chunk in pack_sections([f"• {aw.fix_rate(r)}" for r in digest.fixes]):
            blocks.append(section(chunk))
    if digest.phantoms:
        ph = digest.phantoms[:MAX_PHANTOMS]
        blocks.append(
            context(
                str(m.phantoms_title(digest.phantom_total)), *[str(m.phantom_line(p)) for p in ph]
            )
        )
    if digest.sites:
        blocks.append(divider())
        site_lines = [str(m.sites_title())] + [
            str(m.site_line(s)) for s in digest.sites[:MAX_SITES]
        ]
        for chunk in pack_sections(site_lines):
            blocks.append(section(chunk))
        if len(digest.sites) > MAX_SITES:
            blocks.append(context(str(m.more_sites(len(digest.sites) - MAX_SITES))))
    return blocks


def report_permalink(channel: str, ts: str) -> str:
    """A message's permalink without an API call (Slack redirects it to the workspace)."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def render_digest_messages(
    digest: Digest, tz: ZoneInfo, *, lines_per_section: int = LINES_PER_SECTION,
    report: tuple[str, str] | None = None,
) -> list[SlackMessage]:
    """The digest as one or more messages, each within Block Kit limits. `report` is the
    (channel, ts) of the latest posted weekly report, which the last message links to."""
    m = _macros()
    latest = None
    if report is not None:
        latest = link(report_permalink(*report), str(m.weekly_report_label()))
    body = digest_blocks(digest, tz, lines_per_section)
    per_message = MAX_BLOCKS - 3  # room for a header, a "truncated" note, the weekly report
    pages = [body[i : i + per_message] for i in range(0, len(body), per_message)] or [[]]
    hidden = 0
    if len(pages) > MAX_MESSAGES:
        for page in pages[MAX_MESSAGES:]:
            hidden += sum(
                b["text"]["text"].count("\n") + 1
                for b in page
                if b["type"] == "section" and "text" in b
            )
        pages = pages[:MAX_MESSAGES]
    n = len(pages)
    messages = []
    for i, page in enumerate(pages, start=1):
        head = header(str(m.header(digest))) if i == 1 else context(str(m.continued(digest, i, n)))
        blocks = [head, *page]
        if i == n and hidden:
            blocks.append(context(str(m.truncated(hidden))))
        if i == n:  # the daily digest points to the weekly report
            blocks.append(context(str(m.weekly_report(latest))))
        messages.append(SlackMessage(str(m.fallback(digest, i, n)), blocks))
    return messages
