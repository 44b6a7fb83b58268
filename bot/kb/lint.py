"""`faultbot kb lint`: every problem in the knowledge base, as file:line: problem.

On top of what the loader checks (YAML, fields, vocab, globs, firmware ranges,
duplicate codes within a vendor scope, single-bit codes of bitmask vendors), a full
base is checked for coverage (a phrasing block for every category, an entry for
every informative OCPP 1.6 errorCode) and for phrases that the matcher would
file under another category than their own.
"""

from __future__ import annotations

from pathlib import Path

from bot.kb.knowledge import OCPP16_ERROR_CODES, UNINFORMATIVE_ERROR_CODES, KnowledgeBase
from bot.kb.loader import Problem, default_root, read_knowledge
from bot.kb.normalize import process_text, symbol_key
from bot.kb.types import MatchQuery
from bot.vocab import Category


def lint_knowledge(root: Path | None = None, full: bool | None = None) -> list[Problem]:
    """All problems; `full` (default: the root has phrasings.yaml or standards/) adds coverage."""
    root = Path(root) if root is not None else default_root()
    kb, problems = read_knowledge(root)
    if full is None:
        full = (root / "phrasings.yaml").is_file() or (root / "standards").is_dir()
    if full and root.is_dir():
        problems.extend(_coverage(kb, root))
        problems.extend(_silent_vendors(kb, root))
        if not problems:  # the matcher is only meaningful on a base that loads cleanly
            problems.extend(_phrase_conflicts(kb))
            problems.extend(_lexicon_conflicts(kb))
    return sorted(set(problems))


def _display(root: Path, name: str) -> str:
    return f"{root.name}/{name}"


def _coverage(kb: KnowledgeBase, root: Path) -> list[Problem]:
    problems = []
    phrasings = _display(root, "phrasings.yaml")
    covered = {block.category for block in kb.phrasings}
    for category in Category:
        if category is not Category.UNKNOWN and category not in covered:
            problems.append(
                Problem(phrasings, 1, f"no phrasing block for category '{category.value}'")
            )
    standards = _display(root, "standards/ocpp16.yaml")
    for code in OCPP16_ERROR_CODES:
        key = symbol_key(code)
        if key not in UNINFORMATIVE_ERROR_CODES and key not in kb.standards:
            problems.append(Problem(standards, 1, f"no entry for OCPP 1.6 errorCode '{code}'"))
    return problems


# A vendor file without codes must say why (no public source), in its notes.
_WHY_NO_CODES = ("gap", "not public", "no public", "no code list", "no vendor code list")


def _silent_vendors(kb: KnowledgeBase, root: Path) -> list[Problem]:
    problems = []
    for spec in kb.vendors.values():
        if kb.entries_for(spec.name) or spec.scheme:
            continue
        if not any(marker in spec.notes.casefold() for marker in _WHY_NO_CODES):
            problems.append(
                Problem(
                    spec.file or _display(root, "vendors"),
                    1,
                    f"vendor {spec.name!r} has no codes and its notes do not say why "
                    "(say 'gap' or 'not public' and where you looked)",
                )
            )
    return problems


def _lexicon_conflicts(kb: KnowledgeBase) -> list[Problem]:
    """Every term of the code-text reader's lexicon must read as its own category."""
    from bot.kb.reader import CodeReader, Reading

    if kb.lexicon is None:
        return []
    reader = CodeReader(kb.lexicon)
    problems = []
    for family in kb.lexicon.families:
        file, line = kb.locations.get(family.entry.key, ("lexicon.yaml", 1))
        for term in family.terms:
            said = " ".join(term)
            got = reader.read(said)
            if isinstance(got, Reading) and got.family.entry.category == family.entry.category:
                continue
            what = got.family.name if isinstance(got, Reading) else getattr(got, "why", "nothing")
            message = f"term {said!r} of {family.name!r} reads as {what}"
            problems.append(Problem(file, line, message))
    return problems


def _phrase_conflicts(kb: KnowledgeBase) -> list[Problem]:
    """A phrase shared by two categories, or one the matcher files elsewhere, is a bug."""
    from bot.kb.matcher import Matcher

    problems = []
    owners: dict[str, tuple[Category, str, int]] = {}
    for block in kb.phrasings:
        file, line = kb.locations.get(block.entry.key, ("phrasings.yaml", 1))
        for phrase in block.phrases:
            key = process_text(phrase)
            first = owners.get(key)
            if first and first[0] != block.category:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"phrase {phrase!r} is also a {first[0].value} phrase "
                        f"({first[1]}:{first[2]})",
                    )
                )
            owners.setdefault(key, (block.category, file, line))
    matcher = Matcher(kb, cache_size=0)
    for block in kb.phrasings:
        file, line = kb.locations.get(block.entry.key, ("phrasings.yaml", 1))
        for phrase in block.phrases:
            result = matcher.match_uncached(MatchQuery(info=phrase))
            got = result.entry.category if result.entry else Category.UNKNOWN
            if got != block.category and owners.get(process_text(phrase), (None,))[0] == (
                block.category
            ):
                problems.append(
                    Problem(
                        file,
                        line,
                        f"phrase {phrase!r} of {block.category.value} is matched as "
                        f"{got.value} ({'; '.join(result.evidence[-1:])})",
                    )
                )
    return problems
