"""Notebook pip lines run only where their branch runs: a Colab- or Kaggle-only branch never runs in a job."""

from __future__ import annotations

import json
from pathlib import Path

from mljobs.analyzers import analyze


def _notebook(tmp_path: Path, *cells: str) -> Path:
    nb = {"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                    for c in cells],
          "metadata": {"kernelspec": {"language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_pip_in_environment_branch__not_installed(tmp_path: Path, rules) -> None:
    path = _notebook(
        tmp_path,
        "import os\niskaggle = os.environ.get('KAGGLE_KERNEL_RUN_TYPE', '')\nif iskaggle:\n    !pip install -Uqq kagglething\n",
        "if 'google.colab' in str(get_ipython()):\n    !pip install -q colabthing\nelse:\n    !pip install -q localthing\n",
    )
    a = analyze(path, rules=rules)
    names = {p.distribution for p in a.packages}
    assert "localthing" in names
    assert not {"kagglething", "colabthing"} & names
    assert not any("syntax error" in p.message for p in a.problems)  # a magic alone in a block still parses


def test_colab_only_import__problem_not_package(tmp_path: Path, rules) -> None:
    path = _notebook(tmp_path, "from google.colab import userdata\nimport numpy\n")
    a = analyze(path, rules=rules)
    assert "google-colab" not in {p.distribution for p in a.packages}
    assert any("exists only in Google Colab" in p.message for p in a.problems)
