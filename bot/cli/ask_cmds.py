"""`faultbot ask "QUESTION"`: the bot's own answer to a question, in the terminal.

The same reading (bot.ask against the fleet's names) and the same answer as a mention
in Slack (bot.slack.answering), shown as plain text, or as JSON with `--json` (the
reading, the Slack messages and the thread context). Times are relative to the log's
clock, like `faultbot why`."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from bot.cli.answer_cmds import _now, _sites, now_option
from bot.cli.common import EXIT_SOME_REJECTED, database_option, open_store, settings_or_exit

_DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_EMOJI = re.compile(r":[a-z0-9_+\-]+: ?")


def plain(text: str) -> str:
    """Slack mrkdwn -> terminal text: dates as their fallback, links as "label (url)",
    emoji codes dropped, entities undone."""
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _DATE_TOKEN.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BOLD.sub(r"\1", text)
    return _EMOJI.sub("", text)


def _texts(element: Any) -> list[str]:
    if isinstance(element, dict):
        if element.get("type") in ("mrkdwn", "plain_text"):
            return [str(element.get("text", ""))]
        return [t for v in element.values() for t in _texts(v)]
    if isinstance(element, list):
        return [t for v in element for t in _texts(v)]
    return []


def terminal_text(messages: list[Any]) -> str:
    """Blocks in order: header underlined, sections and context as text, buttons in
    brackets, dividers as a rule."""
    out: list[str] = []
    for message in messages:
        if out:
            out.append("")
        if not message.blocks:
            out.append(plain(message.text))
        for block in message.blocks:
            kind = block.get("type")
            if kind == "header":
                title = plain(_texts(block.get("text"))[0])
                out += [title, "=" * len(title)]
            elif kind == "divider":
                out.append("-" * 40)
            elif kind == "actions":
                elements = block.get("elements", [])
                labels = [plain(t) for e in elements for t in _texts(e.get("text"))]
                out.append("  ".join(f"[{label}]" for label in labels))
            else:
                out.extend(plain(t) for t in _texts(block))
    return "\n".join(out).rstrip() + "\n"


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the reading and the answer as JSON.")
@now_option
@database_option
def ask(question: tuple[str, ...], as_json: bool, now_text: str | None,
        database_url: str | None) -> None:
    """Ask faultbot a question the way you would in Slack, e.g. "is depot north ok?" or
    "what happened to CP-030 last night?". Exit status 1 when it was not understood."""
    from bot.slack.answering import answer_question, read_question
    from bot.slack.services import SlackServices
    from bot.store.db import make_sessionmaker

    settings = settings_or_exit(database_url)
    engine = open_store(settings)
    with make_sessionmaker(engine)() as session:
        now = _now(now_text, session)
    services = SlackServices(engine, settings, None, clock=lambda: now, sites=_sites(settings))
    cmd = read_question(services, " ".join(question))
    answered = answer_question(services, cmd, None)
    engine.dispose()
    if as_json:
        click.echo(json.dumps({
            "question": cmd.to_dict(),
            "now": now.isoformat(),
            "messages": [{"text": m.text, "blocks": m.blocks} for m in answered.messages],
            "context": answered.context["event_payload"] if answered.context else None,
        }, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(terminal_text(answered.messages), nl=False)
    if cmd.kind == "unknown":
        raise SystemExit(EXIT_SOME_REJECTED)


commands: list[click.Command] = [ask]
