"""`mljobs analyze`: text and JSON output, bad input as one error line with exit 2, and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mljobs.server import cli
from mljobs.server.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _only_analyze_verb(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs load only this verb's module, so these tests do not depend on the other verbs."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("analyze_cmd",))


def test_analyze_cmd__script__text_report(capsys) -> None:
    """The default output is the readable report."""
    assert main(["analyze", str(EXAMPLES / "train_classifier.py")]) == 0
    out = capsys.readouterr().out
    assert "Compute: CPU" in out and "Method: submit_file" in out


def test_analyze_cmd__project_json_with_entrypoint__json_document(capsys) -> None:
    """--json prints the JSON form; --entrypoint picks the file in a folder."""
    assert main(["analyze", str(EXAMPLES / "project"), "--entrypoint", "main.py", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entrypoint"] == "main.py" and data["method"]["method"] == "submit_directory"


def test_analyze_cmd__all_files__every_file(capsys, write_tree) -> None:
    """--all-files analyses every .py file of the folder."""
    root = write_tree({"a.py": "import yaml\n", "b.py": "import requests\n"})
    assert main(["analyze", str(root), "--all-files", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == ["a.py", "b.py"]


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        pytest.param({}, ["does/not/exist.py"], "no such file or folder", id="missing_path__exit_2"),
        pytest.param({"a.py": "", "b.py": ""}, ["."], "pass --entrypoint", id="no_entrypoint__exit_2"),
        pytest.param({"p/main.py": "", "x.py": ""}, ["p", "--entrypoint", "../x.py"], "outside the project",
                     id="entrypoint_outside__exit_2"),
    ],
)
def test_analyze_cmd__bad_input__one_line_error_exit_2(capsys, write_tree, tmp_path, monkeypatch, files, args, message) -> None:
    """Bad input prints `mljobs: error: ...` on one line of stderr, no traceback, and exits 2."""
    write_tree(files)
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mljobs: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_analyze_cmd__cache__reused_between_runs(capsys, write_tree) -> None:
    """A second run of an unchanged tree reads the disk cache and prints the same JSON."""
    root = write_tree({"main.py": "import helper\n", "helper.py": "import numpy\n"})
    assert main(["analyze", str(root), "--json"]) == 0
    first = capsys.readouterr().out
    assert main(["analyze", str(root), "--json"]) == 0
    assert capsys.readouterr().out == first
    from mljobs.server.settings import Settings

    assert (Settings().cache_dir / "analysis.sqlite3").exists()


def test_analyze_cmd__console_script__json_on_stdout() -> None:
    """The installed `mljobs` console script runs the verb in a fresh process."""
    exe = Path(sys.executable).with_name("mljobs")
    proc = subprocess.run([str(exe), "analyze", str(EXAMPLES / "finetune_gpu.py"), "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["compute"]["recommendation"] == "GPU"
