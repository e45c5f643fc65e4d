"""Job script, job-folder protocol and job environments: container env, index-access check, the real
launcher's result files read back by the library, status file, processes, env keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mljobs.server.backends.local import load_result
from mljobs.server.runner import envs, jobdir, launcher, netguard

PYPI = {"PYPI_EAI": ["pypi.org", "pypi.python.org", "pythonhosted.org", "files.pythonhosted.org"]}
KNOWN = {**PYPI, "PRIVATE_EAI": ["private.example.com"], "GITHUB_EAI": ["github.com"]}


def test_job_environment__user_vars__after_system_but_not_instance_count(tmp_path: Path) -> None:
    """User env vars override system ones (as on Snowflake) except MLRS_SUBMITTED_TARGET_INSTANCES."""
    env = launcher.job_environment(
        tmp_path,
        {"env_vars": {"MLRS_PAYLOAD_DIR": "custom", "MLRS_SUBMITTED_TARGET_INSTANCES": "9", "A": "1"}},
    )
    assert env["MLRS_STAGE_RESULT_PATH"] == str(tmp_path / "output")
    assert env["MLRS_STAGE_MOUNT_PATH"] == str(tmp_path)
    assert env["MLRS_PAYLOAD_DIR"] == "custom" and env["A"] == "1"
    assert env["MLRS_SUBMITTED_TARGET_INSTANCES"] == "1" and env["SNOWFLAKE_JOBS_COUNT"] == "1"
    assert env["MLRS_RESULT_PATH"] == "mljob_result"


@pytest.mark.parametrize(
    ("launch", "lines", "expected"),
    [
        pytest.param({"job_eais": PYPI}, ["six"], None, id="pypi_eai__ok"),
        pytest.param(
            {"job_eais": {}},
            ["six"],
            "pip_requirements need PyPI access, but none of the job's EAIs [] allows pypi.org; add PYPI_EAI",
            id="no_eai__names_pypi_eai",
        ),
        pytest.param(
            {"job_eais": {"ONLY_INDEX": ["pypi.org"]}},
            ["six"],
            "pip_requirements need PyPI access, but none of the job's EAIs [ONLY_INDEX] allows "
            "files.pythonhosted.org; "
            "add PYPI_EAI",
            id="index_without_files_host__names_files_host",
        ),
        pytest.param(
            {"job_eais": {}, "artifact_repositories": ["snowflake.snowpark.pypi_shared_repository"]},
            ["six"],
            None,
            id="artifact_repository__ok",
        ),
        pytest.param(
            {"job_eais": PYPI},
            ["--index-url https://private.example.com/simple", "six"],
            "pip_requirements need access to private.example.com, but none of the job's EAIs [PYPI_EAI] "
            "allows "
            "private.example.com; add PRIVATE_EAI",
            id="private_index__names_private_eai",
        ),
        pytest.param(
            {"job_eais": {"PRIVATE_EAI": ["private.example.com"]}},
            ["-i=https://private.example.com/simple", "six"],
            None,
            id="private_index_allowed__ok",
        ),
        pytest.param(
            {"job_eais": PYPI},
            ["--extra-index-url https://nowhere.example.org/simple", "six"],
            "pip_requirements need access to nowhere.example.org, but none of the job's EAIs [PYPI_EAI] "
            "allows "
            "nowhere.example.org; add an EAI whose network rule allows nowhere.example.org",
            id="extra_index_unknown__no_eai_would",
        ),
    ],
)
def test_check_index_access__table__expected(
    launch: dict[str, Any], lines: list[str], expected: str | None
) -> None:
    """Requirements need the index hosts in the job's EAIs; the message names the EAI that would help."""
    assert envs.check_index_access({"known_eais": KNOWN, **launch}, lines) == expected


def _saved(tmp_path: Path, value: object, *, is_error: bool = False) -> object:
    """Write `value` with the real launcher's `save_mljob_result` at the job's result path, load it back."""
    (tmp_path / "output").mkdir(exist_ok=True)
    launcher._save_result(tmp_path, value, is_error=is_error)
    return load_result(jobdir.result_path(tmp_path))


def test_result__json_value__inline_in_result_dto(tmp_path: Path) -> None:
    """A JSON value is inline in the library's ResultDTO and comes back equal."""
    loaded = _saved(tmp_path, {"a": [1, 2.5, None, "x"]})
    assert loaded.success and loaded.value == {"a": [1, 2.5, None, "x"]}  # type: ignore[attr-defined]
    dto = json.loads(jobdir.result_path(tmp_path).read_text())
    assert dto["value"] == {"a": [1, 2.5, None, "x"]} and dto["protocol"] is None


def test_result__tuple__cloudpickled_beside_and_loaded(tmp_path: Path) -> None:
    """A value JSON cannot hold goes to the library's mljob_extra.pkl and round-trips exactly."""
    loaded = _saved(tmp_path, {"pair": (1, 2), "tags": {"a"}})
    assert loaded.value == {"pair": (1, 2), "tags": {"a"}}  # type: ignore[attr-defined]
    assert (tmp_path / "output" / "mljob_extra.pkl").is_file()


