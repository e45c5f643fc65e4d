"""Reproduction 12: hostile paths, ids and a corrupt store give one clear line in every CLI verb."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mljobs.server.cli import main


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, str]:
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    (tmp_path / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.py").write_text("x = " + "(" * 100_000 + ")" * 100_000 + "\n")
    return {
        "loop": str(tmp_path / "loop" / "train.py"),
        "deep_notebook": str(tmp_path / "deep.ipynb"),
        "deep_python": str(tmp_path / "deep.py"),
        "long": str(tmp_path / ("x" * 4095 + ".py")),
        "nul": str(tmp_path) + "/a\0b.py",
    }


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err[:500]
    assert err.startswith("mljobs: error: ") and len(err) < 600
    return err


@pytest.mark.parametrize("verb", ["analyze", "pools", "eais", "plan", "submit"])
@pytest.mark.parametrize("case", ["loop", "deep_notebook", "deep_python", "long", "nul"])
def test_path_verbs__one_line(verb: str, case: str, hostile: dict[str, str], capsys) -> None:
    argv = [verb, hostile[case]] + ([] if verb == "analyze" else ["--backend", "local"])
    code = main(argv)
    if case == "deep_python":
        # A file that does not parse is a problem inside a successful analysis (submit then asks to confirm).
        assert "Traceback" not in capsys.readouterr().err
        return
    assert code != 0
    _one_line(capsys)


@pytest.mark.parametrize("verb", ["status", "logs", "result", "cancel", "delete", "diagnose", "wait"])
@pytest.mark.parametrize("job_id", ["LOCAL.JOBS.X_\0aaaaaaa", "LOCAL.JOBS." + "A" * 4095 + "_1a2b3c4d",
                                    "../../etc/passwd", "LOCAL.JOBS.X_1a2b3c4d/../../.."])
def test_job_verbs__hostile_ids__one_line(verb: str, job_id: str, capsys) -> None:
    argv = [verb, job_id, "--backend", "local"] + (["--yes"] if verb in ("cancel", "delete") else [])
    assert main(argv) != 0
    _one_line(capsys)


@pytest.mark.parametrize("verb", [["jobs"], ["status", "LOCAL.JOBS.X_1a2b3c4d"]])
def test_corrupt_store__one_line(verb: list[str], _isolated_state: Path, capsys) -> None:
    (_isolated_state / "jobs.sqlite3").write_bytes(b"garbage" * 1000)
    assert main([*verb, "--backend", "local"]) != 0
    _one_line(capsys)
