"""Render a Digest as text, Markdown (templates/digest/digest.j2) or JSON (to_json)."""

from __future__ import annotations

import json
from typing import Literal

from bot.digest.model import Digest
from bot.digest.templating import render

DigestFormat = Literal["text", "markdown", "json"]
FORMATS: tuple[DigestFormat, ...] = ("text", "markdown", "json")


def render_digest(
    digest: Digest, fmt: DigestFormat = "text", *, max_lines: int = 12, max_sites: int = 10
) -> str:
    """Text and Markdown show the first `max_lines` lines of each section and the
    `max_sites` worst sites, summarising the rest (JSON always holds everything)."""
    if fmt == "json":
        return json.dumps(digest.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("text", "markdown"):
        raise ValueError(f"unknown digest format {fmt!r}; use one of {', '.join(FORMATS)}")
    return render("digest/digest.j2", d=digest, tz=digest.timezone, markdown=fmt == "markdown",
                  max_lines=max_lines, max_sites=max_sites)
