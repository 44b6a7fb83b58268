"""The matcher's index is cached on disk for the next process: the same answers as a
freshly built index, pointing at the loaded base's own entries, never stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.kb import matcher
from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher, build_index, cached_index
from bot.kb.types import MatchQuery

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "base"
REPO_ROOT = Path(__file__).resolve().parents[2] / "knowledge"

QUERIES = [
    MatchQuery(vendor="ABB", model="Terra AC", firmware="1.6.0", code="0x0002", info=""),
    MatchQuery(vendor="", model="", firmware="", code="E12", info="ground fault detected"),
    MatchQuery(vendor="Alfen", model="", firmware="", code="F12,F31", info=""),
    MatchQuery(vendor="Unknown Co", model="", firmware="", code="",
               info="over temperature", error_code="HighTemperature"),
    MatchQuery(vendor="", model="", firmware="", code="", info="",
               error_code="GroundFailure"),
]


def _answers(matcher: Matcher) -> list[tuple[object, ...]]:
    out = []
    for q in QUERIES:
        m = matcher.match_uncached(q)
        out.append((id(m.entry) if m.entry is not None else None, m.confidence, m.method,
                    tuple(m.evidence), m.vendor, m.ambiguous,
                    tuple(id(p) for p in m.parts), m.hint, m.borrowed_from))
    return out


@pytest.mark.parametrize("root", [FIXTURE_ROOT, REPO_ROOT], ids=["fixture", "repo"])
def test_cached_index_answers_as_a_built_one_with_the_base_s_own_entries(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(cache))
    kb = load_knowledge(root)
    assert kb.source_key is not None
    built = build_index(kb)
    first = cached_index(kb)  # builds and writes
    assert [p for p in cache.iterdir() if p.name.startswith("matcher-")]
    kb2 = load_knowledge(root)  # another process: the base unpickled from the cache

    def not_built(kb: object) -> None:
        raise AssertionError("the index was built, not read from the cache")

    with monkeypatch.context() as patch:
        patch.setattr(matcher, "build_index", not_built)
        second = cached_index(kb2)
        served = Matcher(kb2)
    assert second.kb is kb2
    entries = {id(e) for e in kb2.entries} | {id(e) for e in kb2.standards.values()}
    for vendor in second.vendors.values():
        for bucket in vendor.keys.values():
            assert all(id(e) in entries for e in bucket)
    fresh = Matcher(kb)
    assert served._ix is not first
    plain = [a[1:] for a in _answers(fresh)]
    assert [a[1:] for a in _answers(served)] == plain
    # an entry from the base is the base's own object, for a served index as for a built one
    kb_entries = {id(e) for e in kb.entries} | {id(e) for e in kb.standards.values()}
    assert [a[0] in entries for a in _answers(served)] == [
        a[0] in kb_entries for a in _answers(fresh)]
    assert any(a[0] in entries for a in _answers(served))
    assert built.by_format.keys() == second.by_format.keys()


def test_edited_base_gets_a_new_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_ROOT, root)
    q = MatchQuery(vendor="ABB", model="", firmware="", code="0x0002", info="")
    before = Matcher(load_knowledge(root)).match_uncached(q)
    abb = root / "vendors" / "abb.yaml"
    abb.write_text(abb.read_text().replace("Residual current in the charge circuit.",
                                           "Earth leakage in the charge circuit."))
    after = Matcher(load_knowledge(root)).match_uncached(q)
    assert before.entry is not None and after.entry is not None
    assert after.entry.meaning == "Earth leakage in the charge circuit."


def test_damaged_or_foreign_index_is_rebuilt(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(cache))
    kb = load_knowledge(FIXTURE_ROOT)
    expected = _answers(Matcher(kb))
    for entry in cache.iterdir():
        if entry.name.startswith("matcher-"):
            entry.write_bytes(b"not a pickle")
    assert _answers(Matcher(kb)) == expected


def test_a_base_built_in_code_is_never_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(tmp_path / "cache"))
    kb = load_knowledge(FIXTURE_ROOT)
    from dataclasses import replace

    changed = replace(kb, entries=kb.entries[:1])
    assert changed.source_key is None


def test_second_explain_start_reads_no_yaml_and_builds_no_index(tmp_path: Path) -> None:
    """Issue 14: with the per-user cache filled by a first run, `explain` neither imports
    PyYAML nor builds the matcher's index nor compiles the vendors' model globs."""
    import os
    import subprocess
    import sys

    log = tmp_path / "x.jsonl"
    log.write_text('{"ts": "2026-11-20T08:00:00Z", "charger": "CP-1", "dir": "in", "frame": '
                   '[2, "1", "Heartbeat", {}], "ocpp": "1.6"}\n')
    probe = ("import sys\nimport bot.kb.matcher as m\ncalls = []\nbuild = m.build_index\n"
             "m.build_index = lambda kb: calls.append(1) or build(kb)\n"
             "from bot.cli.main import cli\n"
             "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "from bot.kb.loader import default_knowledge\n"
             "print('SEEN', ['yaml' in sys.modules, 'bot.kb.yaml_read' in sys.modules, "
             "len(calls), default_knowledge()._resolver._compiled is None])")
    env = {**os.environ, "FAULTBOT_CACHE_DIR": str(tmp_path / "cache")}
    seen = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", probe, "explain", "--json", str(log)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env=env)
        line = [ln for ln in done.stdout.splitlines() if ln.startswith("SEEN")][-1]
        seen.append(eval(line.removeprefix("SEEN ")))
    assert seen[0][:3] == [True, True, 1]  # the first run parses and builds, and fills
    assert seen[1] == [False, False, 0, True], seen
