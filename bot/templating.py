"""Where the templates live, and the Jinja2 environment for plain (terminal) text.

The CLI, the digest, the answers and the triage phrasebook all write plain text or
Markdown, never HTML, so autoescape stays off and charger-supplied text goes through
the `clean` filter instead. Slack's environment (bot.slack.escape) differs on purpose:
it escapes every value for mrkdwn.

May import: text
"""

from __future__ import annotations

import contextlib
import os
from importlib.resources import files
from pathlib import Path

import jinja2
import jinja2.bccache

from bot.text import clean

# Where the bundled data lives (the templates here; bot.kb.loader asks for the knowledge
# base). An installed wheel carries both inside the package as bot/_knowledge and
# bot/_templates (pyproject.toml maps the repository's top-level folders there); a
# checkout has no such folders in bot/, so the repository's own top-level ones are used.
# An environment variable points at a replacement tree.
_DATA = {
    "knowledge": ("_knowledge", "FAULTBOT_KNOWLEDGE_DIR"),
    "templates": ("_templates", "FAULTBOT_TEMPLATES_DIR"),
}


def packaged_dir(name: str) -> Path:
    """The bundled `knowledge` or `templates` folder (the wheel's, else the checkout's)."""
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


# The bundled templates: inside the installed wheel, or the checkout's templates/.
TEMPLATE_ROOT = packaged_dir("templates")


def template_root() -> Path:
    """The templates in use; FAULTBOT_TEMPLATES_DIR points at a replacement tree."""
    return data_dir("templates")


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's on-disk cache of compiled templates (a short CLI command otherwise spends
    most of its time compiling them). Jinja2 keys an entry by template name and file and
    checks a hash of the source, so an edited template is recompiled; the key also names
    this environment's options, which change the compiled code. A cache that cannot be
    read or written is skipped: rendering never depends on it."""

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        return super().get_bucket(environment, name, f"{filename}|terminal-v1", source)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged or foreign entry: compile as if there were none
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # read-only or full disk: compiled again next run
            super().dump_bytecode(bucket)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()  # a per-user folder in the system temp folder
    except (OSError, RuntimeError):  # no safe folder (Jinja2 refuses a foreign one)
        return None


def terminal_env(subdir: str | None = None, *, root: Path | None = None) -> jinja2.Environment:
    """A new environment over templates/<subdir> (the whole tree when None).

    StrictUndefined (a misspelt name fails loudly), block tags leave no stray blank
    lines, and `clean` is installed. Each call builds a fresh environment, so callers
    may add their own filters; they keep it (lru_cache) to compile templates once.
    """
    base = root or template_root()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(base / subdir if subdir else base)),
        autoescape=False,  # plain text; hostile text goes through `clean`
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["clean"] = clean
    return env
