"""Answers (why / site / code / help / unknown codes) as Block Kit messages."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.escape import environment
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

TEACH = "teach_code"
MAX_PORTS = 24


@lru_cache(maxsize=1)
def m() -> Any:
    """The answers.j2 macros."""
    return environment().get_template("answers.j2").module


def _text(message: str) -> SlackMessage:
    return SlackMessage(message, [section(message)])


def _limit(blocks: list[dict[str, Any]], note: str = "…") -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(note)]


def render_why(a: Any, tz: ZoneInfo) -> SlackMessage:
    M = m()
    fallback = str(M.why_fallback(a))
    if not a.found:
        return _text(str(M.why_not_found(a)))
    blocks: list[dict[str, Any]] = [
        header(str(M.why_header(a))),
        section(str(M.why_overview(a, slack_date(a.last_seen, tz)))),
    ]
    if a.silent is not None:
        blocks.append(section(str(M.cause(a.silent, slack_date(a.silent.since, tz)))))
    for c in a.charger_causes:
        blocks.append(section(str(M.cause(c, slack_date(c.since, tz)))))
    ports = [p for p in a.ports if a.connector is None or p.connector in (a.connector, 0)]
    for p in ports[:MAX_PORTS]:
        blocks.append(divider())
        blocks.append(section(str(M.port(p, slack_date(p.status_since, tz)))))
        for c in p.causes[:3]:
            blocks.append(section(str(M.cause(c, slack_date(c.since, tz)))))
            if c.evidence:
                blocks.append(context(str(M.evidence(c.evidence))))
    return SlackMessage(fallback, _limit(blocks))


def render_site(a: Any, tz: ZoneInfo) -> SlackMessage:
    M = m()
    if not a.found:
        return _text(str(M.site_not_found(a)))
    blocks: list[dict[str, Any]] = [header(str(M.site_header(a))), section(str(M.site_overview(a)))]
    for c in a.site_causes:
        blocks.append(section(str(M.cause(c, slack_date(c.since, tz)))))
    lines = [
        str(M.site_port_cause(ch, conn, c, slack_date(c.since, tz)))
        for ch, conn, c in a.port_causes[:60]
    ]
    if lines:
        blocks.append(divider())
        blocks.extend(section(chunk) for chunk in pack_sections(lines))
    if a.ports_down:
        blocks.append(context(str(M.site_down_ports(a.ports_down))))
    return SlackMessage(str(M.site_fallback(a)), _limit(blocks))


def render_code(code: str, vendor: str | None, match: Any) -> SlackMessage:
    M = m()
    blocks = [section(str(M.code_answer(code, vendor, match)))]
    source = str(M.code_source(match))
    if source:
        blocks.append(context(source))
    return SlackMessage(str(M.code_fallback(code, vendor, match)), blocks)


def render_help(command: str) -> SlackMessage:
    return SlackMessage(str(m().help_fallback()), [section(str(m().help(command)))])


def render_did_you_mean(raw: str, suggestion: str | None, command: str) -> SlackMessage:
    return _text(str(m().did_you_mean(raw, suggestion, command)))


def render_problem(kind: str, word: str | None, command: str) -> SlackMessage:
    return _text(str(m().problem(kind, word or "", command)))


def render_notice(name: str, *args: Any) -> SlackMessage:
    """A one-line message from an answers.j2 macro (failed, not_admin, taught, ...)."""
    return _text(str(getattr(m(), name)(*args)))


def teach_value(vendor: str | None, code: str) -> str:
    return json.dumps({"vendor": (vendor or "")[:200], "code": code[:200]})


def render_unknown_codes(codes: list[Any], *, can_teach: bool) -> SlackMessage:
    M = m()
    if not codes:
        return _text(str(M.unknown_none()))
    title = str(M.unknown_title(len(codes)))
    blocks = [section(title)]
    blocks.extend(section(c) for c in pack_sections([str(M.unknown_line(u)) for u in codes[:60]]))
    if can_teach:
        buttons = [
            button(str(M.teach_label(u)), f"{TEACH}:{i}", teach_value(u.vendor, u.code))
            for i, u in enumerate(codes[:20])
        ]
        blocks.extend(actions(*buttons[i : i + 5]) for i in range(0, len(buttons), 5))
    return SlackMessage(title.strip("*"), _limit(blocks))
