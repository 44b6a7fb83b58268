"""Fixtures for the knowledge-base tests: the fixture base under tests/kb/fixtures/base."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.knowledge import KnowledgeBase
from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"


@pytest.fixture(scope="session")
def fixture_kb() -> KnowledgeBase:
    return load_knowledge(FIXTURE_ROOT)


@pytest.fixture
def matcher(fixture_kb: KnowledgeBase) -> Matcher:
    return Matcher(fixture_kb)


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE_ROOT
