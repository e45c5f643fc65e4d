"""Dependency preflight timing: mljobs' uv-based check (cold, warm resolver cache, its own answer cache)
against pip's own dry run (`pip install --dry-run --ignore-installed --report`) for the same requirements,
in one run. Needs a reachable package index; run on demand, never by pytest:

    .venv/bin/python bench/bench_depcheck.py [--runs 3] [--reqs optuna "torch==1.13.1"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mljobs.server.depcheck import DependencyChecker, DepStatus
from mljobs.skill.knowledge import load_rules


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reqs", nargs="+", default=["optuna", "torch==1.13.1"])
    args = parser.parse_args()
    label, packages, _ = load_rules().packages.select_runtime(gpu=False, python="3.11")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["UV_CACHE_DIR"] = str(Path(tmp) / "uv-cold")
        cold_checker = DependencyChecker(cache_dir=Path(tmp) / "mljobs-cold")
        start = time.perf_counter()
        result = cold_checker.check(args.reqs, packages, image=label, python="3.11")
        cold = time.perf_counter() - start
        if result.status is not DepStatus.CHECKED:
            print(f"not measured: {result.summary()}")
            return 1
        counter = iter(range(1000))

        def warm_resolver() -> None:
            fresh = DependencyChecker(cache_dir=Path(tmp) / f"m{next(counter)}")
            fresh.check(args.reqs, packages, image=label, python="3.11")

        warm = _median(warm_resolver, args.runs)
        hit = _median(lambda: cold_checker.check(args.reqs, packages, image=label, python="3.11"), args.runs)
        req_file = Path(tmp) / "r.txt"
        req_file.write_text("\n".join(args.reqs) + "\n")

        def pip_peer() -> None:
            subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                            "--report", str(Path(tmp) / "report.json"), "-r", str(req_file)],
                           check=True, capture_output=True)

        peer = _median(pip_peer, args.runs)
    print(f"requirements: {' '.join(args.reqs)} against {label}: {result.summary()}")
    print(f"  mljobs cold (empty uv cache, no answer cache): {cold:7.2f} s")
    print(f"  mljobs warm resolver cache, no answer cache:  {warm:7.2f} s")
    print(f"  mljobs answer cache hit:                      {hit * 1000:7.2f} ms")
    print(f"  peer: pip install --dry-run --report:         {peer:7.2f} s  (this Python and platform only, "
          "no sizes, no image preferences)")
    print(f"  ratios: warm/peer {warm / peer:.2f}, cache hit/peer {hit / peer:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
