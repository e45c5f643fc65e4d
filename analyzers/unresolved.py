"""Imports nothing provides: missing local modules versus unresolved packages, each a Problem to answer.

An import that no project file, standard-library module, curated entry, installed package or declaration
provides is never turned into a pip install: the name guessed from it may belong to someone else on PyPI
(dependency confusion; issue 10 saw `from TaxiFareModel.utils import ...`, its folder absent, become
`pip install taxifaremodel`). When the name looks like the project's own code — the project folder's name,
a folder or file elsewhere in the tree or beside it, a relative import, a capitalised package name — it is
reported as a missing local module; otherwise as an unresolved import. Either way the user decides.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from .model import ImportFinding, ImportKind, PackageFinding, PackageStatus, Problem
from .project import LocalResolver, ProjectTree


def _norm(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


def _stems(tree: ProjectTree) -> dict[str, str]:
    """Normalised folder names and .py stems of the tree -> the first file (in listing order) that has it:
    built once per analysis, so each unresolved name is one lookup instead of a scan of every path."""
    first: dict[str, str] = {}
    normed: dict[str, str] = {}
    for rel in tree.files:
        parts = rel.split("/")
        stems = [*parts[:-1], posixpath.splitext(parts[-1])[0] if parts[-1].endswith(".py") else ""]
        for part in stems:
            if not part:
                continue
            key = normed.get(part)
            if key is None:
                key = normed[part] = _norm(part)
            first.setdefault(key, rel)
    return first


def _local_reason(name: str, tree: ProjectTree, siblings: frozenset[str], stems: dict[str, str]) -> str | None:
    """Why an unresolved top-level import name looks like the project's own code, or None."""
    key = _norm(name)
    if key == _norm(tree.root.name):
        return f"it is named like the project folder {tree.root.name!r}"
    rel = stems.get(key)
    if rel is not None:
        return f"{rel} exists in the project but is not importable as {name} from the entrypoint's folder"
    if key in siblings:
        return f"a folder or file named {name} sits next to the project folder (outside what is analysed)"
    if re.search(r"[A-Z]", name[1:]) and name[:1].isupper():
        return f"{name} is capitalised like a project package (PyPI import names rarely are)"
    return None


def _siblings(root: Path) -> frozenset[str]:
    """Names of the folders and .py files beside the project folder (one listing; unreadable: none)."""
    try:
        return frozenset(_norm(p.stem if p.suffix == ".py" else p.name) for p in root.parent.iterdir()
                         if p != root and (p.is_dir() or p.suffix == ".py"))
    except OSError:
        return frozenset()


def split_unresolved(
    packages: Sequence[PackageFinding],
    imports_by_file: Iterable[tuple[str, Sequence[ImportFinding]]],
    tree: ProjectTree,
    resolver: LocalResolver,
) -> tuple[tuple[PackageFinding, ...], tuple[str, ...], tuple[Problem, ...]]:
    """Take missing local modules out of the packages and turn every unresolved import into a Problem.

    Args:
        packages: the packages pass' findings (UNRESOLVED ones are only identity guesses).
        imports_by_file: (relative path, import findings) of every analysed file, relative imports included.
        tree: the project listing (its root folder name, its files).
        resolver: the project's local-module resolver, for relative imports.

    Returns:
        (packages without the missing local modules, dotted names of missing local modules, problems).
        An optional import (under try/except ImportError) that is unresolved gives no Problem: the code
        runs without it.
    """
    siblings: frozenset[str] | None = None
    stems: dict[str, str] = {}
    kept: list[PackageFinding] = []
    missing: list[str] = []
    problems: list[Problem] = []
    for pkg in packages:
        if pkg.status is not PackageStatus.UNRESOLVED:
            kept.append(pkg)
            continue
        name = pkg.import_name.split(".", 1)[0]
        if siblings is None:
            siblings = _siblings(tree.root)
            stems = _stems(tree)
        reason = _local_reason(name, tree, siblings, stems) if name else None
        if reason is None:
            kept.append(pkg)
            if not pkg.optional:
                for ev in pkg.evidence[:3]:
                    problems.append(Problem(ev.location, (
                        f"unresolved import {pkg.import_name}: no project file, standard-library module, curated "
                        "entry, installed package or declared requirement provides it, so nothing is installed "
                        f"for it (guessing the PyPI name {pkg.distribution!r} invites dependency confusion). If it "
                        "is a PyPI package, declare its real distribution (requirements.txt or an extra pip "
                        "requirement); if it is your code, add the file to the project")))
            continue
        missing.append(name)
        for ev in pkg.evidence[:3]:
            problems.append(Problem(ev.location, (
                f"missing local module {name}: {ev.code} needs it, but the project has no {name}.py or {name}/ "
                f"where Python looks ({reason}); add it to the project folder and submit the folder. It is not "
                "installed from PyPI by its name: a package there with that name may be someone else's code (if it "
                "really is a PyPI package, declare its distribution)")))
    for rel, findings in imports_by_file:
        for imp in findings:
            if imp.level == 0 or imp.kind is ImportKind.PIP_MAGIC or not imp.module:
                continue
            if not resolver.resolve(imp, rel):
                dotted = "." * imp.level + imp.module
                missing.append(dotted)
                problems.append(Problem(imp.location, (
                    f"missing local module {dotted}: the relative import {imp.evidence} finds no file in the "
                    "project; add it to the project folder and submit the folder")))
    return tuple(kept), tuple(dict.fromkeys(missing)), tuple(problems)
