"""Job-side figures, run on demand: store throughput with several writers, local submit -> RUNNING latency,
how many status queries a 10-minute wait costs, and job environments: first install with uv against pip in
the same run, and the start of a second job with the same requirements (environment reused).

    .venv/bin/python bench/bench_jobs.py

Each figure is printed with its peer in the same run where one exists: store writes with 2 and 4
processes against 1 process, and backoff polling against polling every second.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mljobs.server.backends.base import JobStatus
from mljobs.server.settings import Settings
from mljobs.server.store import JobStore
from mljobs.server.waiting import wait_for_job

WRITES_PER_PROCESS = 300


def _writer(path: str, prefix: str, count: int, start: multiprocessing.synchronize.Event) -> None:
    store = JobStore(path)
    start.wait()
    for i in range(count):
        store.add(f"{prefix}-{i}", "local", "PENDING", plan={"compute_pool": "LOCAL", "args": ["--x", str(i)]})
        store.update_status(f"{prefix}-{i}", "RUNNING")


def store_throughput(processes: int) -> float:
    """Committed writes per second (an add and a status change count as two) with `processes` writers."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "jobs.sqlite3")
        JobStore(path).list()
        ctx = multiprocessing.get_context("fork")
        start = ctx.Event()
        procs = [ctx.Process(target=_writer, args=(path, f"p{n}", WRITES_PER_PROCESS, start)) for n in range(processes)]
        for p in procs:
            p.start()
        t0 = time.perf_counter()
        start.set()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - t0
        store = JobStore(path)
        written = len(store.list(limit=10**6))
        assert written == processes * WRITES_PER_PROCESS, written
        return 2 * written / elapsed


def submit_latency(runs: int = 10) -> tuple[list[float], list[float]]:
    """(submit() return times, submit -> RUNNING times) in ms for a trivial script on the local pool."""
    from mljobs.analyzers.model import SubmitMethod
    from mljobs.server.backends.local import LocalBackend
    from mljobs.skill.jobplan import JobPlan

    returns, running = [], []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "hello.py"
        script.write_text("import time\ntime.sleep(0.5)\n__return__ = 1\n")
        backend = LocalBackend(Settings(state_dir=Path(tmp) / "state"))
        for i in range(runs):
            plan = JobPlan(
                backend="local", method=SubmitMethod.SUBMIT_FILE, source=str(script), entrypoint="hello.py",
                compute_pool="LOCAL", stage_name="@LOCAL.JOBS.MLJOBS_PAYLOAD", name=f"LAT_{i}",
            )
            t0 = time.perf_counter()
            job = backend.submit(plan)
            returns.append((time.perf_counter() - t0) * 1000)
            while backend.status(job) is JobStatus.PENDING:
                time.sleep(0.002)
            running.append((time.perf_counter() - t0) * 1000)
            while not backend.status(job).terminal:
                time.sleep(0.05)
    return returns, running


ENV_REQUIREMENTS = ("rich", "tabulate", "humanize", "python-slugify", "pyjokes")


def env_job_seconds(installer: str, state: Path, runs: int, requirements: tuple[str, ...] = ENV_REQUIREMENTS
                    ) -> list[float]:
    """Seconds from submit() to the user code's start banner for `runs` jobs with the same requirements, each
    a fresh job folder, on a local pool whose state dir (environments, uv cache) is `state`."""
    from mljobs.analyzers.model import SubmitMethod
    from mljobs.server.backends.local import LocalBackend
    from mljobs.server.runner.jobdir import LOG_START_MSG
    from mljobs.skill.jobplan import JobPlan

    script = state / "uses_rich.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    imports = "import rich, tabulate, humanize, slugify, pyjokes\n" if requirements else "import builtins as rich\n"
    script.write_text(imports + "__return__ = rich.__name__\n")
    backend = LocalBackend(Settings(state_dir=state), installer=installer)
    times = []
    for i in range(runs):
        plan = JobPlan(
            backend="local", method=SubmitMethod.SUBMIT_FILE, source=str(script), entrypoint=script.name,
            compute_pool="LOCAL", stage_name="@LOCAL.JOBS.MLJOBS_PAYLOAD", name=f"ENV_{installer}_{i}",
            pip_requirements=requirements, external_access_integrations=("PYPI_EAI",),
        )
        t0 = time.perf_counter()
        job = backend.submit(plan)
        while LOG_START_MSG not in backend.logs(job, verbose=True):
            if backend.status(job).terminal:
                raise RuntimeError(backend.logs(job, verbose=True))
            time.sleep(0.02)
        times.append(time.perf_counter() - t0)
        while not backend.status(job).terminal:
            time.sleep(0.05)
        assert backend.result(job).value in ("rich", "builtins"), backend.logs(job, verbose=True)
    return times


def polls_in(duration: float, *, backoff: bool) -> int:
    """Status queries a wait of `duration` seconds makes for a job that never finishes (fake clock)."""
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    calls = [0]

    def status() -> JobStatus:
        calls[0] += 1
        return JobStatus.RUNNING

    intervals = None if backoff else iter(lambda: 1.0, None)
    wait_for_job(status, timeout=duration, sleep=sleep, now=lambda: clock[0], intervals=intervals)
    return calls[0]


def main() -> int:
    print("Job store throughput (SQLite WAL, one connection per operation, BEGIN IMMEDIATE writes)")
    store_throughput(1)  # warm-up: the first run pays for page cache and WAL creation
    base = store_throughput(1)
    print(f"  1 writer process : {base:8.0f} writes/s")
    for n in (2, 4):
        rate = store_throughput(n)
        print(f"  {n} writer processes: {rate:8.0f} writes/s  ({rate / base:.2f}x of 1 writer, no lost writes)")

    returns, running = submit_latency()
    print("Local pool: submit() returns / job RUNNING (ms over 10 jobs)")
    print(f"  submit returns : median {statistics.median(returns):6.1f}  max {max(returns):6.1f}")
    print(f"  submit->RUNNING: median {statistics.median(running):6.1f}  max {max(running):6.1f}")

    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PIP_NO_CACHE_DIR"] = "1"  # pip starts as cold as uv's fresh cache: both download everything
        try:
            pip_first = env_job_seconds("pip", Path(tmp) / "pip", 1)[0]
        finally:
            del os.environ["PIP_NO_CACHE_DIR"]
        uv_times = env_job_seconds("uv", Path(tmp) / "uv", 3)
        floor = statistics.median(env_job_seconds("uv", Path(tmp) / "none", 2, requirements=()))
    print(f"Job environments ({len(ENV_REQUIREMENTS)} requirements not on this machine; submit -> user code starts)")
    print(f"  first job, pip (no cache)     : {pip_first:6.2f} s")
    print(f"  first job, uv (fresh cache)   : {uv_times[0]:6.2f} s  ({pip_first / uv_times[0]:.1f}x faster than pip)")
    print(f"  same requirements, env reused : {statistics.median(uv_times[1:]):6.2f} s  (median of 2; "
          f"{uv_times[0] / statistics.median(uv_times[1:]):.1f}x faster than the first)")
    print(f"  no requirements (the floor)   : {floor:6.2f} s  (reused env costs "
          f"{statistics.median(uv_times[1:]) - floor:+.2f} s over it; the real launcher's imports dominate)")

    backoff, every_second = polls_in(600, backoff=True), polls_in(600, backoff=False)
    print("Status queries during a 10-minute wait")
    print(f"  backoff 1 s -> 30 s: {backoff}   polling every second: {every_second}  "
          f"({every_second / backoff:.0f}x fewer queries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
