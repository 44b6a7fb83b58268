"""The YAML half of the knowledge loader (bot.kb.loader): parse and check the files under
knowledge/ with every problem located to file:line.

The YAML is composed to nodes (not plain Python values) so each field keeps its
line, and so codes are taken exactly as written: unquoted `0x0400` or `0022` stay
those strings instead of becoming the integers 1024 and 18. All problems of all
files are collected and reported together (`knowledge/vendors/alfen.yaml:42:
severity 'high' is not one of ...`); nothing is loaded half-way.

Apart from bot.kb.loader so that a start that finds the parsed base in the per-user
cache imports neither PyYAML nor this module (issue 14).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.kb.knowledge import (
    OCPP16_ERROR_CODES,
    KnowledgeBase,
    PhrasingBlock,
    Quirk,
    QuirkKind,
    VendorSpec,
)
from bot.kb.loader import Problem, _files, default_root
from bot.kb.normalize import CodeFormat, bit_value, index_key, is_numeric_code, symbol_key
from bot.kb.reader import Lexicon, WordFamily
from bot.kb.scope import firmware_problem, glob_problem
from bot.kb.types import KBEntry
from bot.kb.vendors import vendor_key
from bot.vocab import Category, Owner, Severity

STANDARD_FILES = ("ocpp16", "ocpp201")  # files that use `standard:` instead of `vendor:`
_NULL_TAG = "tag:yaml.org,2002:null"
_SLUG = re.compile(r"[^a-z0-9]+")
_ONE_WORD = re.compile(r"^[a-z0-9]{1,40}$")
_E = TypeVar("_E", bound=StrEnum)

ENTRY_FIELDS = {
    "code", "aliases", "phrasings", "category", "severity", "owner", "meaning", "action",
    "escalation", "ocpp_error_code", "models", "firmware", "source", "suppress",
}  # fmt: skip
VENDOR_FIELDS = {"name", "sends", "models", "code_format", "notes"}
CODE_FILE_FIELDS = {"vendor", "standard", "source", "codes"}
PHRASING_FIELDS = {
    "category", "severity", "owner", "meaning", "action", "escalation", "phrases", "not", "source",
}  # fmt: skip
LEXICON_FIELDS = {"source", "words", "cleared", "links", "families"}
FAMILY_FIELDS = {
    "name", "category", "severity", "owner", "terms", "meaning", "action", "escalation", "source",
}  # fmt: skip
QUIRK_FIELDS = {
    "id", "vendor", "models", "firmware", "kind", "window_s", "codes", "explanation", "source",
}  # fmt: skip
LIMITS = {"code": 200, "phrase": 200, "text": 1000, "name": 100}


@dataclass
class _File:
    """Problems of one file, and helpers that read typed fields from YAML nodes."""

    display: str
    problems: list[Problem]

    def add(self, node_or_line: Node | int, message: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else line_of(node_or_line)
        self.problems.append(Problem(self.display, line, message))

    def mapping(
        self, node: Node, what: str, allowed: set[str]
    ) -> dict[str, tuple[ScalarNode, Node]] | None:
        if not isinstance(node, MappingNode):
            self.add(node, f"{what} must be a mapping of field: value")
            return None
        out: dict[str, tuple[ScalarNode, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.add(key, f"{what} has a field name that is not plain text")
                continue
            name = key.value
            if name in out:
                self.add(key, f"field '{name}' appears twice in {what}")
                continue
            if name not in allowed:
                hint = difflib.get_close_matches(name, sorted(allowed), n=1)
                extra = f" (did you mean {hint[0]}?)" if hint else ""
                self.add(key, f"unknown field '{name}' in {what}{extra}")
                continue
            out[name] = (key, value)
        return out

    def text(
        self,
        fields: dict[str, tuple[ScalarNode, Node]],
        name: str,
        parent: Node,
        *,
        required: bool = False,
        limit: int = LIMITS["text"],
    ) -> str | None:
        if name not in fields:
            if required:
                self.add(parent, f"missing required field '{name}'")
            return None
        node = fields[name][1]
        if not isinstance(node, ScalarNode):
            self.add(node, f"'{name}' must be text")
            return None
        if node.tag == _NULL_TAG and node.style is None:
            if required:
                self.add(node, f"'{name}' is empty")
            return None
        value = node.value.strip()
        if not value:
            if required:
                self.add(node, f"'{name}' is empty")
            return None
        if len(value) > limit:
            self.add(node, f"'{name}' is longer than {limit} characters")
            return value[:limit]
        return value

    def text_list(
        self,
        fields: dict[str, tuple[ScalarNode, Node]],
        name: str,
        *,
        limit: int = LIMITS["phrase"],
    ) -> tuple[str, ...]:
        if name not in fields:
            return ()
        node = fields[name][1]
        if isinstance(node, ScalarNode):
            if node.tag == _NULL_TAG and node.style is None:
                return ()
            self.add(node, f"'{name}' must be a list, e.g. {name}: [\"...\"]")
            return ()
        if not isinstance(node, SequenceNode):
            self.add(node, f"'{name}' must be a list")
            return ()
        out: list[str] = []
        for item in node.value:
            if not isinstance(item, ScalarNode) or not item.value.strip():
                self.add(item, f"every item of '{name}' must be non-empty text")
                continue
            value = item.value.strip()
            if len(value) > limit:
                self.add(item, f"an item of '{name}' is longer than {limit} characters")
                continue
            out.append(value)
        return tuple(out)

    def items(
        self, fields: dict[str, tuple[ScalarNode, Node]], name: str, parent: Node, what: str
    ) -> list[Node] | None:
        """The nodes of the required list `name`; None, with the problem noted, if absent."""
        if name not in fields:
            self.add(parent, f"missing required field '{name}'")
            return None
        node = fields[name][1]
        if not isinstance(node, SequenceNode):
            self.add(node, f"'{name}' must be {what}")
            return None
        return list(node.value)

    def enum(
        self,
        fields: dict[str, tuple[ScalarNode, Node]],
        name: str,
        enum: type[_E],
        parent: Node,
        *,
        required: bool = True,
        exclude: tuple[str, ...] = (),
    ) -> _E | None:
        raw = self.text(fields, name, parent, required=required, limit=LIMITS["name"])
        if raw is None:
            return None
        allowed = [e.value for e in enum if e.value not in exclude]
        if raw not in allowed:
            self.add(fields[name][1], f"{name} '{raw}' is not one of {', '.join(allowed)}")
            return None
        return enum(raw)

    def boolean(self, fields: dict[str, tuple[ScalarNode, Node]], name: str) -> bool:
        if name not in fields:
            return False
        node = fields[name][1]
        raw = node.value.strip().lower() if isinstance(node, ScalarNode) else ""
        if raw in ("true", "yes", "on"):
            return True
        if raw in ("false", "no", "off", "", "null", "~"):
            return False
        self.add(node, f"'{name}' must be true or false")
        return False

    def globs(self, fields: dict[str, tuple[ScalarNode, Node]], name: str) -> tuple[str, ...]:
        patterns = self.text_list(fields, name, limit=LIMITS["phrase"])
        good = []
        for pattern in patterns:
            problem = glob_problem(pattern)
            if problem:
                self.add(fields[name][1], problem)
            else:
                good.append(pattern)
        return tuple(good)

    def firmware(self, fields: dict[str, tuple[ScalarNode, Node]], parent: Node) -> str | None:
        spec = self.text(fields, "firmware", parent, limit=LIMITS["name"])
        if spec is None:
            return None
        problem = firmware_problem(spec)
        if problem:
            self.add(fields["firmware"][1], problem)
            return None
        return spec


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def _slug(name: str) -> str:
    return _SLUG.sub("-", name.casefold()).strip("-") or "x"


@dataclass
class _Builder:
    """Accumulates what every file contributes, then cross-checks across files."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    entries: list[KBEntry] = field(default_factory=list)
    vendors: dict[str, VendorSpec] = field(default_factory=dict)
    vendor_lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    phrasings: list[PhrasingBlock] = field(default_factory=list)
    phrasing_lines: list[tuple[str, int]] = field(default_factory=list)
    quirks: list[Quirk] = field(default_factory=list)
    quirk_lines: list[tuple[str, int]] = field(default_factory=list)
    lexicon: Lexicon | None = None
    standards: dict[str, KBEntry] = field(default_factory=dict)
    locations: dict[str, tuple[str, int]] = field(default_factory=dict)
    # (vendor or standard, code key, models, firmware) -> where it was first defined
    scopes: dict[tuple[str, str, tuple[str, ...], str | None], tuple[str, int]] = field(
        default_factory=dict
    )
    sent_names: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    # standards key -> (standard, file, line) of the entry that holds it
    standard_keys: dict[str, tuple[str, str, int]] = field(default_factory=dict)

    # -- files -----------------------------------------------------------------------
    def read_file(self, path: Path, kind: str) -> None:
        display = f"{self.root.name}/{path.relative_to(self.root).as_posix()}"
        ctx = _File(display, self.problems)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ctx.add(1, f"cannot read the file: {exc}")
            return
        try:
            documents = [d for d in yaml.compose_all(text, Loader=_Loader) if d is not None]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else 1
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            ctx.add(line, f"not valid YAML: {reason}")
            return
        if not documents:
            ctx.add(1, "the file is empty")
            return
        for doc in documents:
            if kind == "codes":
                self.read_code_document(doc, ctx, path)
            elif kind == "phrasings":
                self.read_phrasings(doc, ctx)
            elif kind == "lexicon":
                self.read_lexicon(doc, ctx)
            else:
                self.read_quirks(doc, ctx)

    def read_code_document(self, doc: Node, ctx: _File, path: Path) -> None:
        top = ctx.mapping(doc, "the file", CODE_FILE_FIELDS)
        if top is None:
            return
        scheme = path.parent.name == "standards"
        standard = ctx.text(top, "standard", doc, limit=LIMITS["name"])
        vendor: VendorSpec | None = None
        if "vendor" in top and standard:
            ctx.add(top["standard"][0], "a file has either 'vendor:' or 'standard:', not both")
            return
        if "vendor" in top:
            vendor = self.read_vendor(top["vendor"][1], ctx, scheme)
            if vendor is None:
                return
        elif not standard:
            ctx.add(doc, "missing 'vendor:' (or 'standard:' for the OCPP standard files)")
            return
        file_source = ctx.text(top, "source", doc) or ""
        codes = ctx.items(top, "codes", doc, "a list of code entries")
        if codes is None:
            return
        fmt = vendor.code_format if vendor else CodeFormat.SYMBOLIC
        scope_name = vendor.name if vendor else f"standard:{standard}"
        slug = _slug(vendor.name if vendor else str(standard))
        for node in codes:
            entry = self.read_entry(node, ctx, vendor, slug, fmt, file_source)
            if entry is None:
                continue
            self.check_scope(entry, node, ctx, scope_name, fmt)
            self.entries.append(entry)
            self.locations[entry.key] = (ctx.display, line_of(node))
            if vendor is None:
                self.index_standard(entry, node, ctx, scope_name)

    def read_vendor(self, node: Node, ctx: _File, scheme: bool) -> VendorSpec | None:
        fields = ctx.mapping(node, "'vendor'", VENDOR_FIELDS)
        if fields is None:
            return None
        name = ctx.text(fields, "name", node, required=True, limit=LIMITS["name"])
        fmt = ctx.enum(fields, "code_format", CodeFormat, node)
        sends = ctx.text_list(fields, "sends", limit=255)
        models = ctx.globs(fields, "models")
        notes = ctx.text(fields, "notes", node) or ""
        if name is None or fmt is None:
            return None
        folded = name.casefold()
        if folded in {v.casefold() for v in self.vendors}:
            first = self.vendor_lines[next(v for v in self.vendors if v.casefold() == folded)]
            ctx.add(node, f"vendor '{name}' is already defined at {first[0]}:{first[1]}")
            return None
        for sent in (name, *sends):
            key = vendor_key(sent)
            if not key:
                ctx.add(fields.get("sends", fields["name"])[1], f"vendor string {sent!r} is empty")
                continue
            other = self.sent_names.get(key)
            if other and other[0] != name:
                ctx.add(
                    fields.get("sends", fields["name"])[1],
                    f"vendor string {sent!r} also names '{other[0]}' ({other[1]}:{other[2]})",
                )
            self.sent_names.setdefault(key, (name, ctx.display, line_of(node)))
        spec = VendorSpec(name, sends, models, fmt, notes, "", ctx.display, scheme)
        self.vendors[name] = spec
        self.vendor_lines[name] = (ctx.display, line_of(node))
        return spec

    def read_entry(
        self,
        node: Node,
        ctx: _File,
        vendor: VendorSpec | None,
        slug: str,
        fmt: CodeFormat,
        file_source: str,
    ) -> KBEntry | None:
        fields = ctx.mapping(node, "a code entry", ENTRY_FIELDS)
        if fields is None:
            return None
        code = ctx.text(fields, "code", node, required=True, limit=LIMITS["code"])
        category = ctx.enum(fields, "category", Category, node)
        severity = ctx.enum(fields, "severity", Severity, node)
        owner = ctx.enum(fields, "owner", Owner, node)
        meaning = ctx.text(fields, "meaning", node, required=True)
        action = ctx.text(fields, "action", node, required=True)
        escalation = ctx.text(fields, "escalation", node)
        aliases = ctx.text_list(fields, "aliases", limit=LIMITS["code"])
        phrasings = ctx.text_list(fields, "phrasings")
        models = ctx.globs(fields, "models")
        firmware = ctx.firmware(fields, node)
        source = ctx.text(fields, "source", node) or file_source
        suppress = ctx.boolean(fields, "suppress")
        ocpp = ctx.text(fields, "ocpp_error_code", node, limit=LIMITS["name"])
        if ocpp is not None and ocpp not in OCPP16_ERROR_CODES:
            ctx.add(
                fields["ocpp_error_code"][1],
                f"ocpp_error_code '{ocpp}' is not one of {', '.join(OCPP16_ERROR_CODES)}",
            )
        if not source:
            ctx.add(node, "no 'source' for this entry and no file-level 'source'")
        if vendor is None and (models or firmware):
            ctx.add(node, "standard entries cannot be scoped to models or firmware")
        if code and fmt.bitmask and vendor is not None:
            # A number must be one bit; a word (Zaptec's ProhibitedByCommunicationMode) is
            # allowed: it is matched as written or normalised, never decomposed into bits.
            value = bit_value(index_key(code, fmt), fmt)
            if value is not None and value & (value - 1):
                ctx.add(fields["code"][1], f"code '{code}' is not a single bit ({fmt.value})")
            elif value is None and is_numeric_code(code):
                ctx.add(fields["code"][1], f"code '{code}' is not a number in {fmt.value} format")
        if None in (code, category, severity, owner, meaning, action):
            return None
        assert code and category and severity and owner and meaning and action
        key = f"{slug}:{code}"
        n = 2
        while key in self.locations:
            key = f"{slug}:{code}~{n}"
            n += 1
        return KBEntry(
            key=key,
            vendor=vendor.name if vendor else None,
            code=code,
            category=category,
            severity=severity,
            owner=owner,
            meaning=meaning,
            action=action,
            escalation=escalation,
            source=source,
            models=models,
            firmware=firmware,
            aliases=aliases,
            phrasings=phrasings,
            suppress=suppress,
            ocpp_error_code=ocpp,
        )

    def check_scope(
        self, entry: KBEntry, node: Node, ctx: _File, scope_name: str, fmt: CodeFormat
    ) -> None:
        """Two entries for one code in the same vendor + model + firmware scope are ambiguous."""
        models = tuple(sorted(m.casefold() for m in entry.models))
        seen_here: set[str] = set()
        for spelling in (entry.code or "", *entry.aliases):
            standard = scope_name.startswith("standard:")
            key = symbol_key(spelling) if standard else index_key(spelling, fmt)
            if not key or key in seen_here:
                continue
            seen_here.add(key)
            scope = (scope_name, key, models, entry.firmware)
            first = self.scopes.get(scope)
            if first is not None:
                what = (
                    f"code '{spelling}'"
                    if spelling == entry.code
                    else f"alias '{spelling}' (of '{entry.code}')"
                )
                ctx.add(
                    node,
                    f"{what} is already defined for {scope_name} in the same "
                    f"model/firmware scope at {first[0]}:{first[1]}",
                )
            else:
                self.scopes[scope] = (ctx.display, line_of(node))

    def index_standard(self, entry: KBEntry, node: Node, ctx: _File, scope_name: str) -> None:
        """File a standard entry under its code and every alias (`Mode3Error` is the 1.5 name
        of EVCommunicationError). Both standard files share one index, so a spelling taken in
        the other file is a problem too (within one file check_scope already says so)."""
        for spelling in (entry.code or "", *entry.aliases):
            key = symbol_key(spelling)
            holder = self.standard_keys.get(key) if key else None
            if not key or self.standards.get(key) is entry:
                continue
            if holder is None:
                self.standards[key] = entry
                self.standard_keys[key] = (scope_name, ctx.display, line_of(node))
            elif holder[0] != scope_name:
                kind = "code" if spelling == entry.code else "alias"
                ctx.add(
                    node,
                    f"{kind} '{spelling}' collides with '{self.standards[key].code}' of "
                    f"{holder[0]} at {holder[1]}:{holder[2]}",
                )

    def read_phrasings(self, doc: Node, ctx: _File) -> None:
        top = ctx.mapping(doc, "the file", {"phrasings"})
        if top is None:
            return
        blocks = ctx.items(top, "phrasings", doc, "a list of blocks")
        if blocks is None:
            return
        for node in blocks:
            fields = ctx.mapping(node, "a phrasing block", PHRASING_FIELDS)
            if fields is None:
                continue
            category = ctx.enum(fields, "category", Category, node, exclude=("unknown",))
            severity = ctx.enum(fields, "severity", Severity, node)
            owner = ctx.enum(fields, "owner", Owner, node)
            meaning = ctx.text(fields, "meaning", node, required=True)
            action = ctx.text(fields, "action", node, required=True)
            escalation = ctx.text(fields, "escalation", node)
            phrases = ctx.text_list(fields, "phrases")
            not_phrases = ctx.text_list(fields, "not")
            source = ctx.text(fields, "source", node) or ""
            if not phrases:
                ctx.add(node, "a phrasing block needs a non-empty 'phrases' list")
            both = {p.casefold() for p in phrases} & {p.casefold() for p in not_phrases}
            if both:
                ctx.add(node, f"phrases listed in both 'phrases' and 'not': {sorted(both)}")
            if not source:
                ctx.add(node, "missing required field 'source'")
            if None in (category, severity, owner, meaning, action) or not phrases:
                continue
            assert category and severity and owner and meaning and action
            n = sum(1 for b in self.phrasings if b.category == category) + 1
            entry = KBEntry(
                key=f"phrasing:{category.value}:{n}",
                vendor=None,
                code=None,
                category=category,
                severity=severity,
                owner=owner,
                meaning=meaning,
                action=action,
                escalation=escalation,
                source=source,
                phrasings=phrases,
            )
            self.phrasings.append(PhrasingBlock(entry, phrases, not_phrases))
            self.phrasing_lines.append((ctx.display, line_of(node)))
            self.locations[entry.key] = (ctx.display, line_of(node))

    def read_quirks(self, doc: Node, ctx: _File) -> None:
        top = ctx.mapping(doc, "the file", {"quirks"})
        if top is None:
            return
        items = ctx.items(top, "quirks", doc, "a list")
        if items is None:
            return
        ids: dict[str, int] = {}
        for node in items:
            fields = ctx.mapping(node, "a quirk", QUIRK_FIELDS)
            if fields is None:
                continue
            qid = ctx.text(fields, "id", node, required=True, limit=LIMITS["name"])
            vendor = ctx.text(fields, "vendor", node, required=True, limit=LIMITS["name"])
            kind = ctx.enum(fields, "kind", QuirkKind, node)
            models = ctx.globs(fields, "models")
            firmware = ctx.firmware(fields, node)
            codes = ctx.text_list(fields, "codes", limit=LIMITS["code"])
            explanation = ctx.text(fields, "explanation", node, required=True)
            source = ctx.text(fields, "source", node, required=True) or ""
            window = self.read_window(fields, node, ctx, kind)
            if qid is not None:
                if qid in ids:
                    ctx.add(node, f"quirk id '{qid}' is already used at line {ids[qid]}")
                ids.setdefault(qid, line_of(node))
            if None in (qid, vendor, kind, explanation):
                continue
            assert qid and vendor and kind and explanation
            self.quirks.append(
                Quirk(qid, vendor, models, firmware, kind, window, codes, explanation, source)
            )
            self.quirk_lines.append((ctx.display, line_of(node)))

    def read_lexicon(self, doc: Node, ctx: _File) -> None:
        top = ctx.mapping(doc, "the file", {"lexicon"})
        if top is None:
            return
        node = top["lexicon"][1] if "lexicon" in top else doc
        fields = ctx.mapping(node, "'lexicon'", LEXICON_FIELDS)
        if fields is None:
            return
        source = ctx.text(fields, "source", node, required=True) or ""
        words: dict[str, tuple[str, ...]] = {}
        if "words" in fields:
            mapping = fields["words"][1]
            if not isinstance(mapping, MappingNode):
                ctx.add(mapping, "'words' must be a mapping of word: the words it stands for")
            else:
                for key, value in mapping.value:
                    word = key.value.strip().casefold() if isinstance(key, ScalarNode) else ""
                    said = value.value if isinstance(value, ScalarNode) else ""
                    meant = tuple(said.casefold().split())
                    if not _ONE_WORD.match(word) or not meant:
                        ctx.add(
                            key,
                            f"word {word!r} must be one word (letters and digits) "
                            "standing for one or more words",
                        )
                    elif word in words:
                        ctx.add(key, f"word {word!r} appears twice")
                    else:
                        words[word] = meant
        cleared = frozenset(w.casefold() for w in ctx.text_list(fields, "cleared"))
        links = frozenset(w.casefold() for w in ctx.text_list(fields, "links"))
        for bad in sorted(w for w in links if not _ONE_WORD.match(w)):
            ctx.add(fields["links"][1], f"link word {bad!r} must be one word (letters and digits)")
        families: list[WordFamily] = []
        nodes = ctx.items(fields, "families", node, "a list of word families") or []
        seen_terms: dict[tuple[str, ...], str] = {}
        for fam in nodes:
            f = ctx.mapping(fam, "a word family", FAMILY_FIELDS)
            if f is None:
                continue
            name = ctx.text(f, "name", fam, required=True, limit=LIMITS["name"])
            category = ctx.enum(f, "category", Category, fam, exclude=("unknown",))
            severity = ctx.enum(f, "severity", Severity, fam)
            owner = ctx.enum(f, "owner", Owner, fam)
            meaning = ctx.text(f, "meaning", fam, required=True)
            action = ctx.text(f, "action", fam, required=True)
            escalation = ctx.text(f, "escalation", fam)
            terms: list[tuple[str, ...]] = []
            for term in ctx.text_list(f, "terms"):
                split = tuple(term.casefold().split())
                if not all(_ONE_WORD.match(w) for w in split):
                    ctx.add(fam, f"term {term!r}: only letters, digits and spaces")
                    continue
                if split in seen_terms and seen_terms[split] != name:
                    ctx.add(fam, f"term {term!r} is also a term of {seen_terms[split]!r}")
                    continue
                unsplit = [w for w in split if w in words and w not in words[w]]
                if unsplit:
                    ctx.add(
                        fam,
                        f"term {term!r} uses {unsplit[0]!r}, which 'words' turns into "
                        f"{' '.join(words[unsplit[0]])!r}: write that instead",
                    )
                    continue
                seen_terms[split] = name or ""
                terms.append(split)
            if not terms:
                ctx.add(fam, "a word family needs a non-empty 'terms' list")
            if None in (name, category, severity, owner, meaning, action) or not terms:
                continue
            assert name and category and severity and owner and meaning and action
            entry = KBEntry(
                key=f"lexicon:{_slug(name)}", vendor=None, code=None, category=category,
                severity=severity, owner=owner, meaning=meaning, action=action,
                escalation=escalation, source=ctx.text(f, "source", fam) or source,
            )  # fmt: skip
            families.append(WordFamily(name, entry, tuple(terms)))
            self.locations[entry.key] = (ctx.display, line_of(fam))
        self.lexicon = Lexicon(words, cleared, tuple(families), source, links)

    @staticmethod
    def read_window(
        fields: dict[str, tuple[ScalarNode, Node]], node: Node, ctx: _File, kind: QuirkKind | None
    ) -> int | None:
        if "window_s" not in fields:
            if kind == QuirkKind.BOOT_FAULT_WINDOW:
                ctx.add(node, "a boot_fault_window quirk needs 'window_s' (seconds)")
            return None
        value = fields["window_s"][1]
        raw = value.value.strip() if isinstance(value, ScalarNode) else ""
        if raw in ("", "null", "~"):
            if kind == QuirkKind.BOOT_FAULT_WINDOW:
                ctx.add(value, "a boot_fault_window quirk needs 'window_s' (seconds)")
            return None
        if not raw.isdigit() or not 0 < int(raw) <= 86400:
            ctx.add(value, f"window_s '{raw}' must be a whole number of seconds, 1 to 86400")
            return None
        return int(raw)

    # -- cross-file checks -------------------------------------------------------------
    def cross_check(self) -> None:
        folded = {v.casefold(): v for v in self.vendors}
        quirks = []
        for quirk, (display, line) in zip(self.quirks, self.quirk_lines, strict=True):
            canonical = folded.get(quirk.vendor.casefold())
            if canonical is None:
                self.problems.append(
                    Problem(display, line, f"quirk '{quirk.id}': unknown vendor '{quirk.vendor}'")
                )
                continue
            if canonical != quirk.vendor:
                quirk = Quirk(
                    quirk.id,
                    canonical,
                    quirk.models,
                    quirk.firmware,
                    quirk.kind,
                    quirk.window_s,
                    quirk.codes,
                    quirk.explanation,
                    quirk.source,
                )
            quirks.append(quirk)
        self.quirks = quirks

    def build(self) -> KnowledgeBase:
        return KnowledgeBase(
            entries=self.entries,
            vendors=self.vendors,
            phrasings=self.phrasings,
            quirks=self.quirks,
            lexicon=self.lexicon,
            standards=self.standards,
            locations=self.locations,
            root=self.root,
        )


# LibYAML's C parser when available (we only compose nodes; nothing is constructed).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_knowledge(root: Path | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read everything under `root`, returning the base and every problem found."""
    root = Path(root) if root is not None else default_root()
    builder = _Builder(root)
    if not root.is_dir():
        builder.problems.append(Problem(str(root), 0, "knowledge directory not found"))
        return builder.build(), builder.problems
    for path, kind in _files(root):
        builder.read_file(path, kind)
    builder.cross_check()
    return builder.build(), sorted(builder.problems)
