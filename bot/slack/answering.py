"""From a question to Slack messages: read it (bot.ask, against the fleet's names),
hand it to the domain (answers, KB, digest), render. Shared by the slash command,
mentions/DMs, the "did you mean" buttons and `faultbot ask`.

`answer_question` also returns the thread context of the answer (which charger, site
or code it was about), carried as message metadata so follow-ups in the thread can
refer to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.ask.followup import context_of, follow_up
from bot.ask.model import Command
from bot.slack.commands_parse import parse_command, parse_mention
from bot.slack.permissions import Action
from bot.slack.render.answers import m as answer_words
from bot.slack.render.answers import (
    render_code,
    render_help,
    render_notice,
    render_problem,
    render_site,
    render_unknown_codes,
    render_why,
)
from bot.slack.render.ask import (
    render_clarify,
    render_happened,
    render_no_target,
    render_not_understood,
)
from bot.slack.render.budget import SlackMessage
from bot.slack.render.digest import render_digest_messages
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Answered:
    messages: list[SlackMessage]
    context: dict[str, Any] | None = None  # message metadata for thread follow-ups


def name_index(services: SlackServices) -> Any:
    """The fleet's names for reading questions (cached per fleet snapshot)."""
    from bot.ask.index import index_for

    with services.transaction() as s:
        return index_for(s, services.sites, services.kb)


def read_question(
    services: SlackServices, text: str, *, slash: bool = False, context: Command | None = None
) -> Command:
    """The question as understood, in the thread's context when there is one."""
    index = name_index(services)
    cmd = parse_command(text, index) if slash else parse_mention(text, index)
    return follow_up(cmd, context)


def answer(services: SlackServices, cmd: Command, user_id: str | None) -> list[SlackMessage]:
    return answer_question(services, cmd, user_id).messages


def answer_question(services: SlackServices, cmd: Command, user_id: str | None) -> Answered:
    """The reply to one question; never raises (a failure becomes a polite message)."""
    try:
        return _answer(services, cmd, user_id)
    except Exception:
        log.exception("answering %r failed", cmd.raw)
        return Answered([render_notice("failed")])


def _zone(services: SlackServices, site: str | None) -> ZoneInfo:
    zone = services.sites.timezone_of(site) if site else None
    return zone or services.tz


def _answer(services: SlackServices, cmd: Command, user_id: str | None) -> Answered:
    tz, name = services.tz, services.command
    if cmd.problem == "no_target":
        return Answered([render_no_target(cmd, name)])
    if cmd.problem:
        return Answered([render_problem(cmd.problem, cmd.word, name)])
    if cmd.kind == "help":
        return Answered([render_help(name)])
    if cmd.kind == "unknown":
        return Answered([render_not_understood(cmd.raw, cmd.suggestion, name)])
    if cmd.kind == "clarify":
        return Answered([render_clarify(cmd)])
    now = services.clock()
    if cmd.kind == "why" and cmd.charger:
        return _why(services, cmd, now)
    if cmd.kind == "site" and cmd.site:
        return _site(services, cmd, now)
    if cmd.kind == "code" and cmd.code:
        from bot.kb.types import MatchQuery

        vendor, model = cmd.vendor, cmd.model
        if cmd.charger and not vendor:  # the maker and model the charger told us at boot
            from bot.store.models import Charger

            with services.transaction() as s:
                row = s.get(Charger, cmd.charger)
                if row is not None:
                    vendor, model = row.vendor, model or row.model
        match = services.matcher.match(MatchQuery(vendor=vendor, model=model, code=cmd.code))
        return Answered([render_code(cmd.code, vendor, match)],
                        context_of(replace(cmd, vendor=vendor)))
    if cmd.kind == "digest":
        from bot.ask.when import window
        from bot.digest.build import build_digest

        today = now.astimezone(tz).date()
        day = cmd.day or (today if cmd.word == "today" else today - timedelta(days=1))
        if cmd.when is not None and cmd.day is None:
            day = window(cmd.when, now, tz).day
        with services.transaction() as s:
            digest = build_digest(s, day, tz, services.sites, now)
        return Answered(render_digest_messages(digest, tz))
    if cmd.kind == "unknown_codes":
        codes = services.runtime.unknown(limit=30)
        can_teach = services.policy.allows(Action.TEACH, user_id)
        return Answered([render_unknown_codes(codes, can_teach=can_teach)])
    return Answered([render_help(name)])


def _why(services: SlackServices, cmd: Command, now: Any) -> Answered:
    from bot.answers.why import why

    with services.transaction() as s:
        result = why(s, cmd.charger or "", cmd.connector, now, sites=services.sites)
        if not result.found:
            return Answered([render_why(result, services.tz)])
        context = context_of(replace(cmd, kind="why"), charger=result.charger, site=result.site)
        if cmd.when is None:
            return Answered([render_why(result, services.tz)], context)
        from bot.ask.happened import charger_window
        from bot.ask.when import window

        tz = _zone(services, result.site)
        w = window(cmd.when, now, tz)
        happened = charger_window(s, result.charger or "", result.site, cmd.connector,
                                  w.start, w.end, cmd.when.word)
    now_text = str(answer_words().why_fallback(result))
    return Answered([render_happened(happened, now_text, tz)], context)


def _site(services: SlackServices, cmd: Command, now: Any) -> Answered:
    from bot.answers.site import site

    with services.transaction() as s:
        result = site(s, cmd.site or "", now, sites=services.sites)
        if not result.found:
            return Answered([render_site(result, services.tz)])
        context = context_of(replace(cmd, kind="site"), site=result.site)
        if cmd.when is None:
            return Answered([render_site(result, services.tz)], context)
        from bot.ask.happened import site_window
        from bot.ask.when import window
        from bot.store.queries import all_charger_ids

        tz = _zone(services, result.site)
        w = window(cmd.when, now, tz)
        members = services.sites.chargers_in(result.site, all_charger_ids(s))
        happened = site_window(s, result.site or "", members, w.start, w.end, cmd.when.word)
    now_text = str(answer_words().site_fallback(result))
    return Answered([render_happened(happened, now_text, tz)], context)
