"""The built wheel works on its own: installed into a fresh virtual environment outside
the checkout, `faultbot --version` and `faultbot demo` run from another directory and
read the knowledge base and templates shipped inside the package.

The dependencies come from the package index (or pip's cache), as any user's install
would; nothing is borrowed from the test's own environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from importlib.metadata import version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a wheel is built from (a copy, so the build leaves nothing in the checkout).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "bot", "knowledge", "templates")


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """Our environment without anything that would point the installed package back at
    the checkout (overrides, PYTHONPATH, a virtualenv, the database)."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "DATABASE_URL", "PYTHONHOME")
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith(("FAULTBOT_", "SLACK_"))}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the fresh venv's bin folder, a working directory far from the checkout)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    env = _clean_env()
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(root / "dist"),
          "--quiet"], cwd=root, env=env)
    wheels = list((root / "dist").glob("faultbot-*.whl"))
    assert len(wheels) == 1, wheels

    target = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    bin_dir = target / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
         cwd=root, env=env)
    work = root / "elsewhere"
    work.mkdir()
    return bin_dir, work


@pytest.mark.slow
def test_wheel_version_and_demo_from_anywhere(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    env = _clean_env()
    out = _run([str(bin_dir / "faultbot"), "--version"], cwd=work, env=env)
    assert version("faultbot") in out

    # The package reads its own copies, not the checkout's.
    where = _run([str(bin_dir / "python"), "-c",
                  "import bot; from bot.kb.loader import default_root;"
                  "from bot.templating import template_root;"
                  "print(bot.__file__); print(default_root()); print(template_root())"],
                 cwd=work, env=env).splitlines()
    package = Path(where[0]).parent
    assert package.is_relative_to(bin_dir.parent), where
    assert Path(where[1]) == package / "_knowledge"
    assert Path(where[2]) == package / "_templates"
    assert (package / "_knowledge" / "vendors" / "alfen.yaml").is_file()

    demo = _run([str(bin_dir / "faultbot"), "demo"], cwd=work, env=env, timeout=600)
    assert "faultbot demo: the whole product on a bundled sample feed" in demo  # a template
    assert "emergency stop" in demo  # a knowledge-base answer
    assert "CP-005" in demo and "Depot North" in demo
    assert list(work.iterdir()) == []  # the demo keeps nothing behind

    stats = _run([str(bin_dir / "faultbot"), "kb", "stats"], cwd=work, env=env)
    ours = _run([sys.executable, "-m", "bot.cli.main", "kb", "stats"], cwd=REPO, env=env)
    assert stats == ours  # the whole knowledge base made it into the wheel


@pytest.mark.slow
def test_wheel_honours_the_overrides(installed: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, work = installed
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    demo_template = templates / "answers" / "demo.j2"
    demo_template.write_text(demo_template.read_text().replace(
        "faultbot demo: the whole product", "faultbot demo (our own wording): the whole product"))
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", knowledge)
    (knowledge / "vendors" / "keba.yaml").unlink()

    env = {**_clean_env(), "FAULTBOT_TEMPLATES_DIR": str(templates),
           "FAULTBOT_KNOWLEDGE_DIR": str(knowledge)}
    demo = _run([str(bin_dir / "faultbot"), "demo"], cwd=work, env=env, timeout=600)
    assert "faultbot demo (our own wording): the whole product" in demo
    stats = _run([str(bin_dir / "faultbot"), "kb", "stats"], cwd=work, env=env)
    bundled = _run([str(bin_dir / "faultbot"), "kb", "stats"], cwd=work, env=_clean_env())
    assert "KEBA" in bundled and "KEBA" not in stats
