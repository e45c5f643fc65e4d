"""One payload: the listing the plan reports is what export writes, what both backends ship and what the
confirmation fingerprint covers; notebooks travel as their converted script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.cli import main
from mljobs.server.errors import UsageError
from mljobs.server.payload import PayloadError, export_payload, fingerprint_for_plan, payload_for_plan
from mljobs.skill import payload as skill_payload
from mljobs.skill.jobplan import JobPlan
from tests.fakes import FakeSession

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "iris_quickstart.ipynb"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def folder_plan(root: Path, entrypoint: str = "main.py", **extra: object) -> JobPlan:
    return JobPlan(backend="local", method=SubmitMethod.SUBMIT_DIRECTORY, source=str(root), entrypoint=entrypoint,
                   compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="ONE", **extra)  # type: ignore[arg-type]


def notebook_cells(*sources: str) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": [s]}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4,
                       "nbformat_minor": 5})


# ------------------------------------------------------------------------------------------ fingerprint

def test_fingerprint__only_payload_files_count(write_tree) -> None:
    """Editing .env, an ignored file or a cache does not change the fingerprint; a shipped file does, also at
    the same length with its mtime restored."""
    root = write_tree({"p/main.py": "import util\n", "p/util.py": "X = 1\n", "p/.env": "TOKEN=a\n",
                       "p/.gitignore": "*.log\n", "p/run.log": "one\n", "p/__pycache__/u.pyc": "x"}) / "p"
    plan = folder_plan(root)
    before = fingerprint_for_plan(plan)
    assert before is not None
    (root / ".env").write_text("TOKEN=b-changed\n")
    (root / "run.log").write_text("two, longer\n")
    (root / "__pycache__" / "u.pyc").write_text("y")
    assert fingerprint_for_plan(plan) == before
    st = (root / "util.py").stat()
    (root / "util.py").write_text("X = 2\n")
    os.utime(root / "util.py", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint_for_plan(plan) != before


def test_fingerprint__generated_files_and_stage(write_tree) -> None:
    """Generated files count by their text (pip requirements, entry wrapper); a stage source has none."""
    root = write_tree({"p/main.py": "print(1)\n"}) / "p"
    plain = fingerprint_for_plan(folder_plan(root))
    with_reqs = fingerprint_for_plan(folder_plan(root, pip_requirements=("requests==2.32.3",)))
    wrapped = fingerprint_for_plan(folder_plan(root, args=("--out", "$MLRS_STAGE_RESULT_PATH"), entry_wrapper=True))
    assert len({plain, with_reqs, wrapped}) == 3
    stage = JobPlan(backend="snowflake", method=SubmitMethod.SUBMIT_FROM_STAGE, source="@DB.SC.CODE",
                    entrypoint="main.py", compute_pool="P", stage_name="@DB.SC.S", name="ONE")
    assert fingerprint_for_plan(stage) is None


def test_fingerprint__notebook_code_cells_count(tmp_path: Path) -> None:
    """A notebook plan's fingerprint follows the converted script: a code edit changes it."""
    nb = tmp_path / "nb.ipynb"
    nb.write_text(notebook_cells("x = 1\n"))
    plan = JobPlan(backend="local", method=SubmitMethod.SUBMIT_FILE, source=str(nb), entrypoint="nb.py",
                   compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="NB", notebook="nb.ipynb")
    before = fingerprint_for_plan(plan)
    assert before is not None
    nb.write_text(notebook_cells("x = 2\n"))
    assert fingerprint_for_plan(plan) not in (None, before)
    nb.write_text("{not json")
    assert fingerprint_for_plan(plan) is None  # cannot be shipped any more: a caller treats it as changed


# ---------------------------------------------------------------------------------------------- listing

def test_listing__link_to_secret_under_another_name__excluded(write_tree) -> None:
    root = write_tree({"p/main.py": "", "p/.env": "TOKEN=s3cret\n", "p/keys/deploy.pem": "x"}) / "p"
    os.symlink(root / ".env", root / "config.txt")
    os.symlink(root / "keys" / "deploy.pem", root / "cert.txt")
    payload = payload_for_plan(folder_plan(root))
    assert payload is not None
    assert [f.path for f in payload.files] == ["main.py"]
    assert {p for p, why in payload.excluded if "secrets" in why} >= {"config.txt", "cert.txt", ".env"}


def test_listing__folder_link_inside_followed__loop_named(write_tree) -> None:
    root = write_tree({"p/main.py": "", "p/pkg/mod.py": "X = 1\n"}) / "p"
    os.symlink(root / "pkg", root / "alias")
    os.symlink(root, root / "pkg" / "up")
    payload = payload_for_plan(folder_plan(root))
    assert payload is not None
    assert [f.path for f in payload.files] == ["alias/mod.py", "main.py", "pkg/mod.py"]
    loops = sorted(p for p, why in payload.excluded if "loop" in why)
    assert loops == ["alias/up/", "pkg/up/"]


