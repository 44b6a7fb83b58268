"""mrkdwn escaping and the Slack Jinja2 environment.

Slack decodes only &amp; &lt; &gt;, so those three are all we escape; HTML autoescape
would turn quotes into &#34; which Slack shows literally. Every value a template prints
goes through `finalize`, so vendor text can never form a mention (`<!channel>`) or a
disguised link (`<https://evil|click>`). Markup we build ourselves (user mentions from
ids we chose, our own links) is wrapped in `Mrkdwn` and passes through untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.templating import template_root

_TABLE = str.maketrans({"<": "&lt;", ">": "&gt;"})
# Idempotent: an entity we already produced is left alone, so text that passes through
# a macro and then a second {{ }} is not shown as "&amp;amp;".
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
_BACKTICKS = re.compile(r"`+")


class Mrkdwn(str):
    """Trusted markup built in code; `finalize` does not escape it."""

    __slots__ = ()


def escape(text: object) -> str:
    """Escape free text for mrkdwn: & < > and nothing else (Slack decodes only those)."""
    if isinstance(text, Mrkdwn):
        return str(text)
    return _BARE_AMP.sub("&amp;", str(text)).translate(_TABLE)


def code_span(text: object) -> Mrkdwn:
    """Vendor text inside `...`: escaped, and backticks collapsed so it cannot break out."""
    inner = _BACKTICKS.sub("'", escape(text)).replace("\n", " ")
    return Mrkdwn(f"`{inner}`") if inner else Mrkdwn("")


def user_mention(user_id: str) -> Mrkdwn:
    """`<@U…>` only for well-formed ids we hold; anything else is shown escaped."""
    if _USER_ID.fullmatch(user_id):
        return Mrkdwn(f"<@{user_id}>")
    return Mrkdwn(escape(user_id))


def channel_mention(channel_id: str) -> Mrkdwn:
    if _CHANNEL_ID.fullmatch(channel_id):
        return Mrkdwn(f"<#{channel_id}>")
    return Mrkdwn(escape(channel_id))


def link(url: str, label: str) -> Mrkdwn:
    """A link we build; the label is escaped and may not contain the `|` separator."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \n"):
        return Mrkdwn(escape(label))
    return Mrkdwn(f"<{url}|{escape(label).replace('|', '¦')}>")


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mrkdwn):
        return value
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, (int, float)):
        return value
    return escape(str(value))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(template_root() / "slack"),
        autoescape=False,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    # A macro's output is already escaped mrkdwn; `finalize` would escape it again.
    env.filters["mrkdwn"] = Mrkdwn
    env.filters["code"] = code_span
    env.filters["user"] = user_mention
    env.filters["channel"] = channel_mention
    return env


def render(template: str, **context: Any) -> str:
    """Render templates/slack/<template> and strip surrounding whitespace."""
    return environment().get_template(template).render(**context).strip()


def render_blocks(template: str, **context: Any) -> dict[str, str]:
    """Render a template of `{% block name %}` sections into {name: text}.

    One template file per message keeps all its words together; the renderer picks
    the named parts (header, body, fallback, ...) it needs.
    """
    tpl = environment().get_template(template)
    ctx = tpl.new_context(context)
    # Run the top level once so its {% import %}s and {% set %}s exist for the blocks.
    for _ in tpl.root_render_func(ctx):
        pass
    return {name: "".join(fn(ctx)).strip() for name, fn in tpl.blocks.items()}


_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,20}")


def usergroup_mention(group_id: str) -> Mrkdwn:
    """`<!subteam^S…>` (pages a Slack user group) only for well-formed ids we hold."""
    if _USERGROUP_ID.fullmatch(group_id):
        return Mrkdwn(f"<!subteam^{group_id}>")
    return Mrkdwn(escape(group_id))