def test_result__exception__type_message_traceback(tmp_path: Path) -> None:
    """A failure keeps the exception's type, repr and traceback in the ResultDTO metadata."""
    try:
        raise KeyError("missing")
    except KeyError as exc:
        loaded = _saved(tmp_path, exc, is_error=True)
    assert not loaded.success and isinstance(loaded.value, KeyError)  # type: ignore[attr-defined]
    meta = json.loads(jobdir.result_path(tmp_path).read_text())["metadata"]
    assert meta["type"] == "builtins.KeyError" and meta["repr"] == "KeyError('missing')"
    assert 'raise KeyError("missing")' in meta["traceback"]  # the library keeps the frames


def test_env_key__order_and_comments__same_key_changes_with_set() -> None:
    """An environment is reused for the same requirement set, whatever the order or comments."""
    assert envs.env_key(["b==1", "a", "# note"]) == envs.env_key(["a", "b==1  # pinned"])
    assert envs.env_key(["a"]) != envs.env_key(["a", "b"])


def test_unsatisfied__installed_and_missing__only_missing_kept() -> None:
    """What the job interpreter already satisfies is not installed again; versions it lacks are."""
    assert envs.unsatisfied(["pyyaml>=5", "pyyaml<1", "surely-not-installed-xyz", "-i https://x/simple",
                             "pyyaml; python_version < '3'"]) == [
        "pyyaml<1", "surely-not-installed-xyz", "-i https://x/simple"]


def test_update_status__terminal__never_overwritten(tmp_path: Path) -> None:
    """Once DONE, a late CANCELLING (or anything) does not change the record; only_from guards transitions."""
    jobdir.update_status(tmp_path, "PENDING", job_id="J")
    assert (
        jobdir.update_status(tmp_path, "CANCELLED", only_from=frozenset({"CANCELLING"}))["status"]
        == "PENDING"
    )
    jobdir.update_status(tmp_path, "RUNNING")
    jobdir.update_status(tmp_path, "DONE", exit_code=0)
    assert jobdir.update_status(tmp_path, "CANCELLING")["status"] == "DONE"
    record = jobdir.read_status(tmp_path)
    assert record["status"] == "DONE" and record["job_id"] == "J" and record["exit_code"] == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_process_alive__self_reused_dead_zombie__expected() -> None:
    """Alive only for the same pid *and* start time; exited and zombie processes count as gone."""
    me = os.getpid()
    assert jobdir.process_alive(me, jobdir.proc_start_ticks(me))
    assert not jobdir.process_alive(me, (jobdir.proc_start_ticks(me) or 0) + 1)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while jobdir.process_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # not reaped yet: a zombie once it exits
    assert not jobdir.process_alive(child.pid)
    child.wait()
    assert not jobdir.process_alive(child.pid)
    assert not jobdir.process_alive(None)


@pytest.mark.slow
def test_sitecustomize_guard__pip_subprocess__blocked_before_dns(tmp_path: Path) -> None:
    """pip run with the job's guard dir on PYTHONPATH is refused by the guard (no EAI), with no traffic."""
    job_dir = tmp_path
    (job_dir / "system").mkdir()
    (job_dir / "system" / jobdir.NETGUARD_NAME).write_text(Path(netguard.__file__).read_text())
    config = launcher._write_guard_files(job_dir, {"job_eais": {}, "known_eais": KNOWN}, [], "pip")
    env = launcher._guarded_env(job_dir, config)
    env.pop("PIP_FIND_LINKS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--retries",
            "0",
            "--timeout",
            "3",
            "--isolated",
            "--index-url",
            "https://pypi.org/simple",
            "-d",
            str(tmp_path / "dl"),
            "pyjokes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "mljobs network guard" in proc.stdout + proc.stderr
    assert "PYPI_EAI" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_launcher__sigterm_without_cancel__failed_terminated(tmp_path: Path, write_tree) -> None:
    """A SIGTERM nobody asked for (shutdown, kill) ends the job FAILED, not CANCELLED."""
    from mljobs.analyzers.model import SubmitMethod
    from mljobs.server.backends.base import JobStatus
    from mljobs.server.backends.local import GpuInfo, LocalBackend
    from mljobs.server.settings import Settings
    from mljobs.skill.jobplan import JobPlan

    source = write_tree({"wait.py": "import time\nprint('up', flush=True)\ntime.sleep(120)\n"}) / "wait.py"
    backend = LocalBackend(Settings(), gpu_probe=GpuInfo)
    plan = JobPlan(
        backend="local",
        method=SubmitMethod.SUBMIT_FILE,
        source=str(source),
        entrypoint="wait.py",
        compute_pool="LOCAL",
        stage_name="@LOCAL.JOBS.PAYLOAD",
        name="wait",
    )
    job_id = backend.submit(plan)
    deadline = time.monotonic() + 10
    while "up" not in backend.logs(job_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(backend.info(job_id).extra["pid"], signal.SIGTERM)
    while not backend.status(job_id).terminal and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend.status(job_id) is JobStatus.FAILED
    info = backend.info(job_id)
    assert info.message == "terminated by SIGTERM"
    assert jobdir.read_status(Path(info.extra["job_dir"]))["exit_code"] == jobdir.EXIT_CANCELLED
