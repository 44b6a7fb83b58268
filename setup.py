"""Only what pyproject.toml cannot say: the package list.

pyproject's package-dir maps `bot._knowledge` onto the top-level knowledge/ folder and
`bot._templates` onto templates/, so the wheel carries both (bot/templating.py finds
them). Discovery does not look inside mapped folders, so they are listed here, with
their sub-folders; everything under bot/ is found as usual (namespace folders such as
the migrations included).
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

DATA = {"bot._knowledge": "knowledge", "bot._templates": "templates"}


def data_packages() -> list[str]:
    found = []
    for package, folder in DATA.items():
        root = Path(__file__).parent / folder
        found.append(package)
        found += sorted(
            package + "." + ".".join(d.relative_to(root).parts)
            for d in root.rglob("*")
            if d.is_dir() and "__pycache__" not in d.parts
        )
    return found


setup(
    packages=[
        *find_namespace_packages(include=["bot", "bot.*"], exclude=["*.__pycache__"]),
        *data_packages(),
    ]
)
