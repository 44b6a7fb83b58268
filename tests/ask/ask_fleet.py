"""The sample fleet's names as the bot indexes them (bot/sample: CP-001..CP-036 on five
sites, the real knowledge base). A plain module, not a conftest: the top-level
conftest's name must stay unshadowed for the other test folders."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from bot.ask.index import NameIndex, build_index
from bot.kb.loader import default_knowledge
from bot.sample.generate import sites_yaml
from bot.sample.network import CHARGERS
from bot.store.sites import SiteMap


@lru_cache(maxsize=1)
def sample_index() -> NameIndex:
    with tempfile.TemporaryDirectory(prefix="faultbot-ask-") as tmp:
        path = Path(tmp) / "sites.yaml"
        path.write_text(sites_yaml(), encoding="utf-8")
        sites = SiteMap.load(path)
    return build_index([c.id for c in CHARGERS], sites, default_knowledge())
