"""report: the text report shows evidence (the JSON form is tested in tests/server/test_analysis_json.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mljobs.analyzers import analyze
from mljobs.analyzers.report import render_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "analysis.schema.json").read_text())
EXAMPLES = ROOT / "examples"


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
