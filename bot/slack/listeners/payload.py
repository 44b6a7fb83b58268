"""Reading the parts of a Slack request body a listener needs, without trusting them:
anything missing, forged or of the wrong type reads as empty."""

from __future__ import annotations

import json
from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def json_object(raw: object) -> dict[str, Any]:
    """The JSON object a button value or private_metadata carries; {} for anything else."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def user_id(body: dict[str, Any]) -> str:
    user = as_dict(body.get("user")).get("id")
    return user if isinstance(user, str) else ""
