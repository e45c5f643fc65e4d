"""The public JSON form of an Analysis: built from the analyzers' dataclasses, its schema generated from the model
(and checked in), real analyses of the examples valid against the file, credentials redacted."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from mljobs.analyzers import analyze
from mljobs.analyzers.model import Confidence
from mljobs.server.analysis_json import AnalysisOut, schema_text
from mljobs.server.cli import main

from tests.conftest import make_notebook

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "analysis.schema.json"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _dump(analysis) -> dict:
    return json.loads(AnalysisOut.from_analysis(analysis).model_dump_json())


def _validate(validator, data: dict) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_schema_file__equals_the_model__regenerate_when_it_differs() -> None:
    """schemas/analysis.schema.json is generated from AnalysisOut; an edit to either side without the other fails."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "regenerate: python -m mljobs.server.analysis_json > schemas/analysis.schema.json"
    )


def test_schema__confidence__spelled_by_the_enum() -> None:
    """Confidence values come from the analyzers' enum, the one source (no 'possible' anywhere)."""
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert sorted(c.value for c in Confidence) == ["certain", "guess", "likely"]
    assert '"guess"' in text and "possible" not in text


@pytest.mark.parametrize("target", ["train_classifier.py", "finetune_gpu.py", "project", "eda.ipynb"])
def test_from_analysis__examples__valid_against_the_schema_file(rules, validator, target) -> None:
    data = _dump(analyze(EXAMPLES / target, rules=rules))
    _validate(validator, data)
    for key in ("entrypoint", "compute", "packages", "local_modules", "network", "io", "method"):
        assert key in data


def test_from_analysis__problems_and_notebook_cells__valid(rules, validator, write_tree) -> None:
    nb = make_notebook([("code", "%pip install lightgbm\nimport lightgbm\n"), ("code", "def broken(:\n")])
    root = write_tree({"nb.ipynb": nb, "requirements.txt": "lightgbm>=4\n"})
    data = _dump(analyze(root / "nb.ipynb", rules=rules))
    _validate(validator, data)
    assert data["problems"][0]["cell"] == 2
    assert data["packages"][0]["evidence"][0]["cell"] == 1


def test_from_analysis__evidence_limit__caps_every_finding(rules) -> None:
    """The MCP answer keeps the first N evidence lines per finding; the CLI form keeps all."""
    analysis = analyze(EXAMPLES / "finetune_gpu.py", rules=rules)
    full = AnalysisOut.from_analysis(analysis)
    capped = AnalysisOut.from_analysis(analysis, evidence_limit=1)
    assert len(full.compute.evidence) > 1 and len(capped.compute.evidence) == 1
    assert capped.compute.evidence[0] == full.compute.evidence[0]
    evidence = [*full.compute.evidence, *(e for p in full.packages for e in p.evidence)]
    assert all(e.path == "finetune_gpu.py" and e.line >= 1 and e.code for e in evidence)


def test_from_analysis__credentials_in_code__redacted(rules, write_tree) -> None:
    root = write_tree({"main.py": "import requests\nrequests.get('https://user:s3cr3t@data.example.com/x.csv')\n"})
    assert "s3cr3t" not in AnalysisOut.from_analysis(analyze(root, rules=rules)).model_dump_json()


def test_cli_analyze_json__same_form__valid(validator, capsys) -> None:
    """`mljobs analyze --json` prints the same model (without the MCP-only next_step)."""
    assert main(["analyze", "--json", "--no-cache", str(EXAMPLES / "train_classifier.py")]) == 0
    data = json.loads(capsys.readouterr().out)
    _validate(validator, data)
    assert "next_step" not in data and data["method"]["method"] == "submit_file"
