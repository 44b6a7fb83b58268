"""Remote actions as Block Kit: the offer (buttons), the confirmation modal, the thread
lines (result, first aid, outcome). Words are in templates/slack/actions.j2."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.escape import environment
from bot.slack.render.budget import SlackMessage, actions, button, plain, section
from bot.slack.render.times import slack_date

ACTION_PREFIX = "remote_action"
CONFIRM = "remote_confirm"
DANGER = frozenset({"hard_reset", "unavailable"})


@lru_cache(maxsize=1)
def m() -> Any:
    return environment().get_template("actions.j2").module


def _text(message: str) -> SlackMessage:
    return SlackMessage(message, [section(message)])


def render_offer(
    incident_id: int, charger: str, connector: int, summary: str, kinds: list[str],
    unavailable: str | None,
) -> SlackMessage:
    """The buttons; when no channel reaches the charger, each button says so."""
    M = m()
    text = str(M.offer(charger, connector, summary))
    buttons = [
        button(
            str(M.unavailable_label(k) if unavailable else M.label(k)),
            f"{ACTION_PREFIX}:{k}",
            json.dumps({"incident": incident_id, "kind": k}),
            style="danger" if k in DANGER and not unavailable else None,
        )
        for k in kinds
    ]
    blocks = [section(text), actions(*buttons, block_id=f"remote:{incident_id}")]
    if unavailable:
        blocks.append(section(str(M.offer_unavailable(unavailable))))
    return SlackMessage(text, blocks)


def render_unavailable(reason: str) -> SlackMessage:
    return _text(str(m().offer_unavailable(reason)))


def render_not_offered() -> SlackMessage:
    return _text(str(m().not_offered()))


def confirm_modal(incident_id: int, kind: str, charger: str, connector: int) -> dict[str, Any]:
    M = m()
    return {
        "type": "modal",
        "callback_id": CONFIRM,
        "private_metadata": json.dumps({"incident": incident_id, "kind": kind}),
        "title": plain(str(M.modal_title(kind)), 24),
        "submit": plain(str(M.modal_submit()), 24),
        "close": plain(str(M.modal_cancel()), 24),
        "blocks": [section(str(M.modal_body(kind, charger, connector)))],
    }


def render_result(row: Any, tz: ZoneInfo) -> SlackMessage:
    who = environment().filters["user"](row.requested_by)
    return _text(str(m().result(row, who, slack_date(row.requested_at, tz))))


def render_first_aid(row: Any, rule: str, tz: ZoneInfo, dry_run: bool) -> SlackMessage:
    return _text(str(m().first_aid(row, rule, slack_date(row.requested_at, tz), dry_run)))


def render_outcome(row: Any, tz: ZoneInfo) -> SlackMessage:
    return _text(str(m().outcome(row, slack_date(row.outcome_at, tz))))
