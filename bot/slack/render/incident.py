"""Alert-thread messages: the root (edited in place) and the thread replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.incidents.models import Incident
from bot.incidents.view import IncidentView, evidence_of, open_seconds
from bot.slack.escape import Mrkdwn, render_blocks
from bot.slack.render.budget import (
    SlackMessage,
    actions,
    button,
    context,
    header,
    plain,
    section,
)
from bot.slack.render.times import slack_date

# action_ids the interactivity listeners route on.
ACK, RESOLVE, SNOOZE, WHY = "incident_ack", "incident_resolve", "incident_snooze", "incident_why"
REOPEN = "incident_reopen"
SNOOZE_CHOICES = ("1h", "4h", "tomorrow")


@dataclass(slots=True, kw_only=True)
class AlertView(IncidentView):
    """What alert templates may read about an incident, times already formatted."""

    resolved_by: str | None
    opened_when: Mrkdwn
    acked_when: Mrkdwn
    resolved_when: Mrkdwn
    snoozed_when: Mrkdwn
    duration_s: float
    evidence: list[str]
    rule: str
    suppressed: bool

    @property
    def id(self) -> int:
        return self.incident_id


def view_of(incident: Incident, tz: ZoneInfo, now: datetime | None = None) -> AlertView:
    return AlertView.from_incident(
        incident,
        resolved_by=incident.resolved_by,
        opened_when=slack_date(incident.opened_at, tz),
        acked_when=slack_date(incident.acked_at, tz),
        resolved_when=slack_date(incident.resolved_at, tz),
        snoozed_when=slack_date(incident.snoozed_until, tz),
        duration_s=open_seconds(
            incident.opened_at, incident.resolved_at, now or incident.updated_at
        ),
        evidence=evidence_of(incident),
        rule=incident.rule,
        suppressed=bool(incident.suppressed),
    )


def incident_state(incident: Incident, now: datetime) -> str:
    if incident.resolved_at is not None:
        return "resolved"
    if incident.snoozed_until is not None and incident.snoozed_until > now:
        return "snoozed"
    if incident.acked_by:
        return "acknowledged"
    return "open"


def button_value(incident_id: int, extra: str = "") -> str:
    # Carry the id only; the handler reads the rest from the database.
    return json.dumps({"incident": incident_id, **({"choice": extra} if extra else {})})


def render_alert_root(
    incident: Incident,
    tz: ZoneInfo,
    now: datetime,
    *,
    flaps: int = 0,
    page: Mrkdwn | None = None,
    snoozed_by: str | None = None,
) -> SlackMessage:
    """`page`: who the paging policy mentions (markup built from checked ids only);
    `snoozed_by`: who chose the snooze (kept by the Slack side, bot.slack.escalations)."""
    state = incident_state(incident, now)
    parts = render_blocks(
        "alert_root.j2",
        i=view_of(incident, tz, now),
        state=state,
        flaps=flaps,
        tz_name=str(tz),
        page=page or Mrkdwn(""),
        snoozed_by=snoozed_by,
    )
    blocks: list[dict[str, Any]] = [
        header(parts["header"]),
        section(parts["body"], fields=[parts["f_severity"], parts["f_confidence"]]),
        section(parts["status"]),
        context(parts["context"]),
    ]
    if state != "resolved":
        snooze = {
            "type": "static_select",
            "action_id": SNOOZE,
            "placeholder": plain(parts["snooze_placeholder"]),
            "options": [
                {"text": plain(parts[f"snooze_{c}"]), "value": button_value(incident.id, c)}
                for c in SNOOZE_CHOICES
            ],
        }
        buttons = [
            button(parts["btn_resolve"], RESOLVE, button_value(incident.id)),
            button(parts["btn_why"], WHY, button_value(incident.id)),
        ]
        if not incident.acked_by:
            ack = button(parts["btn_ack"], ACK, button_value(incident.id), style="primary")
            buttons.insert(0, ack)
        blocks.append(actions(*buttons, snooze, block_id=f"incident:{incident.id}"))
    else:
        blocks.append(
            actions(
                button(parts["btn_why"], WHY, button_value(incident.id)),
                button(parts["btn_reopen"], REOPEN, button_value(incident.id)),
                block_id=f"incident:{incident.id}",
            )
        )
    return SlackMessage(parts["fallback"], blocks)


def render_alert_reply(
    kind: str,
    incident: Incident,
    tz: ZoneInfo,
    now: datetime,
    *,
    detail: str = "",
    who: str | None = None,
) -> SlackMessage:
    parts = render_blocks(
        "alert_reply.j2", kind=kind, i=view_of(incident, tz, now), detail=detail, who=who
    )
    text = parts["text"]
    return SlackMessage(text, [section(text)])
