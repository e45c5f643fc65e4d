"""Project inputs: entrypoint discovery, reading with PEP 263, and transitive local imports."""

from __future__ import annotations

import pytest

from mljobs.analyzers.errors import AnalysisInputError
from mljobs.analyzers.project import load_project, open_project

GUARD = 'if __name__ == "__main__":\n    pass\n'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"job.py": GUARD, "util.py": "X = 1\n"}, "job.py", id="single_main_guard__chosen"),
        pytest.param({"train.py": GUARD, "eval.py": GUARD}, "train.py", id="two_guards__conventional_name_wins"),
        pytest.param({"main.py": "x = 1\n", "helpers.py": "y = 2\n"}, "main.py", id="no_guard__conventional_name"),
        pytest.param({"only.py": "x = 1\n", "data/a.csv": "1\n"}, "only.py", id="single_script__chosen"),
        pytest.param({"analysis.ipynb": "{}", "README.md": "hi"}, "analysis.ipynb", id="single_notebook__chosen"),
    ],
)
def test_open_project__folder_without_entrypoint__obvious_one(write_tree, files, expected) -> None:
    """The obvious entrypoint is found among the folder's top-level files."""
    assert open_project(write_tree(files)).entrypoint == expected


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({"a.py": GUARD, "b.py": GUARD}, "candidates: a.py, b.py", id="two_guards_no_convention__lists_candidates"),
        pytest.param({"README.md": "hi", "pkg/x.py": ""}, "pass --entrypoint", id="no_top_level_script__says_what_to_do"),
    ],
)
def test_open_project__ambiguous_folder__input_error(write_tree, files, message) -> None:
    """No single obvious entrypoint raises AnalysisInputError with a helpful one-line message."""
    with pytest.raises(AnalysisInputError, match=message) as info:
        open_project(write_tree(files))
    assert "\n" not in str(info.value)


def test_open_project__bad_paths__input_error(tmp_path, write_tree) -> None:
    """Missing paths, entrypoints outside the root and non-Python files are input errors."""
    root = write_tree({"proj/main.py": "x = 1\n", "outside.py": "y = 2\n", "proj/notes.txt": "n"})
    with pytest.raises(AnalysisInputError, match="no such file or folder"):
        open_project(tmp_path / "missing")
    with pytest.raises(AnalysisInputError, match="outside the project folder"):
        open_project(root / "proj", "../outside.py")
    with pytest.raises(AnalysisInputError, match="does not exist"):
        open_project(root / "proj", "nope.py")
    with pytest.raises(AnalysisInputError, match="not a Python script"):
        open_project(root / "proj" / "notes.txt")


def test_open_project__all_files_without_entrypoint__empty_entry(write_tree) -> None:
    """In all-files mode a folder needs no entrypoint."""
    assert open_project(write_tree({"a.py": GUARD, "b.py": GUARD}), all_files=True).entrypoint == ""


@pytest.mark.parametrize(
    ("files", "entry", "expected_files", "expected_local"),
    [
        pytest.param(
            {"main.py": "import helpers\nfrom pkg import models\n", "helpers.py": "import numpy\n",
             "pkg/__init__.py": "", "pkg/models.py": "from .layers import dense\n", "pkg/layers/__init__.py": "",
             "pkg/layers/dense.py": "import torch\n", "unused.py": "import nothing\n"},
            "main.py",
            ["main.py", "helpers.py", "pkg/__init__.py", "pkg/models.py", "pkg/layers/__init__.py", "pkg/layers/dense.py"],
            ["helpers", "pkg", "pkg.layers", "pkg.layers.dense", "pkg.models"],
            id="absolute_from_and_relative__transitive",
        ),
        pytest.param(
            {"run.py": "import mylib.core\n", "src/mylib/__init__.py": "", "src/mylib/core.py": "from . import io\n",
             "src/mylib/io.py": "x = 1\n"},
            "run.py",
            ["run.py", "src/mylib/__init__.py", "src/mylib/core.py", "src/mylib/io.py"],
            ["mylib", "mylib.core", "mylib.io"],
            id="src_layout__resolved",
        ),
        pytest.param(
            {"scripts/train.py": "import common\nimport importlib\nm = importlib.import_module('plugins.a')\n",
             "scripts/common.py": "", "plugins/a.py": "import os\n"},
            "scripts/train.py",
            ["scripts/train.py", "scripts/common.py", "plugins/a.py"],
            ["common", "plugins", "plugins.a"],
            id="entry_dir_on_path_and_dynamic_literal__resolved",
        ),
        pytest.param(
            {"main.py": "import a\n", "a.py": "import b\n", "b.py": "import a\n"},
            "main.py", ["main.py", "a.py", "b.py"], ["a", "b"], id="import_cycle__each_file_once",
        ),
        pytest.param(
            {"main.py": "import torch\nimport ghost_module\nfrom nowhere import thing\n"},
            "main.py", ["main.py"], [], id="modules_that_exist_nowhere__not_local",
        ),
    ],
)
def test_load_project__local_imports__followed_transitively(write_tree, files, entry, expected_files, expected_local) -> None:
    """Local modules are followed breadth-first from the entrypoint; third-party and unknown names are not."""
    project = load_project(write_tree(files), entry)
    assert [s.path for s in project.sources] == expected_files
    assert list(project.local_modules) == expected_local
    assert project.problems == ()


def test_load_project__modules__dotted_names(write_tree) -> None:
    """SourceFile.module is the dotted name relative to the root (src/ dropped in a src layout)."""
    project = load_project(write_tree({"main.py": "import app.cli\n", "src/app/__init__.py": "",
                                       "src/app/cli.py": ""}), "main.py")
    assert [(s.path, s.module) for s in project.sources] == [
        ("main.py", "main"), ("src/app/__init__.py", "app"), ("src/app/cli.py", "app.cli")]


def test_load_project__pep263_latin1__decoded(write_tree) -> None:
    """A latin-1 file with a coding cookie is decoded as declared."""
    code = "# -*- coding: latin-1 -*-\nname = 'café'\nimport numpy\n".encode("latin-1")
    project = load_project(write_tree({"main.py": code}))
    (src,) = project.sources
    assert "café" in src.text and project.problems == ()


def test_load_project__single_file__parent_is_root(write_tree) -> None:
    """A file given alone is analysed with its folder as root, so its sibling modules are found."""
    root = write_tree({"exp/train.py": "import utils\n", "exp/utils.py": "import yaml\n"})
    project = load_project(root / "exp" / "train.py")
    assert project.root == (root / "exp").resolve()
    assert [s.path for s in project.sources] == ["train.py", "utils.py"]
