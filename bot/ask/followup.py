"""Follow-ups in a thread: "and port 2?", "what about yesterday?", "who should go?".

The context is what the bot last answered in that thread (carried on its own answer
message as metadata), never a memory of the person. A follow-up that names its own
charger, site or code is a new question and keeps its own target.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.ask.model import Command

EVENT_TYPE = "faultbot_answer"
_FOLLOWS = frozenset({"why", "site", "code", "unknown"})


def context_of(
    cmd: Command, *, charger: str | None = None, site: str | None = None
) -> dict[str, Any] | None:
    """What a thread's later questions may refer to, once `cmd` was answered (the
    resolved charger or site id, not what was typed)."""
    values: dict[str, Any] = {"kind": cmd.kind}
    if cmd.kind == "why" and charger:
        values.update(charger=charger, site=site or "")
        if cmd.connector is not None:
            values["connector"] = cmd.connector
    elif cmd.kind == "site" and site:
        values["site"] = site
    elif cmd.kind == "code" and cmd.code:
        values.update(code=cmd.code, vendor=cmd.vendor or "")
    else:
        return None
    return {"event_type": EVENT_TYPE, "event_payload": values}


def context_from(metadata: Any) -> Command | None:
    """The answered question a message's metadata describes; None when not ours."""
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        return None
    data = {k: v for k, v in payload.items() if v not in ("", None)}
    return Command.from_dict(data)


def needs_context(cmd: Command) -> bool:
    """Whether `cmd` could mean something else in a thread (so the thread is worth
    reading): it names no charger, site or code of its own."""
    return not cmd.has_target and cmd.kind in _FOLLOWS and not (
        cmd.kind == "code" and cmd.problem is None
    )


def follow_up(cmd: Command, context: Command | None) -> Command:
    """`cmd` read in the thread's context."""
    if context is None or not needs_context(cmd):
        return cmd
    if context.kind == "code" and context.code:
        return replace(cmd, kind="code", code=context.code, problem=None,
                       vendor=cmd.vendor or context.vendor)
    connector = cmd.connector if cmd.connector is not None else context.connector
    if context.charger:
        return replace(cmd, kind="why", charger=context.charger, connector=connector,
                       problem=None, suggestion=None)
    if context.site:
        if cmd.connector is not None:  # "and port 2?" after a site answer: which charger?
            return cmd
        return replace(cmd, kind="site", site=context.site, problem=None, suggestion=None)
    return cmd
