"""Local pool backend with real job processes: results, logs, failures, cancel, guard, pip, crashes."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.base import Backend, JobStatus
from mljobs.server.backends.local import VANISHED, GpuInfo, LocalBackend, filter_banners
from mljobs.server.errors import BackendError, JobNotFoundError, UsageError
from mljobs.server.runner import jobdir as launcher
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import JobPlan


@pytest.fixture
def backend() -> LocalBackend:
    return LocalBackend(Settings(), cancel_grace=3.0, gpu_probe=GpuInfo)


def make_plan(payload: Path, **overrides: Any) -> JobPlan:
    source = payload
    fields: dict[str, Any] = {
        "backend": "local",
        "method": SubmitMethod.SUBMIT_FILE if source.is_file() else SubmitMethod.SUBMIT_DIRECTORY,
        "source": str(source),
        "entrypoint": source.name if source.is_file() else "main.py",
        "compute_pool": "LOCAL",
        "stage_name": "@LOCAL.JOBS.PAYLOAD",
        "name": source.stem if source.is_file() else source.name,
    }
    fields.update(overrides)
    return JobPlan(**fields)


def wait_terminal(backend: LocalBackend, job_id: str, timeout: float = 20.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = backend.status(job_id)
        if status.terminal:
            return status
        time.sleep(0.05)
    raise AssertionError(
        f"{job_id} still {backend.status(job_id)} after {timeout}s:\n{backend.logs(job_id, verbose=True)}"
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def script(write_tree: Callable[[Mapping[str, str]], Path], name: str, text: str) -> Path:
    return write_tree({name: text}) / name


def test_backend__protocol__implemented(backend: LocalBackend) -> None:
    """LocalBackend satisfies the Backend protocol."""
    assert isinstance(backend, Backend)
    assert backend.name == "local"


@pytest.mark.slow
def test_submit__return_dict_outputs_args__round_trip(backend: LocalBackend, write_tree) -> None:
    """`__return__` comes back, files under MLRS_STAGE_RESULT_PATH are artifacts, args reach the script
    literally (Snowflake expands nothing), and the script runs with the container's MLRS_* layout."""
    path = script(
        write_tree,
        "train.py",
        """
        import os, sys
        out = os.environ["MLRS_STAGE_RESULT_PATH"]
        with open(os.path.join(out, "model.txt"), "w") as fh:
            fh.write("weights")
        print("training with", sys.argv[1:])
        print("cwd is app:", os.getcwd().endswith("app"), "greeting:", os.environ["GREETING"])
        __return__ = {"accuracy": 0.93, "argv": sys.argv[1:], "nested": {"epochs": [1, 2]}}
        """,
    )
    plan = make_plan(
        path,
        args=("--out", "ckpt", "$HOME"),
        env_vars=(("GREETING", "hi"),),
    )
    started = time.monotonic()
    job_id = backend.submit(plan)
    submit_seconds = time.monotonic() - started
    assert job_id.startswith("LOCAL.JOBS.TRAIN_")
    assert submit_seconds < 2.0
    assert wait_terminal(backend, job_id) is JobStatus.DONE
    result = backend.result(job_id)
    job_dir = Path(backend.info(job_id).extra["job_dir"])
    assert result.success
    assert result.value == {
        "accuracy": 0.93,
        "argv": ["--out", "ckpt", "$HOME"],
        "nested": {"epochs": [1, 2]},
    }
    assert result.artifacts == (str(job_dir / "output" / "model.txt"),)
    logs = backend.logs(job_id)
    assert "training with" in logs and "cwd is app: True greeting: hi" in logs
    assert "ML job started" not in logs and "mljobs local pool" not in logs
    verbose = backend.logs(job_id, verbose=True)
    assert launcher.LOG_START_MSG in verbose and launcher.LOG_END_MSG in verbose
    assert "mljobs local pool: job" in verbose
    assert backend.logs(job_id, limit=1).count("\n") == 0


