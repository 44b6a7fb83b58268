"""Buttons: Acknowledge / Resolve / Snooze / Why? / Reopen on alert roots, Teach on code lists,
and the "did you mean" choices of a question that could be read two ways.

Each click is acked first, then checked by the permission policy (bot/slack/permissions:
the alert's own channel and message, and the person's role); the incident change and
the outbox rows it causes are written in one transaction with that check (double clicks
are harmless state transitions). Refusals are ephemeral, to the clicker only."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.slack.answering import answer_question
from bot.slack.listeners.mentions import post_answers
from bot.slack.listeners.payload import as_dict, json_object, user_id
from bot.slack.outbox import enqueue
from bot.slack.permissions import Action, Refusal
from bot.slack.render.answers import TEACH, render_notice, render_site, render_why
from bot.slack.render.ask import PICK
from bot.slack.render.incident import ACK, REOPEN, RESOLVE, SNOOZE, WHY
from bot.slack.services import SlackServices
from bot.slack.teach import teach_modal

log = logging.getLogger(__name__)


def snooze_until(choice: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """1 h, 4 h, or tomorrow 08:00 local (wall clock, so DST-correct)."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    if choice == "tomorrow":
        local = now.astimezone(tz).date() + timedelta(days=1)
        return datetime.combine(local, time(8, 0), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    return None


def _payload(action: dict[str, Any]) -> dict[str, Any]:
    """The JSON a button or option carries; {} for anything else (forged or broken)."""
    return json_object(action.get("value") or as_dict(action.get("selected_option")).get("value"))


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, message ts) the click came from, as Slack reports them."""
    container = as_dict(body.get("container"))
    channel = as_dict(body.get("channel")).get("id") or container.get("channel_id")
    ts = container.get("message_ts") or as_dict(body.get("message")).get("ts")
    return (
        channel if isinstance(channel, str) else None,
        ts if isinstance(ts, str) else None,
    )


def _tell(respond: Respond, message: Any) -> None:
    """An ephemeral answer to the person who clicked (only they see it)."""
    try:
        respond(
            text=message.text, blocks=message.blocks, response_type="ephemeral",
            replace_original=False,
        )
    except Exception as exc:  # a missing or dead response_url: nobody to tell
        log.warning("could not answer a button click: %s", exc)


def _refusal_notice(refusal: Refusal, user: str, action: Action) -> Any:
    if refusal is Refusal.NOT_ALLOWED:
        return render_notice("not_allowed", user, action.value)
    if refusal is Refusal.WRONG_PLACE:
        return render_notice("wrong_place")
    return render_notice("not_found_incident")


def register(app: App, services: SlackServices) -> None:
    from bot.incidents import manager
    from bot.incidents.reopen import SlotTaken, reopen
    from bot.slack.escalations import note_snoozer

    policy = services.policy

    def on_incident(
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        kind: Action,
        apply: Callable[[Session, int, str], Any],
    ) -> None:
        """Check the click against the policy, then change the incident, in one
        transaction (the outbox rows it causes are written with it)."""
        user = user_id(body)
        channel, message_ts = _where(body)
        raw_id = _payload(action).get("incident")
        try:
            with services.transaction() as s:
                incident_id, _, refusal = policy.check_incident(
                    s, kind, raw_id, user, channel, message_ts
                )
                if refusal is None and incident_id is not None:
                    change = apply(s, incident_id, user)
                    if change is not None:
                        services.publisher.on_changes(s, [change])
        except manager.IncidentNotFound:
            refusal = Refusal.NOT_FOUND
        except SlotTaken:  # reopen: a newer incident is open on the same port
            _tell(respond, render_notice("slot_taken"))
            return
        if refusal is not None:
            log.info("refused %s by %r on incident %.40r: %s", kind, user, raw_id, refusal)
            _tell(respond, _refusal_notice(refusal, user, kind))
            return
        services.deliver()

    @app.action(ACK)
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        on_incident(
            body,
            action,
            respond,
            Action.ACK,
            lambda s, i, u: manager.acknowledge(s, i, u, services.clock()),
        )

    @app.action(RESOLVE)
    def on_resolve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        on_incident(
            body,
            action,
            respond,
            Action.RESOLVE,
            lambda s, i, u: manager.resolve(s, i, u, services.clock()),
        )

    @app.action(SNOOZE)
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        now = services.clock()
        until = snooze_until(str(_payload(action).get("choice", "")), now, services.tz)
        if until is None:
            _tell(respond, render_notice("not_found_incident"))
            return

        def snooze(s: Session, incident_id: int, user: str) -> Any:
            note_snoozer(s, incident_id, user)  # the root says who snoozed it
            return manager.snooze(s, incident_id, until, now)

        on_incident(body, action, respond, Action.SNOOZE, snooze)

    @app.action(REOPEN)
    def on_reopen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        on_incident(
            body,
            action,
            respond,
            Action.REOPEN,
            lambda s, i, u: reopen(s, i, u, services.clock()),
        )

    @app.action(WHY)
    def on_why(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user = user_id(body)
        channel, message_ts = _where(body)
        raw_id = _payload(action).get("incident")
        with services.transaction() as s:
            incident_id, home, refusal = policy.check_incident(
                s, Action.WHY, raw_id, user, channel, message_ts
            )
        if refusal is not None or incident_id is None or home is None:
            log.info("refused why by %r on incident %.40r: %s", user, raw_id, refusal)
            _tell(respond, _refusal_notice(refusal or Refusal.NOT_FOUND, user, Action.WHY))
            return
        message = explain_incident(services, incident_id)
        # The answer goes to the alert's own thread, never to a channel the request names.
        with services.transaction() as s:
            enqueue(
                s,
                channel=home.channel,
                message=message,
                extra={"thread_ts": home.ts},
                now=services.clock(),
            )
        services.deliver()

    @app.action(re.compile(rf"^{PICK}:\d+$"))
    def on_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """One reading chosen: answer it where the question was asked (the same thread,
        or only to the person when the question was a slash command)."""
        ack()
        from bot.ask.model import Command

        cmd = Command.from_dict(_payload(action))
        if cmd is None or cmd.kind not in ("why", "site"):
            _tell(respond, render_notice("failed"))
            return
        answered = answer_question(services, cmd, user_id(body))
        channel, message_ts = _where(body)
        container = as_dict(body.get("container"))
        if container.get("is_ephemeral") or not channel or not message_ts:
            for message in answered.messages[:5]:
                _tell(respond, message)
            return
        thread = as_dict(body.get("message")).get("thread_ts") or message_ts
        post_answers(services, channel, thread, answered.messages, answered.context,
                     key=f"pick:{channel}:{message_ts}:{str(action.get('action_id'))[:40]}")

    @app.action(re.compile(rf"^{TEACH}:\d+$"))
    def on_teach(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        user = user_id(body)
        if not policy.allows(Action.TEACH, user):
            _tell(respond, render_notice("not_admin", user))
            return
        data = _payload(action)
        channel, _ = _where(body)
        view = teach_modal(str(data.get("vendor") or ""), str(data.get("code") or ""), channel)
        client.views_open(trigger_id=body.get("trigger_id"), view=view)


def explain_incident(services: SlackServices, incident_id: int) -> Any:
    """The full "why" for an incident's charger (or site), for its thread."""
    from bot.answers.site import site
    from bot.answers.why import why
    from bot.incidents.models import Incident

    try:
        with services.transaction() as s:
            incident = s.get(Incident, incident_id)
            if incident is None:
                return render_notice("not_found_incident")
            now = services.clock()
            if incident.charger:
                answer = why(s, incident.charger, incident.connector, now, sites=services.sites)
                return render_why(answer, services.tz)
            return render_site(site(s, incident.site, now, sites=services.sites), services.tz)
    except Exception:
        log.exception("explaining incident %s failed", incident_id)
        return render_notice("failed")
