"""report: the public JSON form validates against schemas/analysis.schema.json; the text report shows evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from mljobs.analyzers import analyze
from mljobs.analyzers.report import analysis_to_dict, render_text
from tests.conftest import make_notebook

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "analysis.schema.json").read_text())
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def validator():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def _validate(validator, data: dict) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.mark.parametrize(
    "target",
    ["train_classifier.py", "finetune_gpu.py", "project", "eda.ipynb"],
)
def test_analysis_to_dict__examples__valid_against_schema(rules, validator, target) -> None:
    """Real analyses of the examples are valid JSON documents of the published schema."""
    data = analysis_to_dict(analyze(EXAMPLES / target, rules=rules))
    _validate(validator, json.loads(json.dumps(data)))
    for key in ("entrypoint", "compute", "packages", "local_modules", "network", "io", "method"):
        assert key in data


def test_analysis_to_dict__problems_and_notebook_cells__valid(rules, validator, write_tree) -> None:
    """Problems, notebook cell locations, multi-file trees and declared requirements validate too."""
    nb = make_notebook([("code", "%pip install lightgbm\nimport lightgbm\n"), ("code", "def broken(:\n")])
    root = write_tree({"nb.ipynb": nb, "requirements.txt": "lightgbm>=4\n"})
    data = analysis_to_dict(analyze(root / "nb.ipynb", rules=rules))
    _validate(validator, data)
    assert data["problems"][0]["cell"] == 2
    assert data["packages"][0]["evidence"][0]["cell"] == 1


def test_analysis_to_dict__evidence__file_line_code(rules) -> None:
    """Every evidence entry carries path, line and non-empty code."""
    data = analysis_to_dict(analyze(EXAMPLES / "finetune_gpu.py", rules=rules))
    evidence = [e for e in data["compute"]["evidence"]]
    evidence += [e for p in data["packages"] for e in p["evidence"]]
    evidence += [e for n in data["network"] for e in n["evidence"]]
    assert evidence
    assert all(e["path"] == "finetune_gpu.py" and e["line"] >= 1 and e["code"] for e in evidence)


def test_analysis_to_dict__credentials_in_code__redacted(rules, write_tree) -> None:
    """A token in a URL in the user's code never reaches the JSON."""
    root = write_tree({"main.py": "import requests\nrequests.get('https://user:s3cr3t@data.example.com/x.csv')\n"})
    text = json.dumps(analysis_to_dict(analyze(root, rules=rules)))
    assert "s3cr3t" not in text


def test_render_text__gpu_example__sections_and_evidence_lines(rules) -> None:
    """The text report names the verdict with `path:line: code — reason` lines and every section."""
    text = render_text(analyze(EXAMPLES / "finetune_gpu.py", rules=rules))
    assert text.splitlines()[0].startswith("mljobs analysis of finetune_gpu.py")
    assert "Compute: GPU" in text
    assert re.search(r"^    finetune_gpu\.py:\d+: .+ — .+$", text, re.MULTILINE)
    for section in ("Packages (runtime", "Network:", "IO:", "Method: submit_file"):
        assert section in text
    assert "huggingface:" in text


def test_render_text__problems__listed_with_location(rules, write_tree) -> None:
    """Problems are listed with their rendered location."""
    root = write_tree({"main.py": "import helper\n", "helper.py": b"\x00\x01"})
    text = render_text(analyze(root, rules=rules))
    assert "Problems (1):" in text and "helper.py:1:1: binary file" in text