@pytest.mark.slow
def test_submit__failing_script__failed_with_traceback(backend: LocalBackend, write_tree) -> None:
    """An exception in user code ends FAILED; result carries the error and the user's traceback."""
    path = script(
        write_tree,
        "boom.py",
        """
        def explode():
            raise ValueError("boom")
        explode()
        """,
    )
    job_id = backend.submit(make_plan(path))
    assert wait_terminal(backend, job_id) is JobStatus.FAILED
    result = backend.result(job_id)
    assert not result.success
    assert result.error == "ValueError('boom')"
    assert result.traceback is not None and "explode" in result.traceback and "boom.py" in result.traceback
    assert "mljobs_launcher" not in result.traceback
    assert "ValueError: boom" in backend.logs(job_id)
    assert backend.info(job_id).message == "ValueError: boom"


@pytest.mark.slow
def test_submit__non_json_value__pickled_and_loaded(backend: LocalBackend, write_tree) -> None:
    """A value JSON cannot hold exactly (a tuple, a set) round-trips through the pickle beside the result."""
    path = script(write_tree, "vals.py", "__return__ = {'pair': (1, 2), 'tags': {'a', 'b'}}\n")
    job_id = backend.submit(make_plan(path))
    assert wait_terminal(backend, job_id) is JobStatus.DONE
    assert backend.result(job_id).value == {"pair": (1, 2), "tags": {"a", "b"}}


@pytest.mark.slow
def test_submit__directory_remote_function__called_with_args(backend: LocalBackend, write_tree) -> None:
    """method=remote imports the file and returns the function's value; skipped dirs are not copied."""
    root = write_tree(
        {
            "proj/main.py": """
                from helper import twice
                def run(x):
                    return twice(x)
                if __name__ == "__main__":
                    raise SystemExit("the main block must not run for method=remote")
                """,
            "proj/helper.py": "def twice(x):\n    return x * 2\n",
            "proj/.git/config": "[core]\n",
            "proj/__pycache__/junk.pyc": "",
        }
    )
    plan = make_plan(root / "proj", method=SubmitMethod.REMOTE, function_name="run", args=("ab",))
    job_id = backend.submit(plan)
    assert wait_terminal(backend, job_id) is JobStatus.DONE, backend.logs(job_id, verbose=True)
    assert backend.result(job_id).value == "abab"
    app = Path(backend.info(job_id).extra["job_dir"]) / "app"
    assert (
        (app / "helper.py").is_file() and not (app / ".git").exists() and not (app / "__pycache__").exists()
    )


@pytest.mark.slow
def test_cancel__sleeping_job_with_child__cancelled_group_gone(backend: LocalBackend, write_tree) -> None:
    """Cancel SIGTERMs the whole process group: CANCELLED, and no process of the group is left."""
    path = script(
        write_tree,
        "sleepy.py",
        """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print("child", child.pid, flush=True)
        time.sleep(120)
        """,
    )
    job_id = backend.submit(make_plan(path))
    wait_for(lambda: "child" in backend.logs(job_id))
    pid = backend.info(job_id).extra["pid"]
    backend.cancel(job_id)
    wait_for(lambda: backend.status(job_id) is JobStatus.CANCELLED, timeout=15)
    assert not launcher.group_alive(pid)
    result = backend.result(job_id)
    assert not result.success and "cancelled" in (result.error or "")
    backend.cancel(job_id)  # cancelling a finished job does nothing
    assert backend.status(job_id) is JobStatus.CANCELLED