def test_listing__too_many_files__one_line_error(write_tree) -> None:
    root = write_tree({f"p/m{i}.py": "" for i in range(6)}) / "p"
    with pytest.raises(skill_payload.PayloadError) as info:
        skill_payload.list_folder(root, max_files=5)
    assert "more than 5 files" in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------------- copy

def test_export__file_swapped_for_outside_link_after_listing__refused_named(tmp_path: Path) -> None:
    """The copy re-checks each file: one that became a symlink out since it was listed aborts the copy."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "main.py").write_text("")
    (root / "util.py").write_text("X = 1\n")
    (tmp_path / "secret.txt").write_text("s3cret\n")
    payload = payload_for_plan(folder_plan(root))
    assert payload is not None
    (root / "util.py").unlink()
    os.symlink(tmp_path / "secret.txt", root / "util.py")
    with pytest.raises(PayloadError) as info:
        export_payload(payload, tmp_path / "out")
    assert "util.py" in str(info.value) and "outside" in str(info.value) and "s3cret" not in str(info.value)
    assert not (tmp_path / "out" / "util.py").exists()


def test_export__into_non_empty_folder__refused(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "main.py").write_text("")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    payload = payload_for_plan(folder_plan(tmp_path / "p"))
    assert payload is not None
    with pytest.raises(UsageError):
        export_payload(payload, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]


# -------------------------------------------------------------------------------------------- notebooks

def test_export_notebook__converted_script_only__real_launcher_runs_it(capsys, tmp_path: Path) -> None:
    """`plan NOTEBOOK --export-payload` writes `<stem>.py` (not the .ipynb), and snowflake-ml-python's own
    `mljob_launcher.run_script` runs that export with the planned entrypoint to the end."""
    nb = tmp_path / "nb" / "steps.ipynb"
    nb.parent.mkdir()
    nb.write_text(notebook_cells("import os, json\n",
                                 "out = os.environ['MLRS_STAGE_RESULT_PATH']\n",
                                 "json.dump({'ok': 1}, open(os.path.join(out, 'm.json'), 'w'))\n"
                                 "__return__ = 'finished'\n"))
    out_dir = tmp_path / "app"
    code, out, err = cli(capsys, "plan", str(nb), "--backend", "local", "--json", "--export-payload", str(out_dir))
    assert code == 0, out + err
    payload = json.loads(out)["payload"]
    assert [f["path"] for f in payload["files"]] == ["steps.py"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["steps.py"]
    assert {"path": "steps.ipynb", "reason": "the notebook runs as its converted script steps.py"} in \
        payload["excluded"]
    assert payload["entrypoint"] == "/mnt/job_stage/app/steps.py"
    result_dir = tmp_path / "stage_output"
    result_dir.mkdir()
    driver = (
        "import json, sys\n"
        "from snowflake.ml.jobs._utils.scripts import mljob_launcher as real\n"
        "print(json.dumps(real.run_script(sys.argv[1], payload_args=())))\n"
    )
    env = {**os.environ, "MLRS_STAGE_RESULT_PATH": str(result_dir), "MLRS_STAGE_MOUNT_PATH": str(tmp_path),
           "MLRS_PAYLOAD_DIR": "app"}
    entry = payload["entrypoint"].replace("/mnt/job_stage/app", str(out_dir))
    proc = subprocess.run([sys.executable, "-c", driver, entry], cwd=out_dir, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == "finished"
    assert json.loads((result_dir / "m.json").read_text()) == {"ok": 1}


def test_notebook_in_project__export_and_snowflake_upload_agree(capsys, tmp_path: Path) -> None:
    """A notebook in a project (submit_directory): export and the real submit_directory upload (fake session)
    hold the same files: the module beside it and the converted script, no notebook, no .env."""
    project = tmp_path / "proj"
    project.mkdir()
    shutil.copy(NOTEBOOK, project / NOTEBOOK.name)
    (project / "helpers.py").write_text("X = 1\n")
    (project / ".env").write_text("TOKEN=s3cret\n")
    out_dir = tmp_path / "export"
    code, out, err = cli(capsys, "plan", str(project), "--entrypoint", NOTEBOOK.name, "--backend", "local",
                         "--method", "submit_directory", "--json", "--export-payload", str(out_dir))
    assert code == 0, out + err
    exported = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert exported == ["helpers.py", "iris_quickstart.py"]

    plan = JobPlan.from_dict(json.loads(out)["plan"])
    plan = JobPlan.from_dict({**plan.to_dict(), "backend": "snowflake", "compute_pool": "CPU_POOL",
                              "stage_name": "@DB.SC.PAYLOAD", "database": "DB", "schema": "SC"})
    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=1)
    SnowflakeBackend(lambda: session, sleep=lambda _: None, token=lambda: "0badc0de").submit(plan)
    uploaded = sorted(k.split("/app/", 1)[1] for k in session.stage_files if "/app/" in k)
    assert [u for u in uploaded if u != "requirements.txt"] == exported
    assert all(b"s3cret" not in v for v in session.stage_files.values())
    assert sorted(p.name for p in project.iterdir()) == [".env", "helpers.py", NOTEBOOK.name]


def test_notebook_in_project__generated_code_uploads_the_converted_script(tmp_path: Path, monkeypatch, capsys,
                                                                          rules) -> None:
    """The Snowflake code for a notebook project copies the converted script (saved where the plan says) with
    the listed files, so the real submit_directory gets its entrypoint."""
    from snowflake.snowpark import Session

    from mljobs.analyzers import analyze
    from mljobs.skill.codegen import Generated
    from mljobs.skill.facts import AccountFacts, ComputePool, Grants
    from mljobs.skill.plan import PlanChoices, plan_job

    project = tmp_path / "proj"
    project.mkdir()
    shutil.copy(NOTEBOOK, project / NOTEBOOK.name)
    (project / "helpers.py").write_text("X = 1\n")
    facts = AccountFacts(backend="snowflake", pools=(ComputePool("CPU_POOL", "IDLE", "CPU_X64_S", idle_nodes=1),),
                         grants=Grants(), database="ML_DB", schema="PUBLIC", role="DS")
    result = plan_job(analyze(project, NOTEBOOK.name, rules=rules), facts,
                      PlanChoices(method=SubmitMethod.SUBMIT_DIRECTORY))
    assert result.plan is not None and isinstance(result.code, Generated) and result.notebook_script is not None
    (project / result.plan.entrypoint).write_text(result.notebook_script.script)  # as the code's warning says

    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=1)

    class Builder:
        def config(self, *_: object) -> Builder:
            return self

        def create(self) -> FakeSession:
            return session

    monkeypatch.setattr(Session, "builder", Builder())
    exec(compile(result.code.code, "submit_job.py", "exec"), {"__name__": "__main__"})  # noqa: S102
    capsys.readouterr()
    uploaded = {k.split("/app/", 1)[1]: v for k, v in session.stage_files.items() if "/app/" in k}
    assert sorted(uploaded) == ["helpers.py", "iris_quickstart.py"]
    assert uploaded["iris_quickstart.py"].decode() == result.notebook_script.script
    assert session.submissions[-1]["spec_options"]["ARGS"][-1] == "/mnt/job_stage/app/iris_quickstart.py"


def test_local_submit__notebook_broken_after_planning__one_line_error_no_job_folder(tmp_path: Path) -> None:
    """A notebook edited into invalid JSON after planning: the local pool refuses with one line naming it, and
    leaves no half-written job folder behind."""
    from mljobs.server.backends.local import LocalBackend
    from mljobs.server.settings import Settings

    nb = tmp_path / "nb.ipynb"
    nb.write_text(notebook_cells("print(1)\n"))
    plan = JobPlan(backend="local", method=SubmitMethod.SUBMIT_FILE, source=str(nb), entrypoint="nb.py",
                   compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="NB", notebook="nb.ipynb")
    settings = Settings(state_dir=tmp_path / "state")
    nb.write_text("{not json")
    with pytest.raises(UsageError) as info:
        LocalBackend(settings).submit(plan)
    assert "nb.ipynb" in str(info.value) and "\n" not in str(info.value)
    assert not settings.jobs_dir.exists() or list(settings.jobs_dir.iterdir()) == []


def test_listing__loop_below_a_folder_link__stops_at_once(write_tree) -> None:
    """A link back to its own parent, reached through a folder link, is named as a loop on the first visit."""
    root = write_tree({"p/main.py": "", "p/pkg/sub/m.py": ""}) / "p"
    os.symlink(root / "pkg", root / "alias")
    os.symlink(root / "pkg" / "sub", root / "pkg" / "sub" / "back")
    payload = payload_for_plan(folder_plan(root))
    assert payload is not None
    assert [f.path for f in payload.files] == ["alias/sub/m.py", "main.py", "pkg/sub/m.py"]
    assert sorted(p for p, why in payload.excluded if "loop" in why) == ["alias/sub/back/", "pkg/sub/back/"]
