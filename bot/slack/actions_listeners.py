"""Remote-action buttons and their confirmation modal.

Checked on the server for every request, whatever the client shows: the incident has an
alert, the person may act (Action.REMOTE: FAULTBOT_OPERATORS and admins by default),
the incident's diagnosis calls for that action, and (for the button) the click comes
from the alert's channel. The action runs after the modal is submitted, once per modal
(its view id is the request key), and its result goes to the alert's own thread."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.actions.kinds import Kind, kind_of
from bot.actions.perform import offered_for, request_action
from bot.incidents.models import Incident
from bot.slack.actions_render import (
    ACTION_PREFIX,
    CONFIRM,
    confirm_modal,
    render_not_offered,
    render_unavailable,
)
from bot.slack.actions_thread import post_result
from bot.slack.listeners.payload import as_dict, json_object, user_id
from bot.slack.outbox import enqueue
from bot.slack.permissions import Action, AlertHome, alert_home, incident_id_of
from bot.slack.render.answers import render_notice
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)


def check(
    services: SlackServices, raw_id: object, raw_kind: object, user: str
) -> tuple[Incident | None, AlertHome | None, Kind | None, Any]:
    """(incident, home, kind, None) when the person may do it, else a notice to show."""
    incident_id = incident_id_of(raw_id)
    kind = kind_of(raw_kind)
    with services.transaction() as s:
        home = alert_home(s, incident_id) if incident_id is not None else None
        incident = s.get(Incident, incident_id) if home is not None else None
        if incident is None or home is None or kind is None:
            return None, None, None, render_notice("not_found_incident")
        if not services.policy.allows(Action.REMOTE, user, home.channel):
            return None, home, None, render_notice("not_allowed", user, Action.REMOTE.value)
        if kind not in offered_for(incident):
            return None, home, None, render_not_offered()
    return incident, home, kind, None


def register(app: App, services: SlackServices) -> None:
    @app.action(re.compile(rf"^{ACTION_PREFIX}:\w+$"))
    def on_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
        client: WebClient,
    ) -> None:
        ack()
        user = user_id(body)
        data = json_object(action.get("value"))
        incident, home, kind, notice = check(services, data.get("incident"), data.get("kind"),
                                             user)
        channel = as_dict(body.get("channel")).get("id") or as_dict(body.get("container")).get(
            "channel_id")
        if notice is None and home is not None and channel != home.channel:
            notice = render_notice("wrong_place")
        if notice is None and incident is not None:
            _, unavailable = services.remote.pick(incident.charger or "")
            if unavailable is not None:
                notice = render_unavailable(unavailable)
        if notice is not None or incident is None or kind is None:
            log.info("remote action %r by %r refused", data.get("kind"), user)
            _tell(respond, notice)
            return
        view = confirm_modal(incident.id, kind.value, incident.charger or "",
                             incident.connector or 0)
        client.views_open(trigger_id=body.get("trigger_id"), view=view)

    @app.view(CONFIRM)
    def on_confirm(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        user = user_id(body)
        meta = json_object(view.get("private_metadata"))
        incident, home, kind, notice = check(services, meta.get("incident"), meta.get("kind"),
                                             user)
        if notice is not None or incident is None or kind is None or home is None:
            log.info("remote action submission %r by %r refused", meta.get("kind"), user)
            if home is not None:  # a forged submission: tell only its sender
                with services.transaction() as s:
                    enqueue(s, channel=home.channel, method="chat.postEphemeral",
                            message=notice, extra={"user": user, "thread_ts": home.ts},
                            now=services.clock())
                services.deliver()
            return
        key = f"slack:{view.get('id') or body.get('trigger_id')}"
        row = request_action(services.engine, incident.id, kind, user, services.remote,
                             services.clock(), key, clock=services.clock)
        if row is None:
            return
        with services.transaction() as s:
            post_result(s, row, services.settings, services.clock())
        services.deliver()


def _tell(respond: Respond, message: Any) -> None:
    try:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral",
                replace_original=False)
    except Exception as exc:
        log.warning("could not answer a remote-action click: %s", exc)
