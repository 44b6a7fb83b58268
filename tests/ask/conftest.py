"""The sample fleet's names as the bot indexes them (bot/sample: CP-001..CP-036 on five
sites, the real knowledge base)."""

from __future__ import annotations

import pytest

from bot.ask.index import NameIndex, build_index
from bot.kb.loader import default_knowledge
from bot.sample.generate import sites_yaml
from bot.sample.network import CHARGERS
from bot.store.sites import SiteMap


@pytest.fixture(scope="session")
def sample_sites(tmp_path_factory: pytest.TempPathFactory) -> SiteMap:
    path = tmp_path_factory.mktemp("ask-sites") / "sites.yaml"
    path.write_text(sites_yaml(), encoding="utf-8")
    return SiteMap.load(path)


@pytest.fixture(scope="session")
def index(sample_sites: SiteMap) -> NameIndex:
    return build_index([c.id for c in CHARGERS], sample_sites, default_knowledge())
