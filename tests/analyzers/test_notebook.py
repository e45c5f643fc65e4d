"""parse_notebook: code cells joined with magics blanked, cell-relative locations, bad notebooks as Problems."""

from __future__ import annotations

import json

import pytest

from mljobs.analyzers.imports import scan_imports
from mljobs.analyzers.notebook import parse_notebook
from tests.conftest import make_notebook


def test_parse_notebook__code_cells__cell_relative_locations() -> None:
    """Imports in later cells get the cell number Jupyter shows (markdown cells counted) and in-cell lines."""
    nb = make_notebook([
        ("markdown", "# Title"),
        ("code", "import pandas as pd\n"),
        ("code", "x = 1\n\nimport torch\n"),
    ])
    src, problems = parse_notebook(nb, "eda.ipynb")
    assert src is not None and problems == ()
    got = [(f.module, f.location.cell, f.location.line) for f in scan_imports(src)]
    assert got == [("pandas", 2, 1), ("torch", 3, 3)]
    assert src.is_notebook


@pytest.mark.parametrize(
    ("cell", "magic_texts", "imports"),
    [
        pytest.param("%pip install xgboost\nimport xgboost\n", ["%pip install xgboost"], [("xgboost", 2)],
                     id="pip_magic__blanked_and_recorded"),
        pytest.param("!pip install a \\\n    b\nimport numpy\n", ["!pip install a b"], [("numpy", 3)],
                     id="shell_with_continuation__both_lines_blanked"),
        pytest.param("files = !ls\nimport os\n", ["files = !ls"], [("os", 2)], id="assigned_shell__blanked"),
        pytest.param("%%bash\necho hi\nimport nope\n", ["%%bash"], [], id="bash_cell_magic__whole_cell_blanked"),
        pytest.param("%%time\nimport sklearn\n", ["%%time"], [("sklearn", 2)], id="time_cell_magic__body_is_python"),
        pytest.param("df?\nimport scipy\n", ["df?"], [("scipy", 2)], id="help_line__blanked"),
    ],
)
def test_parse_notebook__magics__blanked_lines_stay_right(cell: str, magic_texts: list[str], imports: list) -> None:
    """Magic lines become blank (line numbers unchanged) and are kept as (line, text)."""
    src, problems = parse_notebook(make_notebook([("code", cell)]), "nb.ipynb")
    assert src is not None and problems == ()
    assert [text for _, text in src.magics] == magic_texts
    assert [(f.module, f.location.line) for f in scan_imports(src)] == imports


def test_parse_notebook__syntax_error_cell__dropped_with_problem_others_kept() -> None:
    """A cell that does not parse is a Problem naming the cell; the other cells are analysed."""
    nb = make_notebook([("code", "import numpy\n"), ("code", "def broken(:\n"), ("code", "import pandas\n")])
    src, problems = parse_notebook(nb, "nb.ipynb")
    assert src is not None
    assert [f.module for f in scan_imports(src)] == ["numpy", "pandas"]
    assert len(problems) == 1 and problems[0].location.cell == 2 and "syntax error in cell 2" in problems[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param("{not json", "not valid notebook JSON", id="broken_json__problem"),
        pytest.param("[1, 2]", "not an object", id="json_list__problem"),
        pytest.param(json.dumps({"nbformat": 4, "metadata": {}}), "no list of cells", id="missing_cells__problem"),
        pytest.param(make_notebook([("code", "library(dplyr)")], language="R"), "not Python",
                     id="r_kernel__problem"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "not valid notebook JSON", id="binary__problem"),
    ],
)
def test_parse_notebook__bad_notebook__problem_no_source(data: str | bytes, message: str) -> None:
    """Invalid or non-Python notebooks give no SourceFile and one Problem; nothing raises."""
    src, problems = parse_notebook(data, "nb.ipynb")
    assert src is None
    assert len(problems) == 1 and message in problems[0].message


def test_parse_notebook__kernelspec_language_only__accepted() -> None:
    """Without language_info, a kernelspec language of python is accepted."""
    nb = json.dumps({"nbformat": 4, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
                     "cells": [{"cell_type": "code", "source": "import json\n", "metadata": {}, "outputs": []}]})
    src, problems = parse_notebook(nb, "nb.ipynb")
    assert src is not None and problems == ()
    assert [f.module for f in scan_imports(src)] == ["json"]
