"""Command and mention parsing, table-driven; plus the manifest's promises.

Parsed against the sample fleet's names (CP-001…CP-036, Depot North, …) like the bot
does; ids the fleet does not have (CP-12, ACME_0042) stay as typed so the answer can
say "no such charger, did you mean"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.ask.index import NameIndex, build_index
from bot.kb.loader import default_knowledge
from bot.sample.generate import sites_yaml
from bot.sample.network import CHARGERS
from bot.slack.commands_parse import MAX_INPUT, parse_command, parse_mention
from bot.store.sites import SiteMap


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> NameIndex:
    path = tmp_path_factory.mktemp("sites") / "sites.yaml"
    path.write_text(sites_yaml(), encoding="utf-8")
    return build_index([c.id for c in CHARGERS], SiteMap.load(path), default_knowledge())

MENTIONS = [
    ("<@UBOT> why is charger CP-12 faulted?", ("why", "CP-012", None)),
    ("<@UBOT> why CP-99", ("why", "CP-99", None)),
    ("why is CP-12/2 down", ("why", "CP-012", 2)),
    ("why is CP-99/2 down", ("why", "CP-99", 2)),
    ("<@UBOT> status of CP-7 port 2", ("why", "CP-007", 2)),
    ("What is wrong with charger CP-12 connector 2?", ("why", "CP-012", 2)),
    ("what's up with ACME_0042?", ("why", "ACME_0042", None)),
    ("explain cp12", ("why", "CP-012", None)),
    ("explain cp99", ("why", "cp99", None)),
    ("CP-12", ("why", "CP-012", None)),
    ("what's wrong at Depot North?", ("site", "Depot North")),
    ("whats wrong at depot north", ("site", "Depot North")),
    ("<@UBOT> how is Airport Fast Hub?", ("site", "Airport Fast Hub")),
    ("how are things at the Airport Fast Hub doing", ("site", "Airport Fast Hub")),
    ("how's Depot North doing?", ("site", "Depot North")),
    ("what does F400 mean on Acme?", ("code", "F400", "Acme")),
    ("what does error 0x1F mean for ABB?", ("code", "0x1F", "ABB")),
    ("what does F400 mean?", ("code", "F400", None)),
    ("what is code 210 mean on an Alfen Eve", ("code", "210", "Alfen")),
    ("site Depot North", ("site", "Depot North")),
    ("code F400 Acme", ("code", "F400", "Acme")),
    ("hello", ("help",)),
    ("", ("help",)),
    ("<@UBOT>", ("help",)),
    ("tell me a joke", ("unknown",)),
    ("<!channel> why <https://evil|x>", ("why", None, None)),
    ("CP-012 at depot north", ("clarify",)),
]


@pytest.mark.parametrize(("text", "expected"), MENTIONS)
def test_mentions(text: str, expected: tuple, index: NameIndex) -> None:
    cmd = parse_mention(text, index)
    assert cmd.kind == expected[0], cmd
    if cmd.kind == "why":
        assert (cmd.charger, cmd.connector) == expected[1:]
    elif cmd.kind == "site":
        assert cmd.site == expected[1]
    elif cmd.kind == "code":
        assert (cmd.code, cmd.vendor) == expected[1:]


COMMANDS = [
    ("why CP-12", "why", {"charger": "CP-012"}),
    ("why CP-12 2", "why", {"charger": "CP-012", "connector": 2}),
    ("why CP-99 2", "why", {"charger": "CP-99", "connector": 2}),
    ("why CP-12 port 3", "why", {"charger": "CP-012", "connector": 3}),
    ("why cp30 last night", "why", {"charger": "CP-030", "connector": None}),
    ("site depot nroth", "site", {"site": "Depot North"}),
    ("site Nowhere Park", "site", {"site": "Nowhere Park"}),
    ("is depot north ok?", "site", {"site": "Depot North"}),
    ("what does 0x0002 mean on abb", "code", {"code": "0x0002", "vendor": "ABB"}),
    ("anything wrong at lakeside last night", "site", {"site": "Lakeside Hotel"}),
    ("digest for yesterday", "digest", {"problem": None}),
    ("why", "why", {"problem": "no_charger"}),
    ("site Depot North", "site", {"site": "Depot North"}),
    ("site", "site", {"problem": "no_site"}),
    ("code F400 Acme", "code", {"code": "F400", "vendor": "Acme"}),
    ("code F400 on ABB Terra", "code", {"code": "F400", "vendor": "ABB Terra"}),
    ("code", "code", {"problem": "no_code"}),
    ("digest", "digest", {"day": None, "word": None}),
    ("digest today", "digest", {"word": "today"}),
    ("digest 2026-11-20", "digest", {"day": date(2026, 11, 20)}),
    ("digest 2026-02-30", "digest", {"problem": "bad_date"}),
    ("digest soon", "digest", {"problem": "bad_date", "word": "soon"}),
    ("unknown", "unknown_codes", {}),
    ("teach", "teach", {"code": None, "vendor": None}),
    ("teach Acme F400", "teach", {"code": "F400", "vendor": "Acme"}),
    # Escaped text is kept as the code, not dropped as a mention (Slack sends <!here>
    # for @here, and &lt;…&gt; for typed brackets).
    ("teach Alfen <!here>", "teach", {"code": "<!here>", "vendor": "Alfen"}),
    ("teach Alfen &lt;E1&gt;", "teach", {"code": "<E1>", "vendor": "Alfen"}),
    ("teach ABB Terra <@U123>", "teach", {"code": "<@U123>", "vendor": "ABB Terra"}),
    ("help", "help", {}),
    ("", "help", {}),
    ("wyh CP-12", "why", {"charger": "CP-012"}),
    ("wyh please", "unknown", {"suggestion": "why"}),
    ("hlep", "unknown", {"suggestion": "help"}),
    ("sitte Depot", "site", {"site": "Depot North"}),
    ("sitte plugh", "unknown", {"suggestion": "site"}),
    ("xyzzy plugh frobozz", "unknown", {"suggestion": None}),
    ("CP-12", "why", {"charger": "CP-012"}),
    ("WHY cp-12", "why", {"charger": "CP-012"}),
    ("WHY cp-99", "why", {"charger": "cp-99"}),
]


@pytest.mark.parametrize(("text", "kind", "fields"), COMMANDS)
def test_commands(text: str, kind: str, fields: dict, index: NameIndex) -> None:
    cmd = parse_command(text, index)
    assert cmd.kind == kind, cmd
    for name, value in fields.items():
        assert getattr(cmd, name) == value, (name, cmd)


def test_hostile_and_huge_input_is_bounded(index: NameIndex) -> None:
    cmd = parse_command("why " + "A1" * 50_000, index)
    assert len(cmd.raw) <= MAX_INPUT and cmd.charger is None
    assert parse_mention("\x00\u202e why CP-1 \ufeff", index).charger == "CP-001"
    assert parse_mention("\x00\u202e why CP-1 \ufeff").charger == "CP-1"  # no fleet known
    assert parse_command("site <!channel> &amp; <@U123>", index).site == "&"


def test_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "slack-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "app_mentions:read",
        "im:history",
        "channels:read",
        "groups:read",  # conversations.members of a private alert channel (permissions)
        "channels:history",  # lost-reply lookups; a follow-up's thread
        "groups:history",
        "chat:write.public",
    } <= scopes
    assert manifest["features"]["slash_commands"][0]["command"] == "/faultbot"
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "app_home_opened",
    }
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
