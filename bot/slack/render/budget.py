"""Block Kit limits, checked in code (slack_sdk only checks them for its model classes).

Builders here never produce an over-long element: they cut text at a line boundary
and say so. `check()` lists every violation of a finished message, and `fit()` is the
last line of defence the outbox applies before anything is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 2800  # Slack's hard limit is 3000; keep headroom like OnCall does
HEADER_TEXT = 150
FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT = 10
MAX_ACTIONS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
OPTION_VALUE = 150
FALLBACK_TEXT = 3000  # top-level text: notifications and screen readers use it
CUT = "…"


@dataclass(slots=True)
class SlackMessage:
    """What a renderer returns: a mandatory text fallback plus blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def clip(text: str, limit: int) -> str:
    """Cut to `limit` chars, preferably at a line break, ending with an ellipsis.

    Never cuts inside an entity like &amp; (that would show a broken "&am").
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(CUT)]
    nl = cut.rfind("\n")
    if nl > limit // 2:
        cut = cut[:nl]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + CUT


def mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    # verbatim: Slack must not auto-link names/URLs found in vendor text.
    return {"type": "mrkdwn", "text": text or " ", "verbatim": verbatim}


def plain(text: str, limit: int | None = None) -> dict[str, Any]:
    # plain_text is never parsed for markup, so undo the mrkdwn entities templates made.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip() or "-"
    return {"type": "plain_text", "text": clip(text, limit) if limit else text, "emoji": True}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def section(text: str, *, fields: list[str] | None = None, accessory: Any = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(clip(text, SECTION_TEXT))}
    if fields:
        block["fields"] = [mrkdwn(clip(f, FIELD_TEXT)) for f in fields[:MAX_FIELDS] if f]
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> dict[str, Any]:
    items = [t for t in texts if t][:MAX_CONTEXT] or ["-"]
    return {"type": "context", "elements": [mrkdwn(clip(t, SECTION_TEXT)) for t in items]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(
    label: str, action_id: str, value: str, *, style: str | None = None, url: str | None = None
) -> dict[str, Any]:
    if len(value) > BUTTON_VALUE:
        raise ValueError("button value over 2000 chars: carry an id, not the data")
    el: dict[str, Any] = {
        "type": "button",
        "text": plain(label, BUTTON_TEXT),
        "action_id": action_id[:ACTION_ID],
        "value": value,
    }
    if style in ("primary", "danger"):
        el["style"] = style
    if url:
        el["url"] = url
    return el


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements[:MAX_ACTIONS])}
    if block_id:
        block["block_id"] = block_id
    return block


def pack_sections(lines: list[str], limit: int = SECTION_TEXT) -> list[str]:
    """Greedily pack lines into section-sized chunks (one over-long line is clipped)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = clip(line, limit)
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _text_of(obj: Any) -> str | None:
    return obj.get("text") if isinstance(obj, dict) else None


def check(message: SlackMessage | dict[str, Any], *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Every Block Kit limit this message breaks (empty list = fine)."""
    if isinstance(message, SlackMessage):
        text, blocks = message.text, message.blocks
    else:
        text, blocks = message.get("text", ""), message.get("blocks", [])
    problems: list[str] = []
    if not text or not text.strip():
        problems.append("no top-level text fallback")
    elif len(text) > FALLBACK_TEXT:
        problems.append(f"fallback text {len(text)} > {FALLBACK_TEXT}")
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type')})"
        kind = block.get("type")
        if kind == "header":
            t = _text_of(block.get("text")) or ""
            if not t.strip() or len(t) > HEADER_TEXT:
                problems.append(f"{where}: header text length {len(t)}")
        elif kind == "section":
            section = _text_of(block.get("text"))
            if section is not None and (not section.strip() or len(section) > 3000):
                problems.append(f"{where}: section text length {len(section)}")
            if section is not None and len(section) > SECTION_TEXT:
                problems.append(
                    f"{where}: section text over budget {len(section)} > {SECTION_TEXT}"
                )
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: {len(fields)} fields")
            for f in fields:
                ft = _text_of(f) or ""
                if not ft.strip() or len(ft) > FIELD_TEXT:
                    problems.append(f"{where}: field length {len(ft)}")
            if section is None and not fields:
                problems.append(f"{where}: section without text or fields")
        elif kind == "context":
            els = block.get("elements") or []
            if not els or len(els) > MAX_CONTEXT:
                problems.append(f"{where}: {len(els)} context elements")
            for el in els:
                et = _text_of(el)
                if et is not None and (not et.strip() or len(et) > 3000):
                    problems.append(f"{where}: context text length {len(et)}")
        elif kind == "actions":
            els = block.get("elements") or []
            if not els or len(els) > MAX_ACTIONS:
                problems.append(f"{where}: {len(els)} action elements")
            for el in els:
                problems.extend(_check_element(where, el))
        if kind == "section" and isinstance(block.get("accessory"), dict):
            problems.extend(_check_element(where, block["accessory"]))
    return problems


def _check_element(where: str, el: dict[str, Any]) -> list[str]:
    problems = []
    label = _text_of(el.get("text")) or ""
    if el.get("type") == "button":
        if not label.strip() or len(label) > BUTTON_TEXT:
            problems.append(f"{where}: button text length {len(label)}")
        if len(el.get("value", "")) > BUTTON_VALUE:
            problems.append(f"{where}: button value over {BUTTON_VALUE}")
    if len(el.get("action_id", "")) > ACTION_ID:
        problems.append(f"{where}: action_id too long")
    for opt in el.get("options") or []:
        if len(opt.get("value", "")) > OPTION_VALUE:
            problems.append(f"{where}: option value over {OPTION_VALUE}")
    return problems


def fit(message: SlackMessage) -> SlackMessage:
    """Force a message inside the limits (renderers should already have done so)."""
    problems = check(message)
    if not problems:
        return message
    log.warning("message over Block Kit budget, trimming: %s", "; ".join(problems[:5]))
    text = clip(message.text.strip() or "faultbot", FALLBACK_TEXT)
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        b = dict(block)
        if b.get("type") == "section" and isinstance(b.get("text"), dict):
            b["text"] = {**b["text"], "text": clip(b["text"]["text"], SECTION_TEXT) or " "}
        if b.get("type") == "section" and b.get("fields"):
            b["fields"] = b["fields"][:MAX_FIELDS]
        if b.get("type") == "context":
            b["elements"] = b.get("elements", [])[:MAX_CONTEXT]
        if b.get("type") == "header":
            b["text"] = plain(b["text"]["text"], HEADER_TEXT)
        blocks.append(b)
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context(f"{CUT} {len(blocks) - MAX_BLOCKS + 1} more")]
    fixed = SlackMessage(text, blocks)
    if check(fixed):  # still broken (e.g. an empty section): send the fallback text alone
        return SlackMessage(text, [])
    return fixed
