"""Bad input while reading a project: every case is a Problem, nothing raises, the rest is still analysed."""

from __future__ import annotations

import os

import pytest

from mljobs.analyzers.project import MAX_FILE_BYTES, load_project

GOOD = {"main.py": "import helper\nimport bad\nimport numpy\n", "helper.py": "import pandas\n"}


@pytest.mark.parametrize(
    ("bad", "message", "line"),
    [
        pytest.param("def f(:\n    pass\n", "syntax error", 1, id="syntax_error__problem"),
        pytest.param("import os\n\nprint 'hello'\n", "looks like Python 2 (print statement)", 3, id="python2_print__hint"),
        pytest.param("try:\n    x = 1\nexcept ValueError, e:\n    pass\n", "looks like Python 2", 3, id="python2_except__hint"),
        pytest.param(b"import os\x00\x01\x02binary", "binary file", 1, id="nul_bytes__binary_problem"),
        pytest.param("x = 'caf\u00e9'\n".encode("latin-1"), "not valid utf-8", 1, id="latin1_without_cookie__decode_problem"),
        pytest.param(b"# -*- coding: klingon -*-\nx = 1\n", "bad encoding declaration", 1, id="unknown_cookie__problem"),
        pytest.param("x = " + "(" * 300 + ")" * 300 + "\n", "", 1, id="too_deeply_nested__problem"),
    ],
)
def test_load_project__bad_module__problem_rest_analysed(write_tree, bad, message, line) -> None:
    """A local module that cannot be read is one Problem; the entrypoint and other modules are still parsed."""
    project = load_project(write_tree({**GOOD, "bad.py": bad}), "main.py")
    assert [s.path for s in project.sources] == ["main.py", "helper.py"]
    assert len(project.problems) == 1, project.problems
    (problem,) = project.problems
    assert problem.location.path == "bad.py" and problem.location.line == line
    assert message in problem.message


def test_load_project__entrypoint_syntax_error__problem_not_raise(write_tree) -> None:
    """An entrypoint that does not parse is reported as a Problem; the analysis still returns."""
    project = load_project(write_tree({"main.py": "import numpy\nif True\n"}), "main.py")
    assert project.sources == ()
    assert [p.location.line for p in project.problems] == [2]


def test_load_project__50mb_generated_module__skipped(write_tree, tmp_path) -> None:
    """A huge generated module is skipped unread (a Problem); the rest of the project is analysed."""
    root = write_tree({"main.py": "import generated\nimport helper\n", "helper.py": "import yaml\n"})
    line = b"VALUE_%08d = 'x' * 40\n"
    with open(root / "generated.py", "wb") as fh:
        chunk = b"".join(line % i for i in range(100_000))
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(chunk)
    assert (root / "generated.py").stat().st_size > MAX_FILE_BYTES
    project = load_project(root, "main.py")
    assert [s.path for s in project.sources] == ["main.py", "helper.py"]
    (problem,) = project.problems
    assert problem.location.path == "generated.py" and "MB limit" in problem.message


def test_load_project__symlink_loop__terminates_with_problem(write_tree) -> None:
    """A folder symlink pointing back up the tree is listed once and reported, not followed forever."""
    root = write_tree({"main.py": "import pkg.mod\n", "pkg/__init__.py": "", "pkg/mod.py": "import json\n"})
    os.symlink(root / "pkg", root / "pkg" / "again")
    os.symlink(root / "loop_a", root / "loop_b")
    os.symlink(root / "loop_b", root / "loop_a")  # a cycle of links: broken, must not hang either
    project = load_project(root, "main.py")
    assert [s.path for s in project.sources] == ["main.py", "pkg/__init__.py", "pkg/mod.py"]
    assert [(p.location.path, "already listed" in p.message) for p in project.problems] == [("pkg/again", True)]


def test_load_project__symlink_out_of_root__not_followed(write_tree, tmp_path_factory) -> None:
    """A symlinked module that points outside the project is not read."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.py").write_text("import boto3\n")
    root = write_tree({"main.py": "import secret\n"})
    os.symlink(outside / "secret.py", root / "secret.py")
    project = load_project(root, "main.py")
    assert [s.path for s in project.sources] == ["main.py"]
    assert project.local_modules == ()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_load_project__unreadable_module_and_folder__problems(write_tree) -> None:
    """Permission errors on a module or a folder are Problems; the rest is analysed."""
    root = write_tree({"main.py": "import locked\nimport helper\n", "locked.py": "x = 1\n", "helper.py": "",
                       "private/data.csv": "1\n"})
    os.chmod(root / "locked.py", 0)
    os.chmod(root / "private", 0)
    try:
        project = load_project(root, "main.py")
    finally:
        os.chmod(root / "locked.py", 0o644)
        os.chmod(root / "private", 0o755)
    assert [s.path for s in project.sources] == ["main.py", "helper.py"]
    assert sorted((p.location.path, "permission denied" in p.message) for p in project.problems) == [
        ("locked.py", True), ("private", True)]
