"""`faultbot ask` on the sample feed, on SQLite and PostgreSQL: the reading and the
answer as JSON, the same messages the Slack handlers produce for the same question."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sample_db import sample_db as load_sample_db
from sqlalchemy import Engine

from bot.cli.main import cli


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sample(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Any, datetime, Path]]:
    tmp = tmp_path_factory.mktemp("ask-sample")
    for engine, sites, end in load_sample_db(request, tmp):
        yield engine, sites, end, tmp / "sites.yaml"


def ask(sample: tuple[Engine, Any, datetime, Path], *args: str) -> tuple[int, str]:
    engine, _, _, sites = sample
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "FAULTBOT_SITES": str(sites), "FAULTBOT_TIMEZONE": "UTC"}
    result = CliRunner().invoke(cli, ["ask", *args], env=env)
    return result.exit_code, result.output


def test_ask_json_gives_the_reading_and_the_answer(sample: Any) -> None:
    code, out = ask(sample, "--json", "What happened to CP-005 on 2026-11-20?")
    assert code == 0, out
    data = json.loads(out)
    assert data["question"]["kind"] == "why" and data["question"]["charger"] == "CP-005"
    assert data["question"]["when"]["key"] == "date"
    assert data["context"] == {"kind": "why", "charger": "CP-005", "site": "Depot North"}
    blocks = json.dumps(data["messages"][0]["blocks"], ensure_ascii=False)
    assert "CP-005 · Depot North · 2026-11-20" in blocks
    assert "Emergency stop" in blocks


def test_ask_understands_sites_codes_and_asks_back(sample: Any) -> None:
    data = json.loads(ask(sample, "--json", "is depot nroth ok")[1])
    assert data["question"]["site"] == "Depot North"
    assert data["messages"][0]["text"].startswith("Depot North")
    data = json.loads(ask(sample, "--json", "what is error 0x0002 on abb")[1])
    assert (data["question"]["code"], data["question"]["vendor"]) == ("0x0002", "ABB")
    assert "Ground fault" in json.dumps(data["messages"])
    data = json.loads(ask(sample, "--json", "what does 0x0002 mean on CP-001")[1])
    assert (data["question"]["code"], data["question"]["charger"]) == ("0x0002", "CP-001")
    assert data["context"]["vendor"] == "ABB"  # the maker CP-001 named at boot
    assert "Ground fault" in json.dumps(data["messages"])
    data = json.loads(ask(sample, "--json", "CP-012", "at", "depot", "north")[1])
    assert data["question"]["kind"] == "clarify" and data["context"] is None
    buttons = [e["text"]["text"] for b in data["messages"][0]["blocks"]
               if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["CP-012", "the site Depot North"]


def test_ask_in_the_terminal(sample: Any) -> None:
    code, out = ask(sample, "what happened to cp5 on 2026-11-20")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "CP-005 · Depot North · 2026-11-20" and set(lines[1]) == {"="}
    assert "<!date" not in out and "&lt;" not in out  # Slack markup undone
    code, out = ask(sample, "tell me a joke")
    assert code == 1 and "didn't understand" in out


def test_the_terminal_answer_is_the_slack_answer(sample: Any) -> None:
    from bot.config import load_settings
    from bot.slack.answering import answer_question, read_question
    from bot.slack.services import SlackServices

    engine, sites, end, path = sample
    data = json.loads(ask(sample, "--json", "anything wrong at riverside garage yesterday")[1])
    settings = load_settings({"DATABASE_URL": str(engine.url), "FAULTBOT_TIMEZONE": "UTC",
                              "FAULTBOT_SITES": str(path)})
    services = SlackServices(engine, settings, None, clock=lambda: end, sites=sites)
    cmd = read_question(services, "anything wrong at riverside garage yesterday")
    answered = answer_question(services, cmd, None)
    assert data["question"] == json.loads(json.dumps(cmd.to_dict()))
    assert data["messages"] == [{"text": m.text, "blocks": m.blocks} for m in answered.messages]
