"""The bundled sample feed loaded into a migrated database of one backend, for module
fixtures of tests that read its outcome (digest, wording). Loading takes seconds, so
modules load it once per backend."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from db_reset import truncate_all
from sqlalchemy import Engine

from bot.ocpp.readers import read_file
from bot.pipeline import Pipeline
from bot.sample.generate import write_sample
from bot.store.db import make_engine
from bot.store.sites import SiteMap


def sample_db(request: pytest.FixtureRequest,
              tmp: Path) -> Iterator[tuple[Engine, Any, datetime | None]]:
    """Yields (engine, sites, the feed's last time) on the backend `request.param`."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp / "faultbot.db")
        url = f"sqlite:///{tmp / 'faultbot.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        truncate_all(make_engine(url))
    engine = make_engine(url)
    paths = write_sample(tmp)
    sites = SiteMap.load(paths.sites)
    pipe = Pipeline(engine, sites=sites)
    result = pipe.process(read_file(paths.feed))
    pipe.tick(result.last_ts)
    yield engine, sites, result.last_ts
    engine.dispose()
