"""Payload benchmark: listing, fingerprint (cold and cached) and the guarded copy, against floors in the same run.

Run on demand, never by pytest:

    .venv/bin/python bench/bench_payload.py [FILES]     # default 5,000 small files plus 20 x 4 MB

It builds a project in a temp folder (FILES small .py files in nested folders, 20 files of 4 MB, plus a
.git/, a .venv/ and a .env that must not count) and times, best of 3:

- listing: `payload_for_plan` (filters, ignore rules, PEM check) vs the floor `os.walk` + `stat` of every file;
  the first listing (cold: PEM heads read) and a repeat (the stat-keyed memo: no file opened);
- fingerprint: `fingerprint_for_plan` cold (every payload byte hashed) vs the floor `hashlib.sha256` of the same
  files' bytes, and cached (an unchanged project: stat only) vs the listing floor;
- copy: `export_payload` (guarded: resolve, O_NOFOLLOW, fstat per file) vs `shutil.copyfile` of the same list.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mljobs.analyzers.model import SubmitMethod
from mljobs.server import payload as server_payload
from mljobs.skill import payload as skill_payload
from mljobs.skill.jobplan import JobPlan


def build(root: Path, small: int) -> None:
    for i in range(small):
        path = root / f"pkg{i % 50}" / f"sub{i % 7}" / f"m{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"X = {i}\n" * 200)
    for i in range(20):
        (root / "data" / f"chunk{i}.bin").parent.mkdir(parents=True, exist_ok=True)
        (root / "data" / f"chunk{i}.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    (root / "main.py").write_text("print('hi')\n")
    (root / ".env").write_text("TOKEN=x\n")
    for rel in (".git/objects/ab/cd", ".venv/pyvenv.cfg", ".venv/lib/site.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def timed_once(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        build(root, small)
        plan = JobPlan(backend="local", method=SubmitMethod.SUBMIT_DIRECTORY, source=str(root),
                       entrypoint="main.py", compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="BENCH")

        def walk_stat() -> int:
            n = 0
            for base, dirs, names in os.walk(root):
                dirs[:] = [d for d in dirs if d not in (".git", ".venv")]
                for name in names:
                    os.stat(os.path.join(base, name))
                    n += 1
            return n

        cold_list = timed_once(lambda: skill_payload.payload_for_plan(plan))
        payload = skill_payload.payload_for_plan(plan)
        assert payload is not None
        sources = [Path(str(f.source)) for f in payload.files]

        def sha_all() -> None:
            for path in sources:
                digest = hashlib.sha256()
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)

        floor_list = best(walk_stat)
        warm_list = best(lambda: skill_payload.payload_for_plan(plan))
        floor_hash = best(sha_all)
        server_payload._cache.clear()
        cold_fp = timed_once(lambda: server_payload.fingerprint_for_plan(plan))
        warm_fp = best(lambda: server_payload.fingerprint_for_plan(plan))

        def guarded_copy() -> None:
            dest = Path(tmp) / "out_guarded"
            shutil.rmtree(dest, ignore_errors=True)
            server_payload.export_payload(payload, dest)

        def plain_copy() -> None:
            dest = Path(tmp) / "out_plain"
            shutil.rmtree(dest, ignore_errors=True)
            for f in payload.files:
                target = dest / f.path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(str(f.source), target)

        copy = best(guarded_copy)
        floor_copy = best(plain_copy)
        size_mb = payload.total_size / 1024 / 1024
        print(f"payload: {len(payload.files)} files, {size_mb:.0f} MB ({len(payload.excluded)} exclusions)")
        print(f"listing cold      {cold_list * 1000:8.1f} ms   (floor walk+stat {floor_list * 1000:.1f} ms, "
              f"x{cold_list / floor_list:.1f})")
        print(f"listing repeat    {warm_list * 1000:8.1f} ms   (x{warm_list / floor_list:.1f} the floor)")
        print(f"fingerprint cold  {cold_fp * 1000:8.1f} ms   (floor sha256 of the bytes {floor_hash * 1000:.1f} ms, "
              f"x{cold_fp / floor_hash:.2f})")
        print(f"fingerprint warm  {warm_fp * 1000:8.1f} ms   (x{warm_fp / floor_list:.1f} the walk+stat floor)")
        print(f"guarded copy      {copy * 1000:8.1f} ms   (floor shutil.copyfile {floor_copy * 1000:.1f} ms, "
              f"x{copy / floor_copy:.2f})")


if __name__ == "__main__":
    main()
