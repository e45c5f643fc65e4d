"""Issue 9's checks against snowflake-ml-python's own code: the exported payload run by the real container
launcher, literal args on the local pool, what a project uploads, and the Snowflake backend's upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.cli import main
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import build_payload

pytestmark = pytest.mark.slow

SECRET = "AKIAEXAMPLEKEY123456"
TRAIN = """
import argparse, os, sys
p = argparse.ArgumentParser()
p.add_argument("--output-dir", default="outputs")
a = p.parse_args()
os.makedirs(a.output_dir, exist_ok=True)
with open(os.path.join(a.output_dir, "model.txt"), "w") as fh:
    fh.write("weights")
__return__ = {"output_dir": a.output_dir}
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def project(root: Path) -> Path:
    """A project with every kind of file that must not travel."""
    files = {
        "train.py": TRAIN,
        "lib/util.py": "X = 1\n",
        ".env": f"AWS_ACCESS_KEY_ID={SECRET}\n",
        ".env.local": f"KEY={SECRET}\n",
        ".git/config": "[core]\n",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/site.py": "",
        "env2/pyvenv.cfg": "home = /usr/bin\n",
        "node_modules/x/index.js": "",
        "__pycache__/train.cpython-311.pyc": "",
        "lib/__pycache__/util.cpython-311.pyc": "",
        ".ipynb_checkpoints/train-checkpoint.py": "",
        "deploy/rsa_key.p8": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
        "notes/key.txt": "-----BEGIN RSA PRIVATE KEY-----\nabc\n",
        ".gitignore": "data/\n*.log\n!keep.log\n",
        "data/big.csv": "a,b\n",
        "run.log": "x",
        "keep.log": "kept",
        ".mljobsignore": "scratch.py\n",
        "scratch.py": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_export_payload__project_with_secrets_and_envs__only_code_exported(capsys, tmp_path: Path) -> None:
    """`plan --export-payload` writes exactly the listed files: no .env*, .git, virtualenvs, node_modules,
    caches, keys or ignored files, and the secret in .env appears nowhere in the export or the plan JSON."""
    proj = project(tmp_path / "proj")
    out_dir = tmp_path / "export"
    code, out, err = cli(capsys, "plan", str(proj), "--entrypoint", "train.py", "--backend", "local", "--json",
                         "--method", "submit_directory",
                         "--export-payload", str(out_dir))
    assert code == 0, out + err
    exported = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    payload = json.loads(out)["payload"]
    assert exported == sorted(f["path"] for f in payload["files"])
    assert exported == [".gitignore", ".mljobsignore", "keep.log", "lib/util.py", "mljobs_entry.py", "train.py"]
    assert payload["total_size"] == sum((out_dir / p).stat().st_size for p in exported)
    for p in out_dir.rglob("*"):
        assert not p.is_file() or SECRET not in p.read_text()
    assert SECRET not in out
    excluded = {e["path"] for e in payload["excluded"]}
    assert {".env", ".env.local", ".git/", ".venv/", "env2/", "node_modules/", "__pycache__/",
            "lib/__pycache__/", ".ipynb_checkpoints/", "deploy/rsa_key.p8", "notes/key.txt", "data/",
            "run.log", "scratch.py"} <= excluded


def test_exported_payload__real_run_script__outputs_under_result_path(capsys, tmp_path: Path) -> None:
    """The exported payload, run by snowflake-ml-python's own `mljob_launcher.run_script` with the container's
    MLRS_STAGE_RESULT_PATH and the planned entrypoint and args, writes the script's outputs under that path."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "train.py").write_text(TRAIN)
    out_dir = tmp_path / "app"
    code, out, err = cli(capsys, "plan", str(proj / "train.py"), "--backend", "local", "--json",
                         "--export-payload", str(out_dir))
    assert code == 0, out + err
    payload = json.loads(out)["payload"]
    assert payload["args"][-2:] == ["--output-dir", "$MLRS_STAGE_RESULT_PATH"]  # the planned args, verbatim
    to_local = {"/mnt/job_stage/app": str(out_dir)}

    def local(path: str) -> str:
        for container, here in to_local.items():
            path = path.replace(container, here)
        return path

    result_dir = tmp_path / "stage_output"
    driver = (
        "import json, sys\n"
        "from snowflake.ml.jobs._utils.scripts import mljob_launcher as real\n"
        "value = real.run_script(sys.argv[1], payload_args=tuple(json.loads(sys.argv[2])))\n"
        "print(json.dumps(value))\n"
    )
    env = {**os.environ, "MLRS_STAGE_RESULT_PATH": str(result_dir), "MLRS_STAGE_MOUNT_PATH": str(tmp_path),
           "MLRS_PAYLOAD_DIR": "app"}
    proc = subprocess.run(
        [sys.executable, "-c", driver, local(payload["entrypoint"]), json.dumps([local(a) for a in payload["args"]])],
        cwd=out_dir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (result_dir / "model.txt").read_text() == "weights"
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"output_dir": str(result_dir)}
    assert not (out_dir / "$MLRS_STAGE_RESULT_PATH").exists()


def test_submit_local__literal_variable_arg__reaches_script_verbatim(capsys, tmp_path: Path) -> None:
    """`mljobs submit SCRIPT --yes -- --tag '$MLRS_STAGE_RESULT_PATH'` passes the literal text, as Snowflake does
    (the real launcher sets sys.argv as given; nothing expands it)."""
    script = tmp_path / "tag.py"
    script.write_text("import sys\n__return__ = sys.argv[1:]\n")
    code, out, err = cli(capsys, "submit", str(script), "--backend", "local", "--yes", "--json", "--",
                         "--tag", "$MLRS_STAGE_RESULT_PATH")
    assert code == 0, err
    job = json.loads(out)["job_id"]
    code, out, err = cli(capsys, "wait", job, "--timeout", "60")
    assert out.strip() == "DONE", err
    code, out, _ = cli(capsys, "result", job, "--json")
    assert json.loads(out)["value"] == ["--tag", "$MLRS_STAGE_RESULT_PATH"]


def test_plan_user_args_with_variable__warned_not_wrapped(capsys, tmp_path: Path) -> None:
    """Args the user gives are not rewritten: the plan warns that the variable reaches the script as text."""
    script = tmp_path / "tag.py"
    script.write_text("import sys\n")
    code, out, _ = cli(capsys, "plan", str(script), "--backend", "local", "--json", "--", "--out",
                       "$MLRS_STAGE_RESULT_PATH")
    result = json.loads(out)
    assert result["plan"]["entry_wrapper"] is False and result["payload"]["wrapper"] is None
    assert any(i["code"] == "args.literal_variable" for i in result["preflight"])


def test_build_payload__large_file__warned_by_name(tmp_path: Path) -> None:
    """A file over the size threshold is named in a warning (it is uploaded with every submission)."""
    (tmp_path / "main.py").write_text("")
    with open(tmp_path / "weights.bin", "wb") as fh:
        fh.truncate(60 * 1024 * 1024)  # sparse: no real disk use
    payload = build_payload(source=str(tmp_path), method=SubmitMethod.SUBMIT_DIRECTORY, entrypoint="main.py",
                            args=())
    assert payload is not None and len(payload.warnings) == 1 and "weights.bin" in payload.warnings[0]


def test_snowflake_backend__submit_directory__uploads_the_filtered_payload(tmp_path: Path) -> None:
    """The Snowflake backend uploads the same payload as the local pool: the library's submit_directory gets the
    filtered copy, so .env, .git and virtualenvs never reach the stage."""
    from tests.fakes.snowpark import FakeSession

    from mljobs.server.backends.snowflake import SnowflakeBackend

    proj = project(tmp_path / "proj")
    fake = FakeSession()
    fake.add_pool("CPU_POOL")
    backend = SnowflakeBackend(lambda: fake, sleep=lambda _s: None)
    plan = JobPlan(backend="snowflake", method=SubmitMethod.SUBMIT_DIRECTORY, source=str(proj),
                   entrypoint="train.py", compute_pool="CPU_POOL", stage_name="@ML_DB.PUBLIC.PAYLOAD",
                   name="TRAIN", database="ML_DB", schema="PUBLIC")
    backend.submit(plan)
    uploaded = [k for k in fake.stage_files if "/app/" in k]
    names = sorted(k.split("/app/", 1)[1] for k in uploaded)
    assert names == [".gitignore", ".mljobsignore", "keep.log", "lib/util.py", "train.py"]
    assert all(SECRET.encode() not in fake.stage_files[k] for k in fake.stage_files)


def test_snowflake_backend__entry_wrapper__launcher_gets_wrapper_then_script(tmp_path: Path) -> None:
    """A plan whose output arg needs the entry wrapper reaches SYSTEM$EXECUTE_ML_JOB as the wrapper followed by
    the script and the args verbatim, with the wrapper uploaded next to the script."""
    from tests.fakes.snowpark import FakeSession

    from mljobs.server.backends.snowflake import SnowflakeBackend

    (tmp_path / "train.py").write_text(TRAIN)
    fake = FakeSession()
    fake.add_pool("CPU_POOL")
    plan = JobPlan(backend="snowflake", method=SubmitMethod.SUBMIT_FILE, source=str(tmp_path / "train.py"),
                   entrypoint="train.py", compute_pool="CPU_POOL", stage_name="@ML_DB.PUBLIC.PAYLOAD",
                   name="TRAIN", database="ML_DB", schema="PUBLIC",
                   args=("--output-dir", "$MLRS_STAGE_RESULT_PATH"), entry_wrapper=True)
    SnowflakeBackend(lambda: fake, sleep=lambda _s: None).submit(plan)
    args = fake.submissions[-1]["spec_options"]["ARGS"]
    assert args[-4:] == ["/mnt/job_stage/app/mljobs_entry.py", "/mnt/job_stage/app/train.py",
                         "--output-dir", "$MLRS_STAGE_RESULT_PATH"]
    assert sorted(k.split("/app/", 1)[1] for k in fake.stage_files if "/app/" in k) == ["mljobs_entry.py",
                                                                                        "train.py"]


def test_plan__entrypoint_ignored__not_ready_names_the_rule(capsys, tmp_path: Path) -> None:
    """An entrypoint that .mljobsignore excludes would not upload: the plan is not ready and says why."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "train.py").write_text("import helper\n")
    (proj / "helper.py").write_text("")
    (proj / ".mljobsignore").write_text("train.py\n")
    code, out, _ = cli(capsys, "plan", str(proj), "--entrypoint", "train.py", "--backend", "local", "--json",
                       "--method", "submit_directory")
    result = json.loads(out)
    assert code == 1 and not result["ready"]
    issue = next(i for i in result["preflight"] if i["code"] == "payload.excluded")
    assert "train.py" in issue["message"] and ".gitignore/.mljobsignore" in issue["message"]


def test_plan_local__import_xgboost_missing_here__snowflake_code_does_not_install_it(capsys, tmp_path: Path
                                                                                     ) -> None:
    """On a machine without xgboost the local run installs it, but the Snowflake code is planned against the
    runtime image, which has it: the code's pip_requirements stay empty."""
    from importlib.util import find_spec

    if find_spec("xgboost") is not None:
        pytest.skip("xgboost is installed on this machine")
    script = tmp_path / "boost.py"
    script.write_text("import xgboost\nmodel = xgboost.XGBClassifier()\n")
    code, out, _ = cli(capsys, "plan", str(script), "--backend", "local", "--json")
    result = json.loads(out)
    assert result["plan"]["pip_requirements"] == ["xgboost"]
    assert "xgboost" not in result["code"] and "pip_requirements=None" in result["code"]
