"""Reproduction 1: reads and uploads must not escape the project folder through symlinks around the script."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mljobs.analyzers import analyze, guarded
from mljobs.analyzers.requirements import read_declared
from mljobs.analyzers.model import SubmitMethod
from mljobs.server.payload import export_payload
from mljobs.skill.payload import build_payload
from mljobs.skill.jobplan import JobPlan

SECRET = "SECRET_TOKEN=s3cr3t-value-4711"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the project holding a secret and a passwd-like file."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / ".env").write_text(SECRET + "\n")
    (out / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n")
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "train.py").write_text("import numpy\nprint('hi')\n")
    return proj


def _all_text(analysis) -> str:
    return repr(analysis)


@pytest.mark.parametrize("target", ["passwd", ".env"])
def test_requirements_symlink_out__refused_named_never_echoed(project: Path, outside: Path, target: str, rules) -> None:
    os.symlink(outside / target, project / "requirements.txt")
    declared = read_declared(project)
    text = repr(declared)
    assert "root:x" not in text and "s3cr3t" not in text and "SECRET_TOKEN" not in text
    assert declared.requirements == () and declared.requirements_file is None
    assert any("requirements.txt" in p.message and "outside the project" in p.message for p in declared.problems)
    result = analyze(project / "train.py", rules=rules)
    assert "s3cr3t" not in _all_text(result) and "root:x" not in _all_text(result)


def test_include_and_pyproject_symlinks_out__refused(project: Path, outside: Path) -> None:
    (project / "requirements.txt").write_text("-r extra.txt\nrequests\n")
    os.symlink(outside / ".env", project / "extra.txt")
    os.symlink(outside / ".env", project / "pyproject.toml")
    declared = read_declared(project)
    assert "s3cr3t" not in repr(declared)
    assert [r.name for r in declared.requirements] == ["requests"]
    assert sum("outside the project" in p.message for p in declared.problems) == 2


def test_project_module_symlinked_out__not_read_problem_names_it(project: Path, outside: Path, rules) -> None:
    (outside / "util.py").write_text(f"TOKEN = '{SECRET}'\nimport torch\n")
    os.symlink(outside / "util.py", project / "util.py")
    (project / "train.py").write_text("import util\n")
    result = analyze(project, "train.py", rules=rules)
    assert "s3cr3t" not in repr(result)
    assert all(p.import_name != "torch" for p in result.packages)
    assert any(p.location.path == "util.py" and "outside the project" in p.message for p in result.problems)


def test_payload_with_symlinks_out__not_shipped(project: Path, outside: Path) -> None:
    os.symlink(outside / ".env", project / "creds.env")
    os.symlink(outside, project / "linked_dir")
    (project / "inside_link.py").symlink_to(project / "train.py")
    listing = build_payload(source=str(project), method=SubmitMethod.SUBMIT_DIRECTORY, entrypoint="train.py", args=())
    assert listing is not None
    assert [f.path for f in listing.files] == ["inside_link.py", "train.py"]
    assert {p.rstrip("/") for p, why in listing.excluded if "outside" in why} == {"creds.env", "linked_dir"}
    dest = project.parent / "copy"
    export_payload(listing, dest)
    shipped = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    assert shipped == ["inside_link.py", "train.py"]
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_payload_on_fake_snowflake_session__secret_never_reaches_stage(project: Path, outside: Path) -> None:
    """The real snowflake-ml-python submit_directory, driven through the fake session, gets the filtered copy."""
    from mljobs.server.backends.snowflake import SnowflakeBackend
    from tests.fakes import FakeSession

    os.symlink(outside / ".env", project / "creds.env")
    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=1)
    backend = SnowflakeBackend(lambda: session, sleep=lambda s: None, token=lambda: "0badc0de")
    plan = JobPlan(backend="snowflake", method=SubmitMethod.SUBMIT_DIRECTORY, source=str(project),
                   entrypoint="train.py", compute_pool="CPU_POOL", stage_name="@DB.SC.PAYLOAD", name="TRAIN",
                   database="DB", schema="SC")
    backend.submit(plan)
    names = [k for k in session.stage_files if "/app/" in k]
    assert any(k.endswith("/app/train.py") for k in names)
    assert not any("creds.env" in k for k in names)
    assert all(b"s3cr3t" not in v for v in session.stage_files.values())


@pytest.mark.parametrize("bad", ["a\0b.py", "x" * 4095 + ".py", "loop/train.py"])
def test_unusable_paths__one_line_error(tmp_path: Path, bad: str, rules) -> None:
    """Reproduction 12 (paths): a NUL, a 4,095-character component, a symlink loop give one clear line."""
    from mljobs.analyzers.errors import AnalysisInputError

    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    with pytest.raises(AnalysisInputError) as info:
        analyze(tmp_path / bad if "\0" not in bad else str(tmp_path) + "/" + bad, rules=rules)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_guarded_inside__dotdot_and_links() -> None:
    root = Path("/usr")
    assert guarded.is_inside("/usr/lib", root)
    assert not guarded.is_inside("/usr/../etc/passwd", root)
    with pytest.raises(guarded.GuardedReadError):
        guarded.read_bytes("/usr/../etc/passwd", root)


def test_guarded_read__fifo_refused_not_blocking(project: Path) -> None:
    os.mkfifo(project / "requirements.txt")
    declared = read_declared(project)
    assert any("not a regular file" in p.message for p in declared.problems)
