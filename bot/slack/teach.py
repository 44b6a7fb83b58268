"""Teaching unknown vendor codes from Slack: the modal, its validation, and the
hand-off to RuntimeEntries.teach (stored, attributed, used by the matcher at once)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.slack.escape import environment
from bot.slack.render.budget import plain
from bot.vocab import Category, Owner, Severity

CALLBACK_ID = "teach_submit"
FIELDS = ("vendor", "code", "model", "meaning", "category", "owner", "severity", "action")
LIMITS = {"vendor": 100, "code": 64, "model": 100, "meaning": 1000, "action": 1000}
OPTIONAL = frozenset({"model"})


@lru_cache(maxsize=1)
def _m() -> Any:
    return environment().get_template("teach.j2").module


@lru_cache(maxsize=1)
def _labels() -> Any:
    return environment().get_template("_labels.j2").module


def _text_input(field: str, initial: str | None, multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": field,
        "multiline": multiline,
        "max_length": LIMITS[field],
    }
    placeholder = str(_m().placeholder(field))
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    if initial:
        element["initial_value"] = initial[: LIMITS[field]]
    return {
        "type": "input",
        "block_id": field,
        "optional": field in OPTIONAL,
        "label": plain(str(_m().label(field)), 2000),
        "element": element,
    }


def _select(field: str, options: list[tuple[str, str]], initial: str | None) -> dict[str, Any]:
    opts = [{"text": plain(label, 75), "value": value} for value, label in options]
    element: dict[str, Any] = {"type": "static_select", "action_id": field, "options": opts}
    chosen = next((o for o in opts if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input",
        "block_id": field,
        "label": plain(str(_m().label(field)), 2000),
        "element": element,
    }


def teach_modal(
    vendor: str | None = None, code: str | None = None, channel: str | None = None
) -> dict[str, Any]:
    """The modal view; `channel` is where the confirmation goes (private_metadata)."""
    L = _labels()
    categories = [(c.value, str(L.category(c.value))) for c in Category if c != Category.UNKNOWN]
    owners = [(o.value, str(L.owner(o.value)).capitalize()) for o in Owner]
    severities = [(s.value, str(L.severity(s.value)).split(" ", 1)[-1]) for s in Severity]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"channel": channel or ""})[:3000],
        "title": plain(str(_m().title()), 24),
        "submit": plain(str(_m().submit()), 24),
        "close": plain(str(_m().close()), 24),
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": str(_m().intro())}]},
            _text_input("vendor", vendor),
            _text_input("code", code),
            _text_input("model", None),
            _text_input("meaning", None, multiline=True),
            _select("category", categories, None),
            _select("owner", owners, None),
            _select("severity", severities, "outage"),
            _text_input("action", None, multiline=True),
        ],
    }


@dataclass(slots=True)
class TeachForm:
    vendor: str
    code: str
    model: str | None
    meaning: str
    category: str
    owner: str
    severity: str
    action: str
    channel: str | None


def read_submission(view: dict[str, Any]) -> tuple[TeachForm | None, dict[str, str]]:
    """(form, {}) or (None, {block_id: error}) — cheap checks only, before ack."""
    state = (view.get("state") or {}).get("values") or {}
    values: dict[str, str] = {}
    for field in FIELDS:
        item = (state.get(field) or {}).get(field) or {}
        if item.get("type") == "static_select" or "selected_option" in item:
            value = ((item.get("selected_option") or {}).get("value")) or ""
        else:
            value = item.get("value") or ""
        values[field] = (
            " ".join(str(value).split())
            if field not in ("meaning", "action")
            else str(value).strip()
        )
    errors: dict[str, str] = {}
    for field in FIELDS:
        if not values[field] and field not in OPTIONAL:
            errors[field] = str(_m().required(field))
        elif field in LIMITS and len(values[field]) > LIMITS[field]:
            errors[field] = str(_m().too_long(field, LIMITS[field]))
    for field, enum in (("category", Category), ("owner", Owner), ("severity", Severity)):
        if values[field] and values[field] not in {e.value for e in enum}:
            errors[field] = str(_m().required(field))
    if errors:
        return None, errors
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    channel = meta.get("channel") if isinstance(meta, dict) else None
    return (
        TeachForm(
            vendor=values["vendor"],
            code=values["code"],
            model=values["model"] or None,
            meaning=values["meaning"],
            category=values["category"],
            owner=values["owner"],
            severity=values["severity"],
            action=values["action"],
            channel=str(channel) if channel else None,
        ),
        {},
    )


def teach(runtime: Any, form: TeachForm, user_id: str) -> Any:
    """Store what the admin taught (raises bot.kb.runtime.TeachError on bad input)."""
    return runtime.teach(
        vendor=form.vendor,
        code=form.code,
        category=form.category,
        owner=form.owner,
        severity=form.severity,
        meaning=form.meaning,
        action=form.action,
        taught_by=user_id,
        model=form.model,
        note="taught in Slack",
    )
