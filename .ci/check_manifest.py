"""Validate slack-manifest.yaml against Slack's published app-manifest JSON schema.

The schema lives in github.com/slackapi/manifest-schema, which CI cannot reach, so this
is a tool to run by hand, not part of `make test`:

    git clone https://github.com/slackapi/manifest-schema /tmp/manifest-schema
    .venv/bin/python .ci/check_manifest.py /tmp/manifest-schema

The root schema refers to its versioned schemas by URL; they are served from the clone.
Exit status 0 when the manifest is valid, 1 with the errors otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

MANIFEST = Path(__file__).resolve().parents[1] / "slack-manifest.yaml"


def main(schema_dir: Path) -> int:
    root_text = (schema_dir / "manifest.schema.json").read_text(encoding="utf-8")
    registry: Registry = Registry()
    for url in set(re.findall(r'"\$ref": "(https://[^"]+)"', root_text)):
        local = schema_dir / "schemas" / url.rsplit("/", 1)[-1]
        contents = json.loads(local.read_text(encoding="utf-8"))
        registry = registry.with_resource(url, Resource.from_contents(contents, DRAFT7))
    validator = jsonschema.Draft7Validator(json.loads(root_text), registry=registry)
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    errors = list(validator.iter_errors(manifest))
    for error in errors:
        print(f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}")
    print(f"{MANIFEST.name}: {'valid' if not errors else f'{len(errors)} error(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
