#!/usr/bin/env python3
"""Mutation testing of the core modules, one module at a time (`make mutation`).

mutmut changes one thing in the code (a < for a <=, a dropped term, `match` for
`fullmatch`) and runs the tests that reach it; a mutant the tests do not notice
("survived") is a bug they would miss. Each group below mutates one module and runs
only its own fast tests, in a scratch copy of the repository (.mutation/<group>/),
so groups can run one by one on a small machine and never touch the work tree.

    .ci/mutation.py                   # every group, one after the other
    .ci/mutation.py escape silent     # just these
    .ci/mutation.py --list            # the groups and their tests
    .ci/mutation.py --time-limit 900  # stop a group after 15 min (the rest: unchecked)
    .ci/mutation.py --report          # the figures of the last runs, without running

Prints killed / total per group and over all, and writes .mutation/summary.json.
Exit status 1 when the overall kill rate is under --floor (default 80 %).
Not part of `make test`: a full run takes a long time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"

# group: (files to mutate, pytest arguments selecting its fast tests)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "silent": (
        ["bot/triage/rules/silent.py"],
        ["tests/triage/test_triage_mutants.py", "tests/triage/test_triage_single_rules.py"],
    ),
    "vehicle": (
        ["bot/triage/rules/vehicle.py"],
        ["tests/triage/test_triage_mutants.py", "tests/triage/test_triage_history_rules.py"],
    ),
    "escape": (
        ["bot/slack/escape.py"],
        ["tests/slack/test_slack_escape.py", "tests/slack/test_slack_render.py"],
    ),
    "permissions": (
        ["bot/slack/permissions.py"],
        ["tests/slack/test_slack_policy.py", "tests/slack/test_slack_permissions.py",
         "-k", "not postgresql"],
    ),
    "webhook": (
        ["bot/feeds/webhook.py"],
        ["tests/feeds/test_feeds_webhook_auth.py", "tests/feeds/test_feeds_webhook.py",
         "tests/feeds/test_feeds_envelope.py", "tests/feeds/test_feeds_mutants_webhook.py",
         "-k", "not postgresql"],
    ),
    "ocpp-parse": (
        ["bot/ocpp/parse.py"],
        ["tests/ocpp"],
    ),
    "matcher": (
        ["bot/kb/matcher.py"],
        ["tests/kb/test_kb_matcher.py", "tests/kb/test_kb_vendors.py",
         "tests/kb/test_kb_vendor_errorcode.py", "tests/kb/test_kb_unknown_chargers.py",
         "tests/kb/test_kb_mutants_matcher.py", "tests/kb/test_kb_code_reader.py",
         "tests/kb/test_kb_runtime.py", "tests/kb/test_kb_agreement.py",
         "tests/kb/test_kb_scope_discipline.py", "tests/kb/test_kb_standard_aliases.py",
         "-k", "not postgresql"],
    ),
    "incidents": (
        ["bot/incidents/manager.py"],
        ["tests/incidents", "-k", "not postgresql"],
    ),
}
# The other rule files in four groups of similar size (silent and vehicle have theirs
# above), so that each group finishes in a bounded time on a small machine.
for _name, _files in {
    "rules-core": ("__init__", "base"),
    "rules-phantom": ("phantom", "site_wide"),
    "rules-power": ("modifiers", "safety", "hardware"),
    "rules-simple": ("no_information", "quirks", "charging", "kb_match", "estop"),
    "rules-energy": ("energy",),
}.items():
    GROUPS[_name] = ([f"bot/triage/rules/{f}.py" for f in _files], ["tests/triage"])
COPY = ["bot", "tests", "knowledge", "templates", "pyproject.toml", "README.md"]
# mutmut's exit codes per mutant (mutmut/stats.py: status_by_exit_code).
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3}, {0}, {5, 33}, {24, 36, 152, 255, -24}


def prepare(group: str) -> Path:
    files, tests = GROUPS[group]
    work = WORK / group
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, work / name)
    text = (work / "pyproject.toml").read_text()
    section = "\n[tool.mutmut]\n" + "\n".join(
        [
            'source_paths = ["bot"]',
            f"only_mutate = {json.dumps(files)}",
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q"]',
            'also_copy = ["knowledge", "templates", "README.md"]',
            "mutate_only_covered_lines = false",
        ]
    ) + "\n"
    (work / "pyproject.toml").write_text(text + section)
    return work


def tally(work: Path) -> dict[str, int]:
    counts = {"killed": 0, "survived": 0, "no_tests": 0, "timeout": 0, "other": 0,
              "unfinished": 0}
    for meta in (work / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text())
        for code in (data.get("exit_code_by_key") or {}).values():
            if code is None:
                counts["unfinished"] += 1
            elif code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
            elif code in NO_TESTS:
                counts["no_tests"] += 1
            elif code in TIMEOUT:
                counts["timeout"] += 1
            else:
                counts["other"] += 1
    return counts


def run_group(group: str, time_limit: float, children: int) -> dict[str, object]:
    work = prepare(group)
    env = {**os.environ, "FAULTBOT_REQUIRE_SERVICES": "0"}
    started = time.monotonic()
    cmd = [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children", str(children)]
    log = (WORK / f"{group}.log").open("w")
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=time_limit)
        finished = proc.returncode == 0
    except subprocess.TimeoutExpired:
        finished = False
    finally:
        log.close()
    return figures(group, finished, round(time.monotonic() - started))


def figures(group: str, finished: bool, seconds: int | None) -> dict[str, object]:
    counts = tally(WORK / group)
    # Mutants a time limit left unchecked are reported, not counted either way.
    total = sum(counts.values()) - counts["unfinished"]
    # A timeout also means the tests noticed something (the code no longer finishes).
    caught = counts["killed"] + counts["timeout"]
    return {
        "group": group,
        "files": GROUPS[group][0],
        "tests": GROUPS[group][1],
        **counts,
        "total": total,
        "kill_rate": round(100.0 * caught / total, 1) if total else None,
        "finished": finished and counts["unfinished"] == 0,
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help="groups to run (default: all)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--time-limit", type=float, default=3600, help="seconds per group")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--floor", type=float, default=80.0)
    parser.add_argument("--report", action="store_true",
                        help="only tally the groups' last runs (in .mutation/), run nothing")
    args = parser.parse_args()
    if args.list:
        for name, (files, tests) in GROUPS.items():
            print(f"{name:12} {' '.join(files)}  <- {' '.join(tests)}")
        return 0
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; see --list")
    WORK.mkdir(exist_ok=True)
    results = []
    for group in args.groups or list(GROUPS):
        if args.report:
            if not (WORK / group / "mutants").is_dir():
                continue
            result = figures(group, True, None)
        else:
            print(f"mutation: {group} ...", flush=True)
            result = run_group(group, args.time_limit, args.max_children)
        results.append(result)
        print(
            f"  {group}: {result['killed']} killed + {result['timeout']} timed out of "
            f"{result['total']} mutants = {result['kill_rate']} %; survived "
            f"{result['survived']}, no tests {result['no_tests']}"
            + ("" if result["finished"] else
               f" (UNFINISHED: {result['unfinished']} mutants not checked in the time limit)"),
            flush=True,
        )
    killed = sum(int(r["killed"]) + int(r["timeout"]) for r in results)  # type: ignore[call-overload]
    total = sum(int(r["total"]) for r in results)  # type: ignore[call-overload]
    rate = 100.0 * killed / total if total else 0.0
    if not args.report:
        (WORK / "summary.json").write_text(
            json.dumps({"groups": results, "kill_rate": rate}, indent=2)
        )
    print(f"mutation: {killed} of {total} mutants killed = {rate:.1f} % (floor {args.floor} %)")
    print(f"  survivors: cd .mutation/<group> && {sys.executable} -m mutmut results")
    return 0 if rate >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
