"""Every package folder is installed: pyproject lists each folder that has an __init__.py."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject__lists__every_package_folder() -> None:
    """A new subpackage that is not in [tool.setuptools] packages would be missing from the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = config["package-dir"]
    expected = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join((package, *rel)))
    assert expected - listed == set(), f"add to pyproject packages: {sorted(expected - listed)}"
