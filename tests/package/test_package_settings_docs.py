"""What a new operator reads matches the code: `.env.example` sets every setting, and
docs/formats.md names every key and value of the diagnosis."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings, load_settings
from bot.feeds.options import FeedOptions, load_feed_options
from bot.triage.diagnosis import Diagnosis
from bot.vocab import Category, Owner, Severity

REPO = Path(__file__).resolve().parents[2]
_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
# Where settings are read; every variable named there must be in .env.example.
SETTING_SOURCES = ("bot/config.py", "bot/feeds/options.py", "bot/templating.py")


def _example(tmp_path: Path) -> dict[str, str]:
    env = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        m = _LINE.match(line.strip())
        if m:
            env[m[1]] = m[2]
    sites = tmp_path / "sites.yaml"  # the example's path is the operator's to fill in
    sites.write_text("CP-1: Depot\n")
    env["FAULTBOT_SITES"] = str(sites)
    return env


def test_env_example_sets_every_field_of_settings(tmp_path: Path) -> None:
    env = _example(tmp_path)
    settings = load_settings(env, dotenv=False)
    defaults = Settings()
    unchanged = [f.name for f in dataclasses.fields(Settings)
                 if getattr(settings, f.name) == getattr(defaults, f.name)]
    assert unchanged == [], f"no example value in .env.example for: {unchanged}"
    options = load_feed_options(env)
    default_options = load_feed_options({})
    same = [f.name for f in dataclasses.fields(FeedOptions)
            if getattr(options, f.name) == getattr(default_options, f.name)]
    assert same == [], f"no example value in .env.example for feed options: {same}"


def test_env_example_names_every_variable_read(tmp_path: Path) -> None:
    listed = set(_example(tmp_path))
    read = set()
    for source in SETTING_SOURCES:
        read |= set(re.findall(r'"((?:FAULTBOT|SLACK)_[A-Z0-9_]+|DATABASE_URL|PORT|LOG_LEVEL)"',
                               (REPO / source).read_text()))
    assert len(read) > 30
    assert read - listed == set()


def test_docs_describe_the_diagnosis() -> None:
    text = (REPO / "docs" / "formats.md").read_text()
    d = Diagnosis("CP-1", 1, datetime.now(UTC), Category.UNKNOWN, Severity.INFO, Owner.NONE,
                  False, "s", "a", 0.1, "r")
    for key in d.to_json():
        assert f"`{key}`" in text, key
    for enum in (Category, Owner, Severity):
        for member in enum:
            assert f"`{member.value}`" in text, member