@pytest.mark.slow
def test_cancel__job_ignores_sigterm__killed_after_grace(write_tree) -> None:
    """A job that ignores SIGTERM is SIGKILLed after the grace period and ends CANCELLED."""
    backend = LocalBackend(Settings(), cancel_grace=2.5, gpu_probe=GpuInfo)
    path = script(
        write_tree,
        "stubborn.py",
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(120)
        """,
    )
    job_id = backend.submit(make_plan(path))
    wait_for(lambda: "ready" in backend.logs(job_id))
    pid = backend.info(job_id).extra["pid"]
    backend.cancel(job_id)
    assert backend.status(job_id) is JobStatus.CANCELLING
    wait_for(lambda: backend.status(job_id) is JobStatus.CANCELLED, timeout=15)
    wait_for(lambda: not launcher.group_alive(pid), timeout=5)


@pytest.mark.slow
def test_submit__blocked_host__guard_message_in_result_and_logs(backend: LocalBackend, write_tree) -> None:
    """A host outside the job's EAIs is refused before DNS, naming the EAI that would allow it."""
    path = script(
        write_tree,
        "fetch.py",
        """
        import socket
        socket.create_connection(("huggingface.co", 443), timeout=5)
        """,
    )
    job_id = backend.submit(make_plan(path, external_access_integrations=("PYPI_EAI",)))
    assert wait_terminal(backend, job_id) is JobStatus.FAILED
    result = backend.result(job_id)
    assert result.error is not None and result.error.startswith("ConnectionRefusedError")
    assert "huggingface.co:443 blocked" in result.error
    assert "HUGGINGFACE_EAI" in result.error
    assert "mljobs network guard" in backend.logs(job_id)


@pytest.mark.slow
def test_submit__child_python_process__also_guarded(backend: LocalBackend, write_tree) -> None:
    """A Python subprocess of the job gets the guard too (through the job's sitecustomize)."""
    path = script(
        write_tree,
        "spawn.py",
        """
        import subprocess, sys
        code = "import socket; socket.create_connection(('example.com', 443), timeout=5)"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        __return__ = {"rc": proc.returncode, "blocked": "example.com:443 blocked" in proc.stderr}
        """,
    )
    job_id = backend.submit(make_plan(path))
    assert wait_terminal(backend, job_id) is JobStatus.DONE, backend.logs(job_id, verbose=True)
    assert backend.result(job_id).value == {"rc": 1, "blocked": True}


@pytest.mark.slow
def test_submit__pip_requirements_without_pypi_eai__fails_fast_naming_eai(
    backend: LocalBackend, write_tree
) -> None:
    """Requirements without a PyPI EAI fail like Snowflake's pip step, naming PYPI_EAI, with no network."""
    path = script(write_tree, "needs.py", "import pyjokes\n")
    started = time.monotonic()
    job_id = backend.submit(
        make_plan(path, pip_requirements=("pyjokes",), external_access_integrations=("GITHUB_EAI",))
    )
    assert wait_terminal(backend, job_id) is JobStatus.FAILED
    assert time.monotonic() - started < 10
    result = backend.result(job_id)
    assert (
        "pip_requirements need PyPI access, but none of the job's EAIs [GITHUB_EAI] allows pypi.org; "
        "add PYPI_EAI" in (result.error or "")
    )
    verbose = backend.logs(job_id, verbose=True)
    assert "add PYPI_EAI" in verbose and "ML job started" not in verbose
    assert not (Settings().state_dir / "envs").exists()


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_submit__pip_requirements_with_pypi_eai__installed_in_job_venv(
    backend: LocalBackend, write_tree
) -> None:
    """With PYPI_EAI the requirement is installed (by uv, guarded) into a shared job environment importable by
    the job; a second job with the same requirement set reuses that environment instead of installing again."""
    if not _index_reachable():
        pytest.skip("the package index (pypi.org) is unreachable from this machine")
    path = script(
        write_tree,
        "joke.py",
        """
        import sys, pyjokes, yaml
        __return__ = {"module": pyjokes.__file__, "prefix": sys.prefix}
        """,
    )
    plan = make_plan(path, pip_requirements=("pyjokes",), external_access_integrations=("PYPI_EAI",))
    job_id = backend.submit(plan)
    status = wait_terminal(backend, job_id, timeout=60)
    assert status is JobStatus.DONE, backend.logs(job_id, verbose=True)
    envs_root = Settings().state_dir / "envs"
    value = backend.result(job_id).value
    assert value["module"].startswith(str(envs_root)) and value["prefix"].startswith(str(envs_root))
    first = backend.logs(job_id, verbose=True)
    assert "uv pip install" in first and "creating the job environment" in first
    second = backend.submit(plan)
    assert wait_terminal(backend, second, timeout=60) is JobStatus.DONE
    assert backend.result(second).value == value
    assert "reusing the job environment" in backend.logs(second, verbose=True)


@pytest.mark.slow
def test_status__runner_killed__failed_vanished(backend: LocalBackend, write_tree) -> None:
    """SIGKILL of the job's process group leaves no final status: the next read says FAILED, vanished."""
    path = script(write_tree, "victim.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    job_id = backend.submit(make_plan(path))
    wait_for(lambda: "up" in backend.logs(job_id))
    assert backend.status(job_id) is JobStatus.RUNNING
    os.killpg(backend.info(job_id).extra["pid"], signal.SIGKILL)
    wait_for(lambda: backend.status(job_id) is JobStatus.FAILED)
    assert backend.info(job_id).message == VANISHED
    assert VANISHED in (backend.result(job_id).error or "")


@pytest.mark.slow
def test_status__pid_reused__failed_vanished(backend: LocalBackend, write_tree) -> None:
    """A live pid with another start time is not the job: the status becomes FAILED (vanished)."""
    path = script(write_tree, "slow.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    job_id = backend.submit(make_plan(path))
    wait_for(lambda: "up" in backend.logs(job_id))
    job_dir = Path(backend.info(job_id).extra["job_dir"])
    pid = backend.info(job_id).extra["pid"]
    try:
        record = launcher.read_status(job_dir)
        launcher.update_status(job_dir, None, pid_start=int(record["pid_start"]) + 1)
        assert backend.status(job_id) is JobStatus.FAILED
        assert backend.info(job_id).message == VANISHED
    finally:
        os.killpg(pid, signal.SIGKILL)


@pytest.mark.slow
def test_submit__three_concurrent_jobs__all_done_independently(backend: LocalBackend, write_tree) -> None:
    """Three jobs run at once, each with its own folder, output and result."""
    path = script(
        write_tree,
        "worker.py",
        """
        import os, sys, time
        time.sleep(0.5)
        open(os.path.join(os.environ["MLRS_STAGE_RESULT_PATH"], "n.txt"), "w").write(sys.argv[1])
        __return__ = int(sys.argv[1]) ** 2
        """,
    )
    ids = [backend.submit(make_plan(path, args=(str(n),))) for n in range(3)]
    wait_for(lambda: sum(backend.status(j) is JobStatus.RUNNING for j in ids) >= 2, timeout=10)
    assert [wait_terminal(backend, j) for j in ids] == [JobStatus.DONE] * 3
    assert [backend.result(j).value for j in ids] == [0, 1, 4]
    assert len(set(ids)) == 3
    assert {info.job_id for info in backend.list()} == set(ids)


@pytest.mark.slow
def test_submit__target_instances_2__one_node_with_warning(backend: LocalBackend, write_tree) -> None:
    """target_instances > 1 runs one instance and says so in the logs and in JobInfo.extra."""
    path = script(
        write_tree, "dist.py", "import os\n__return__ = os.environ['MLRS_SUBMITTED_TARGET_INSTANCES']\n"
    )
    job_id = backend.submit(make_plan(path, target_instances=2))
    assert wait_terminal(backend, job_id) is JobStatus.DONE
    info = backend.info(job_id)
    assert info.target_instances == 2 and "running 1 instance" in info.extra["warning"]
    assert "WARNING: target_instances=2" in backend.logs(job_id, verbose=True)
    assert backend.result(job_id).value == "1"


def test_submit__min_instances_2__refused(backend: LocalBackend, write_tree) -> None:
    """min_instances > 1 cannot be met on one machine: UsageError, nothing started."""
    path = script(write_tree, "dist.py", "pass\n")
    with pytest.raises(UsageError, match="min_instances=2 cannot be met"):
        backend.submit(make_plan(path, target_instances=2, min_instances=2))
    assert backend.list() == []


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        pytest.param(
            {"external_access_integrations": ("NOPE_EAI",)}, "NOPE_EAI do not exist locally", id="unknown_eai"
        ),
        pytest.param({"compute_pool": "GPU_POOL"}, "one compute pool, LOCAL", id="other_pool"),
        pytest.param({"source": "@STAGE/path"}, "not a local file or folder", id="stage_source"),
        pytest.param({"method": SubmitMethod.REMOTE}, "function_name", id="remote_without_function"),
    ],
)
def test_submit__bad_plan__usage_error(
    backend: LocalBackend, write_tree, overrides: dict[str, Any], needle: str
) -> None:
    """Plans the local pool cannot run are refused with a message saying why."""
    path = script(write_tree, "ok.py", "pass\n")
    with pytest.raises(UsageError, match=needle):
        backend.submit(make_plan(path, **overrides))


@pytest.mark.slow
def test_delete__running_refused_then_done_removed(backend: LocalBackend, write_tree) -> None:
    """delete refuses a running job (cancel first) and removes a finished job's folder."""
    path = script(write_tree, "wait.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    job_id = backend.submit(make_plan(path))
    with pytest.raises(BackendError, match="cancel it first"):
        backend.delete(job_id)
    with pytest.raises(BackendError, match="wait for it"):
        backend.result(job_id)
    backend.cancel(job_id)
    wait_for(lambda: backend.status(job_id).terminal, timeout=15)
    job_dir = Path(backend.info(job_id).extra["job_dir"])
    backend.delete(job_id)
    assert not job_dir.exists()
    with pytest.raises(JobNotFoundError):
        backend.status(job_id)


@pytest.mark.parametrize("job_id", ["LOCAL.JOBS.NOPE_1234abcd", "../../etc", "LOCAL.JOBS.X_zz"])
def test_status__unknown_or_hostile_id__not_found(backend: LocalBackend, job_id: str) -> None:
    """Unknown ids and path-like ids raise JobNotFoundError (no path escapes the jobs folder)."""
    with pytest.raises(JobNotFoundError):
        backend.status(job_id)


def test_facts__machine_with_gpu_probe__one_local_pool() -> None:
    """facts(): this machine as pool LOCAL, a LOCAL_<n>CPU_<m>GIB[_GPU] family and the local EAIs."""
    backend = LocalBackend(Settings(), gpu_probe=lambda: GpuInfo(2, "NVIDIA A10G", 48.0))
    facts = backend.facts()
    (pool,) = facts.pools
    family = facts.family(pool.instance_family)
    assert pool.name == "LOCAL" and pool.state == "IDLE" and pool.max_nodes == 1
    assert family is not None and family.name.startswith("LOCAL_") and family.name.endswith("GIB_GPU")
    assert family.gpu_count == 2 and family.kind.value == "gpu" and family.source == "machine"
    assert family.vcpu >= 1 and family.memory_gib > 0
    assert {"PYPI_EAI", "HUGGINGFACE_EAI"} <= {e.name for e in facts.eais}
    assert facts.stages[0].name == "LOCAL.JOBS.PAYLOAD"
    assert facts.grants.create_service and facts.grants.pool_usage == ("LOCAL",)
    cpu_only = LocalBackend(Settings(), gpu_probe=GpuInfo).facts().families[0]
    assert cpu_only.gpu_count == 0 and not cpu_only.name.endswith("_GPU") and cpu_only.kind.value == "cpu"


def test_filter_banners__partial_logs__expected() -> None:
    """Non-verbose logs: between the banners; everything until the start banner appears."""
    body = f"setup\n{launcher.LOG_START_MSG}\nuser line\n"
    assert filter_banners("setup only\n") == "setup only\n"
    assert filter_banners(body) == "user line\n"
    assert filter_banners(body + launcher.LOG_END_MSG + "\ntrailer\n") == "user line\n"


def test_status_file__written_atomically__json(backend: LocalBackend, write_tree) -> None:
    """status.json is valid JSON with the job id right after submit (PENDING or later)."""
    path = script(write_tree, "quick.py", "pass\n")
    job_id = backend.submit(make_plan(path))
    job_dir = Path(backend.info(job_id).extra["job_dir"])
    record = json.loads((job_dir / "status.json").read_text())
    assert record["job_id"] == job_id and record["status"] in {"PENDING", "RUNNING", "DONE"}
    wait_terminal(backend, job_id)


_SUBMITTER = """
import sys
from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.local import GpuInfo, LocalBackend
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import JobPlan
plan = JobPlan(backend="local", method=SubmitMethod.SUBMIT_FILE, source=sys.argv[1], entrypoint="later.py",
               compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="later")
sys.stderr.write(LocalBackend(Settings(), gpu_probe=GpuInfo).submit(plan))
"""


@pytest.mark.slow
def test_submit__submitting_process_exits__job_still_finishes(backend: LocalBackend, write_tree) -> None:
    """The job is detached: it finishes after the CLI/server process that submitted it has exited."""
    import subprocess
    import sys

    path = script(write_tree, "later.py", "import time\ntime.sleep(0.7)\n__return__ = 'survived'\n")
    proc = subprocess.run(
        [sys.executable, "-c", _SUBMITTER, str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    job_id = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 0 and backend.status(job_id) in {JobStatus.PENDING, JobStatus.RUNNING}
    assert wait_terminal(backend, job_id) is JobStatus.DONE
    assert backend.result(job_id).value == "survived"


@pytest.mark.slow
def test_result__value_of_script_class__round_trips_like_mljob_result(
    backend: LocalBackend, write_tree
) -> None:
    """A value whose class lives in the script is saved by the real launcher (cloudpickle, by value) and loaded
    by the library's own loader, as `MLJob.result()` does; the library's result files are not artifacts."""
    path = script(write_tree, "obj.py", "class Model:\n    size = 3\n__return__ = Model()\n")
    job_id = backend.submit(make_plan(path))
    assert wait_terminal(backend, job_id) is JobStatus.DONE
    result = backend.result(job_id)
    assert type(result.value).__name__ == "Model" and result.value.size == 3
    assert result.artifacts == ()
    output = Path(backend.info(job_id).extra["job_dir"]) / "output"
    assert (output / "mljob_result").is_file() and (output / "mljob_extra.pkl").is_file()


@pytest.mark.slow
def test_submit__requirements_already_satisfied__env_made_once_then_reused_offline(
    backend: LocalBackend, write_tree
) -> None:
    """A requirement the job interpreter satisfies installs nothing (no network needed); the second job with the
    same requirement set reuses the environment the first one made."""
    path = script(write_tree, "uses_yaml.py", "import sys, yaml\n__return__ = sys.prefix\n")
    plan = make_plan(path, pip_requirements=("pyyaml>=5",), external_access_integrations=("PYPI_EAI",))
    first = backend.submit(plan)
    assert wait_terminal(backend, first, timeout=60) is JobStatus.DONE, backend.logs(first, verbose=True)
    log = backend.logs(first, verbose=True)
    assert "creating the job environment" in log and "already satisfies every requirement" in log
    second = backend.submit(plan)
    assert wait_terminal(backend, second, timeout=60) is JobStatus.DONE
    assert "reusing the job environment" in backend.logs(second, verbose=True)
    assert backend.result(first).value == backend.result(second).value
    assert str(backend.result(second).value).startswith(str(Settings().state_dir / "envs"))


@pytest.mark.slow
def test_submit__ray_installed_without_cluster__launcher_skips_ray_user_code_imports_it(
    backend: LocalBackend, write_tree
) -> None:
    """The real launcher calls ray.init(address="auto") when Ray imports (the container runs a Ray head). The
    local pool has no cluster, so the launcher must not see Ray, while the user's code still imports it."""
    root = write_tree({
        "proj/main.py": "import ray\n__return__ = ray.MARK\n",
        "proj/ray/__init__.py": "MARK = 'user ray'\n\ndef init(**kwargs):\n    raise ConnectionError('no Ray cluster')\n",
    })
    job_id = backend.submit(make_plan(root / "proj"))
    assert wait_terminal(backend, job_id) is JobStatus.DONE, backend.logs(job_id, verbose=True)
    assert backend.result(job_id).value == "user ray"
