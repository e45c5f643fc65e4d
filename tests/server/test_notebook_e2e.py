"""A notebook planned, submitted and run on the local pool, like a script (issue 10 item 5 done-when)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mljobs.server.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "iris_quickstart.ipynb"
pytestmark = pytest.mark.slow


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_notebook__pip_display_plain_cells__planned_submitted_done(capsys, tmp_path) -> None:
    """`%pip install`, `%matplotlib`, `display()`, `!echo` and plain cells: the plan is ready and shows the
    converted script, the job ends DONE with the notebook's outputs, and the user's folder is untouched."""
    folder = tmp_path / "nb"
    folder.mkdir()
    notebook = folder / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook)

    code, out, _ = run(capsys, "plan", str(notebook), "--backend", "local", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["ready"], plan["preflight"]
    assert plan["plan"]["notebook"] == "iris_quickstart.ipynb" and plan["plan"]["entrypoint"] == "iris_quickstart.py"
    assert "# %% [cell 5]" in plan["notebook_script"] and "display(df.head())" in plan["notebook_script"]
    assert not any("scikit-learn" in r or "pandas" in r for r in plan["plan"]["pip_requirements"])  # installed here

    code, out, _ = run(capsys, "submit", str(notebook), "--backend", "local", "--yes")
    assert code == 0
    job = out.strip()
    code, out, err = run(capsys, "wait", job, "--timeout", "180")
    assert (code, out.strip()) == (0, "DONE"), err
    code, out, _ = run(capsys, "logs", job)
    assert "accuracy:" in out and "training finished" in out and "petal width" in out  # print, !echo, display
    code, out, _ = run(capsys, "result", job, "--json")
    artifacts = json.loads(out)["artifacts"]
    metrics = next(Path(a) for a in artifacts if a.endswith("metrics.json"))
    assert json.loads(metrics.read_text())["accuracy"] > 0.8
    assert sorted(p.name for p in folder.iterdir()) == ["iris_quickstart.ipynb"]  # nothing written beside it


def test_notebook__failing_cell__logs_and_diagnosis_name_the_cell(capsys, tmp_path) -> None:
    """A traceback in the job names the notebook cell and line, not only the converted script's line."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# fails\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["%pip install -q pyyaml\n", "import yaml\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["rows = []\n", "mean = sum(rows) / len(rows)\n"]},
    ]
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {"language_info": {"name": "python"}},
                                    "nbformat": 4, "nbformat_minor": 5}))
    code, out, _ = run(capsys, "submit", str(notebook), "--backend", "local", "--yes")
    job = out.strip()
    code, out, _ = run(capsys, "wait", job, "--timeout", "120")
    assert out.strip() == "FAILED"
    code, out, _ = run(capsys, "logs", job)
    assert "ZeroDivisionError" in out and "[notebook cell 3, line 2]" in out, out


def test_notebook__in_a_project_with_local_modules__submit_directory_done(capsys, tmp_path) -> None:
    """A notebook importing a module beside it runs from the project folder; the folder itself is not written."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "helpers.py").write_text("def score(values):\n    return sum(values) / len(values)\n")
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["%load_ext autoreload\n", "%autoreload 2\n", "from helpers import score\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["result = score([1, 2, 3])\n", "display(result)\n"]},
    ]
    (project / "analysis.ipynb").write_text(json.dumps(
        {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}))
    code, out, _ = run(capsys, "plan", str(project), "--entrypoint", "analysis.ipynb", "--backend", "local", "--json")
    plan = json.loads(out)
    assert plan["ready"] and plan["plan"]["method"] == "submit_directory", plan
    assert plan["plan"]["entrypoint"] == "analysis.py" and plan["plan"]["notebook"] == "analysis.ipynb"
    code, out, _ = run(capsys, "submit", str(project), "--entrypoint", "analysis.ipynb", "--backend", "local", "--yes")
    job = out.strip()
    code, out, err = run(capsys, "wait", job, "--timeout", "120")
    assert out.strip() == "DONE", err
    code, out, _ = run(capsys, "logs", job)
    assert "2.0" in out
    assert sorted(p.name for p in project.iterdir()) == ["analysis.ipynb", "helpers.py"]
