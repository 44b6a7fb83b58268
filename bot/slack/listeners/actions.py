"""Buttons: Acknowledge / Resolve / Snooze / Why? on alert roots, Teach on code lists.

Each click is acked first; the incident change and the outbox rows it causes are
written in one transaction (double clicks are harmless state transitions)."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.outbox import enqueue
from bot.slack.render.answers import TEACH, render_notice, render_site, render_why
from bot.slack.render.incident import ACK, RESOLVE, SNOOZE, WHY
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
    raw = action.get("value") or (action.get("selected_option") or {}).get("value") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _incident_id(action: dict[str, Any]) -> int | None:
    value = _payload(action).get("incident")
    return value if isinstance(value, int) and value > 0 else None


def register(app: App, services: SlackServices) -> None:
    from bot.incidents import manager

    def change_incident(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, apply: Any
    ) -> None:
        incident_id = _incident_id(action)
        user = str((body.get("user") or {}).get("id") or "")
        if incident_id is None or not user:
            return
        try:
            with services.transaction() as s:
                change = apply(s, incident_id, user)
                if change is not None:
                    services.publisher.on_changes(s, [change])
        except manager.IncidentNotFound:
            msg = render_notice("not_found_incident", incident_id)
            respond(
                text=msg.text, blocks=msg.blocks, response_type="ephemeral", replace_original=False
            )
            return
        services.deliver()

    @app.action(ACK)
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        change_incident(
            body,
            action,
            respond,
            lambda s, i, u: manager.acknowledge(s, i, u, services.clock()),
        )

    @app.action(RESOLVE)
    def on_resolve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        change_incident(
            body, action, respond, lambda s, i, u: manager.resolve(s, i, u, services.clock())
        )

    @app.action(SNOOZE)
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        now = services.clock()
        until = snooze_until(str(_payload(action).get("choice", "")), now, services.tz)
        if until is None:
            return
        change_incident(body, action, respond, lambda s, i, u: manager.snooze(s, i, until, now))

    @app.action(WHY)
    def on_why(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        incident_id = _incident_id(action)
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        root_ts = (body.get("message") or {}).get("thread_ts") or (body.get("container") or {}).get(
            "message_ts"
        )
        if incident_id is None or not channel:
            return
        message = explain_incident(services, incident_id)
        with services.transaction() as s:
            enqueue(
                s,
                channel=str(channel),
                message=message,
                extra={"thread_ts": root_ts} if root_ts else None,
                now=services.clock(),
            )
        services.deliver()

    @app.action(re.compile(rf"^{TEACH}:\d+$"))
    def on_teach(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        if not services.is_admin(user):
            msg = render_notice("not_admin", user)
            respond(
                text=msg.text, blocks=msg.blocks, response_type="ephemeral", replace_original=False
            )
            return
        data = _payload(action)
        channel = (body.get("channel") or {}).get("id")
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
                return render_notice("not_found_incident", incident_id)
            now = services.clock()
            if incident.charger:
                answer = why(s, incident.charger, incident.connector, now, sites=services.sites)
                return render_why(answer, services.tz)
            return render_site(site(s, incident.site, now, sites=services.sites), services.tz)
    except Exception:
        log.exception("explaining incident %s failed", incident_id)
        return render_notice("failed")
