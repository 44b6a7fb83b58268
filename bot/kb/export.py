"""Write operator-taught entries back as a knowledge YAML file (one document per vendor).

The file follows the knowledge format, so `faultbot kb lint` accepts it and
`load_knowledge` can load it; a reviewer then merges its entries into the vendor's
file under knowledge/vendors/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from bot.kb.knowledge import KnowledgeBase
from bot.kb.models import KBRuntimeEntry
from bot.kb.normalize import CodeFormat, is_numeric_code
from bot.kb.runtime import RuntimeEntries


def _guess_format(codes: list[str]) -> CodeFormat:
    if all(c.isdigit() for c in codes):
        return CodeFormat.DECIMAL
    if all(c.lower().startswith("0x") and is_numeric_code(c) for c in codes):
        return CodeFormat.HEX
    return CodeFormat.SYMBOLIC


def _entry(row: KBRuntimeEntry) -> dict[str, Any]:
    source = f"taught by {row.taught_by} on {row.taught_at:%Y-%m-%d}"
    if row.note:
        source += f" ({row.note})"
    out: dict[str, Any] = {
        "code": row.code,
        "category": row.category,
        "severity": row.severity,
        "owner": row.owner,
        "meaning": row.meaning,
        "action": row.action,
    }
    if row.escalation:
        out["escalation"] = row.escalation
    if row.model:
        out["models"] = [row.model]
    out["source"] = source
    return out


def runtime_documents(rows: list[KBRuntimeEntry], kb: KnowledgeBase | None) -> list[dict[str, Any]]:
    by_vendor: dict[str, list[KBRuntimeEntry]] = {}
    for row in rows:
        by_vendor.setdefault(row.vendor, []).append(row)
    documents = []
    for vendor, vendor_rows in sorted(by_vendor.items()):
        spec = kb.vendors.get(vendor) if kb is not None else None
        if spec is not None:
            head: dict[str, Any] = {"name": spec.name, "sends": list(spec.sends)}
            if spec.models:
                head["models"] = list(spec.models)
            head["code_format"] = spec.code_format.value
        else:
            fmt = _guess_format([r.code for r in vendor_rows])
            head = {"name": vendor, "sends": [vendor], "code_format": fmt.value}
        documents.append(
            {
                "vendor": head,
                "source": "taught by operators in faultbot",
                "codes": [_entry(r) for r in vendor_rows],
            }
        )
    return documents


def export_runtime(
    engine: Engine, path: Path, kb: KnowledgeBase | None = None, header: str = ""
) -> int:
    """Write every taught entry to `path`; returns how many entries were written."""
    rows = RuntimeEntries(engine, kb).rows()
    documents = runtime_documents(rows, kb)
    text = yaml.safe_dump_all(
        documents, sort_keys=False, allow_unicode=True, explicit_start=True, width=100
    )
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    Path(path).write_text(comment + text, encoding="utf-8")
    return len(rows)
