"""Where the knowledge base and the templates are read from.

An installed wheel carries them inside the package (bot/_knowledge, bot/_templates:
pyproject.toml maps the repository's top-level knowledge/ and templates/ there). A
checkout (`pip install -e .`, or running from the source tree) has no such folders in
bot/, so the repository's own top-level folders are used. An environment variable
(FAULTBOT_KNOWLEDGE_DIR, FAULTBOT_TEMPLATES_DIR) points at a replacement tree.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

# folder name in the repository -> (package folder in the wheel, override variable)
_DATA = {
    "knowledge": ("_knowledge", "FAULTBOT_KNOWLEDGE_DIR"),
    "templates": ("_templates", "FAULTBOT_TEMPLATES_DIR"),
}


def packaged_dir(name: str) -> Path:
    """The bundled `knowledge` or `templates` folder (wheel first, then the checkout)."""
    inside, _ = _DATA[name]
    bundled = Path(str(files("bot") / inside))
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[1] / name


def data_dir(name: str) -> Path:
    """The folder in use: the override variable when set, else the bundled one."""
    _, variable = _DATA[name]
    override = os.environ.get(variable, "").strip()
    return Path(override) if override else packaged_dir(name)
