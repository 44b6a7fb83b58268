"""Validate slack-manifest.yaml against Slack's published app-manifest JSON schema.

The schema is github.com/slackapi/manifest-schema (MIT). CI cannot reach GitHub, so a
copy of its schema files lives in tests/slack/fixtures/manifest-schema (SOURCE.md says
which commit); the test suite validates against that copy through `errors()` below.
To check against a newer schema by hand:

    git clone https://github.com/slackapi/manifest-schema /tmp/manifest-schema
    .venv/bin/python .ci/check_manifest.py /tmp/manifest-schema

The root schema refers to its versioned schemas by URL; they are served from the copy.
Exit status 0 when the manifest is valid, 1 with the errors otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "slack-manifest.yaml"
VENDORED = ROOT / "tests" / "slack" / "fixtures" / "manifest-schema"


def validator(schema_dir: Path = VENDORED) -> jsonschema.Draft7Validator:
    root_text = (schema_dir / "manifest.schema.json").read_text(encoding="utf-8")
    registry: Registry = Registry()
    for url in set(re.findall(r'"\$ref": "(https://[^"]+)"', root_text)):
        local = schema_dir / "schemas" / url.rsplit("/", 1)[-1]
        contents = json.loads(local.read_text(encoding="utf-8"))
        registry = registry.with_resource(url, Resource.from_contents(contents, DRAFT7))
    return jsonschema.Draft7Validator(json.loads(root_text), registry=registry)


def errors(manifest: dict[str, Any], schema_dir: Path = VENDORED) -> list[str]:
    """One line per schema violation ("path: message"); empty when valid."""
    return [
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
        for e in validator(schema_dir).iter_errors(manifest)
    ]


def main(schema_dir: Path) -> int:
    found = errors(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")), schema_dir)
    for line in found:
        print(line)
    print(f"{MANIFEST.name}: {'valid' if not found else f'{len(found)} error(s)'}")
    return 1 if found else 0


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) == 2 else VENDORED))
