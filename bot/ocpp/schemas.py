"""Lenient payload validation against the JSON schemas shipped in the `ocpp` package.

One validator per (version, action, request/response), compiled on first use and
cached. The fast path is a fastjsonschema-compiled check (a few microseconds); only a
payload that fails it is run through `jsonschema` to collect every problem as a short,
human-readable string. Format keywords (date-time) are not checked here: the parser
checks the timestamps it uses itself.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

try:  # compiled checks are ~15x faster than jsonschema's; without it we stay correct
    import fastjsonschema
except ImportError:  # pragma: no cover - fastjsonschema is a declared dependency
    fastjsonschema = None  # type: ignore[assignment]  # the fallback is checked where used

from bot import diskcache

Kind = Literal["request", "response"]

_FOLDERS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}
_MAX_VIOLATIONS = 8  # a payload that breaks more than this is reported in part


class PayloadSchema:
    """A compiled schema: a fast yes/no and, on no, the reasons."""

    __slots__ = ("_compiled", "_empty_valid", "_fast", "_schema", "_slow", "fills_defaults")

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        # fastjsonschema's check writes a property's `default` into a payload that lacks
        # it, and the parser fingerprints and reads the payload after the check: for such
        # a schema the check is part of what a message is (Parser(validate=False)).
        self.fills_defaults = _has_default(schema)
        self._slow: Any = None
        self._fast: Callable[[Any], Any] | None = None
        # Whether {} is valid: the same answer every time, and most replies (and every
        # Heartbeat) are {}, so it is worked out once.
        self._empty_valid: bool | None = None
        # Compiled on first use: a reader that never validates (Parser(validate=False))
        # still looks schemas up to know which actions a version defines.
        self._compiled = fastjsonschema is None

    def is_valid(self, payload: Any) -> bool:
        if not payload and type(payload) is dict:
            empty = self._empty_valid
            if empty is None:
                empty = self._empty_valid = self._check({})
            return empty
        fast = self._fast
        if fast is None:
            if not self._compiled:
                return self._check(payload)
            return bool(self._validator().is_valid(payload))
        try:
            fast(payload)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def _check(self, payload: Any) -> bool:
        if not self._compiled:
            self._compiled = True
            self._fast = _fast_check(self._schema)
        fast = self._fast
        if fast is None:
            return bool(self._validator().is_valid(payload))
        try:
            fast(payload)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def _validator(self) -> Any:
        if self._slow is None:
            # imported here: only a payload that fails the fast check needs jsonschema
            from jsonschema import Draft6Validator
            from jsonschema.validators import validator_for as _jsonschema_class_for

            cls = _jsonschema_class_for(self._schema, default=Draft6Validator)
            self._slow = cls(self._schema)
        return self._slow

    def problems(self, payload: Any) -> list[str]:
        """Short strings for each violation ([] when valid)."""
        if self.is_valid(payload):
            return []
        errors = sorted(self._validator().iter_errors(payload), key=lambda e: list(e.absolute_path))
        out = [describe(e) for e in errors[:_MAX_VIOLATIONS]]
        if len(errors) > _MAX_VIOLATIONS:
            out.append(f"... and {len(errors) - _MAX_VIOLATIONS} more schema violations")
        if not out:  # the two validators disagree on an edge case: say so, don't hide it
            out.append("payload does not match the schema")
        return out


def _has_default(schema: Any) -> bool:
    """Whether a `default` keyword appears anywhere in `schema` (a property named
    "default" counts too: a false yes only costs a check)."""
    if isinstance(schema, dict):
        return "default" in schema or any(_has_default(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_default(v) for v in schema)
    return False


def _compiled_check(entry: bytes) -> Any:
    """A cache entry (the check's name and its compiled code) run back into the check."""
    name, code = marshal.loads(entry)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own cache entry, keyed by its source
    return namespace[name]


def _fast_check(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's check for `schema`. Compiling its generated code is most of the
    cost of a short `faultbot explain`, so the compiled code is kept in the per-user cache
    (bot.diskcache), keyed by the schema and the fastjsonschema version that wrote it."""
    key = diskcache.key_of("schema", [fastjsonschema.VERSION, "use_formats=False",
                                      json.dumps(schema, sort_keys=True)])
    check = diskcache.load_decoded(key, _compiled_check)
    if callable(check):
        return check
    from fastjsonschema.ref_resolver import RefResolver

    source = fastjsonschema.compile_to_code(schema, use_formats=False)
    name = RefResolver.from_schema(schema, handlers={}).get_scope_name()
    code = compile(source, f"<fastjsonschema {name}>", "exec")
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # fastjsonschema's generated code, as compile() runs it
    diskcache.store(key, marshal.dumps((name, code)))
    return namespace[name]


def schema_for(version: str, action: str, kind: Kind) -> PayloadSchema | None:
    """The validator for an action's request or response; None if the version has no
    such action (a vendor or unknown action)."""
    if action not in _actions(version):  # keep odd names out of the cache
        return None
    return _compiled(version, action, kind)


def known_actions(version: str) -> frozenset[str]:
    """Every action the version's schema set defines."""
    return _actions(version)


def describe(error: ValidationError) -> str:
    """One violation as a short string, e.g. 'info: 73 chars, max 50'."""
    path = _path(error.absolute_path)
    where = f"{path}: " if path else ""
    value = error.instance
    kw = error.validator
    if kw == "maxLength" and isinstance(value, str):
        return f"{where}{len(value)} chars, max {error.validator_value}"
    if kw == "enum":
        return f"{where}{_show(value)} is not a standard value"
    if kw == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}missing required field {missing}"
    if kw == "type":
        return f"{where}expected {error.validator_value}, got {_json_type(value)}"
    if kw == "additionalProperties":
        extra = (
            sorted(set(value) - set(_properties(error.schema)))
            if isinstance(value, dict)
            else []
        )
        names = ", ".join(extra[:4]) or "?"
        return f"{where}unexpected field{'s' if len(extra) > 1 else ''} {names}"
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{where}{_show(value)} is out of range ({kw} {error.validator_value})"
    message = error.message
    return f"{where}{message[:100]}"


# --- loading -------------------------------------------------------------------------


@cache
def _actions(version: str) -> frozenset[str]:
    folder = _FOLDERS.get(version)
    if folder is None:
        return frozenset()
    names = set()
    for entry in resources.files("ocpp").joinpath(folder, "schemas").iterdir():
        name = entry.name
        if not name.endswith(".json"):
            continue
        stem = name[:-5]
        if stem.endswith("Response"):
            stem = stem[: -len("Response")]
        elif stem.endswith("Request"):
            stem = stem[: -len("Request")]
        names.add(stem)
    return frozenset(names)


@cache
def _compiled(version: str, action: str, kind: Kind) -> PayloadSchema | None:
    folder = resources.files("ocpp").joinpath(_FOLDERS[version], "schemas")
    if kind == "response":
        candidates = [f"{action}Response.json"]
    elif version == "1.6":
        candidates = [f"{action}.json"]
    else:
        candidates = [f"{action}Request.json", f"{action}.json"]
    for name in candidates:
        entry = folder.joinpath(name)
        if entry.is_file():
            return PayloadSchema(json.loads(entry.read_text(encoding="utf-8")))
    return None


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _properties(schema: Any) -> Mapping[str, Any]:
    """The `properties` of a (sub)schema; jsonschema types a schema as Mapping or bool."""
    found = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return found if isinstance(found, Mapping) else {}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
