"""Notebook -> job script: IPython-only lines made plain Python, cells traceable (issue 10 item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mljobs.analyzers.nbscript import NotebookScript, map_traceback, notebook_to_script, script_line_to_cell


def make_notebook(*cells: str | tuple[str, str], language: str = "python") -> str:
    """ipynb JSON; a plain string is a code cell, ("markdown", text) another kind."""
    out = []
    for cell in cells:
        kind, text = cell if isinstance(cell, tuple) else ("code", cell)
        out.append({"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {})})
    return json.dumps({"cells": out, "metadata": {"language_info": {"name": language}}, "nbformat": 4,
                       "nbformat_minor": 5})


def convert(*cells: str | tuple[str, str]) -> NotebookScript:
    result = notebook_to_script(make_notebook(*cells), "nb.ipynb")
    assert isinstance(result, NotebookScript), result
    compile(result.script, "nb.py", "exec")  # always valid Python
    return result


@pytest.mark.parametrize(
    ("cell", "expected", "absent"),
    [
        pytest.param("%pip install -q optuna==4.0\nimport optuna", "pass  # mljobs: installed through", "%pip",
                     id="pip_magic__commented"),
        pytest.param("!pip install \\\n   xgboost\nx = 1", "# mljobs: continued above", None,
                     id="pip_continuation__same_line_count"),
        pytest.param("files = !ls data\nprint(files)", "files = []  # mljobs: was files = !ls data", None,
                     id="assigned_shell__empty_list"),
        pytest.param("!wget -q https://x.org/d.csv", "__import__('subprocess').run('wget -q https://x.org/d.csv'",
                     None, id="shell__runs_like_the_kernel"),
        pytest.param("!echo {name}", "pass  # mljobs: shell line with IPython expansion", "subprocess",
                     id="shell_with_expansion__not_run"),
        pytest.param("%time model = fit()", "model = fit()  # mljobs: was %time", None, id="time__runs_once"),
        pytest.param("%timeit -n 3 -r 1 f()", "f()  # mljobs: was %timeit", None, id="timeit_options_dropped"),
        pytest.param("%cd data", "_mljobs_os.chdir('data')", None, id="cd"),
        pytest.param("%env TOKENIZERS_PARALLELISM=false", "environ['TOKENIZERS_PARALLELISM'] = 'false'", None,
                     id="env"),
        pytest.param("%run prep.py", "run_path('prep.py', run_name='__main__')", None, id="run"),
        pytest.param("for i in range(2):\n    %time f(i)", "    f(i)  # mljobs: was %time", None,
                     id="magic_inside_block__indent_kept"),
        pytest.param("%%time\nx = train()", "x = train()", None, id="python_cell_magic__body_kept"),
        pytest.param("%%bash\necho hi", "# echo hi", None, id="bash_cell__commented"),
        pytest.param("df.head?", "pass  # mljobs: help lookup", None, id="help_line"),
    ],
)
def test_notebook_to_script__ipython_lines__plain_python(cell: str, expected: str, absent: str | None) -> None:
    result = convert(cell)
    assert expected in result.script, result.script
    if absent:
        body = result.script.split("# %% [cell 1]", 1)[1]
        assert all(absent not in line.split("#", 1)[0] for line in body.splitlines())
    # every cell line stays on one script line
    assert len(result.script.split("# %% [cell 1]\n", 1)[1].splitlines()) == len(cell.splitlines())


def test_notebook_to_script__writefile__writes_the_exact_text(tmp_path: Path) -> None:
    body = "TEXT = 'say \"\"\"hi\"\"\"'\nprint(TEXT)\n"
    result = convert(f"%%writefile helper.py\n{body.rstrip()}", "import helper")
    (tmp_path / "nb.py").write_text(result.script)
    run = subprocess.run([sys.executable, "nb.py"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "helper.py").read_text() == body and 'say """hi"""' in run.stdout


def test_notebook_to_script__display_and_get_ipython__run_without_a_kernel(tmp_path: Path) -> None:
    """display() prints and get_ipython() calls do nothing, so a notebook runs as a plain script."""
    result = convert(("markdown", "# title"), "%matplotlib inline\nx = {'a': 1}",
                     "display(x)\nget_ipython().run_line_magic('load_ext', 'autoreload')\nprint('end')")
    (tmp_path / "nb.py").write_text(result.script)
    run = subprocess.run([sys.executable, "nb.py"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["{'a': 1}", "end"]


def test_notebook_to_script__imported_display__no_shim() -> None:
    result = convert("from IPython.display import display\ndisplay(1)")
    assert "def display" not in result.script


def test_script_line_to_cell__and_map_traceback__name_cell_and_line(tmp_path: Path) -> None:
    result = convert(("markdown", "intro"), "import math\n", "x = 1\ny = 0\nz = x / y")
    (tmp_path / "nb.py").write_text(result.script)
    run = subprocess.run([sys.executable, "nb.py"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "ZeroDivisionError" in run.stderr
    mapped = map_traceback(run.stderr, "nb.py", result.script)
    assert "[notebook cell 3, line 3]" in mapped, mapped
    assert script_line_to_cell(result.script, 1) is None  # the prelude is no cell


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param("{not json", "not valid notebook JSON", id="bad_json"),
        pytest.param('{"cells": 3}', "no list of cells", id="no_cells"),
        pytest.param(make_notebook("x <- 1", language="R"), "runs a r kernel", id="r_kernel"),
    ],
)
def test_notebook_to_script__not_a_python_notebook__reason(data: str, reason: str) -> None:
    result = notebook_to_script(data, "nb.ipynb")
    assert isinstance(result, str) and reason in result
