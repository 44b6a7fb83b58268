"""From a parsed command to Slack messages: the hand-off to the domain (answers, KB,
digest) plus rendering. Shared by the slash command and mentions/DMs."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.slack.commands_parse import Command
from bot.slack.permissions import Action
from bot.slack.render.answers import (
    render_code,
    render_did_you_mean,
    render_help,
    render_notice,
    render_problem,
    render_site,
    render_unknown_codes,
    render_why,
)
from bot.slack.render.budget import SlackMessage
from bot.slack.render.digest import render_digest_messages
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


def answer(services: SlackServices, cmd: Command, user_id: str | None) -> list[SlackMessage]:
    """The reply to one command; never raises (a failure becomes a polite message)."""
    try:
        return _answer(services, cmd, user_id)
    except Exception:
        log.exception("answering %r failed", cmd.raw)
        return [render_notice("failed")]


def _answer(services: SlackServices, cmd: Command, user_id: str | None) -> list[SlackMessage]:
    tz, name = services.tz, services.command
    if cmd.problem:
        return [render_problem(cmd.problem, cmd.word, name)]
    if cmd.kind == "help":
        return [render_help(name)]
    if cmd.kind == "unknown":
        return [render_did_you_mean(cmd.raw, cmd.suggestion, name)]
    now = services.clock()
    if cmd.kind == "why" and cmd.charger:
        from bot.answers.why import why

        with services.transaction() as s:
            result = why(s, cmd.charger, cmd.connector, now, sites=services.sites)
        return [render_why(result, tz)]
    if cmd.kind == "site" and cmd.site:
        from bot.answers.site import site

        with services.transaction() as s:
            result = site(s, cmd.site, now, sites=services.sites)
        return [render_site(result, tz)]
    if cmd.kind == "code" and cmd.code:
        from bot.kb.types import MatchQuery

        match = services.matcher.match(MatchQuery(vendor=cmd.vendor, code=cmd.code))
        return [render_code(cmd.code, cmd.vendor, match)]
    if cmd.kind == "digest":
        from bot.digest.build import build_digest

        today = now.astimezone(tz).date()
        day = cmd.day or (today if cmd.word == "today" else today - timedelta(days=1))
        with services.transaction() as s:
            digest = build_digest(s, day, tz, services.sites, now)
        return render_digest_messages(digest, tz)
    if cmd.kind == "unknown_codes":
        codes = services.runtime.unknown(limit=30)
        can_teach = services.policy.allows(Action.TEACH, user_id)
        return [render_unknown_codes(codes, can_teach=can_teach)]
    return [render_help(name)]
