"""Hostile-input benchmark (issue 13): 100k imports analysed and planned, and memory afterwards.

Run on demand, never by pytest:

    .venv/bin/python bench/bench_hostile.py            # ~1 minute on 2 cores

For each generated file (in a temp folder) it runs, in this process, with a fresh state dir and the local
backend: `Service.analyze`, then `Service.plan` (analysis cache cold for the plan too: a second state dir),
then `Service.check_eais`. The peer in the same run is `ast.parse` of the same text (the floor any Python
analyzer pays); the ratio says how much work mljobs adds on top. Memory is this process's RSS before the
first file, at the end of each file, and after the last one with the results dropped (gc.collect, then
glibc `malloc_trim` where available, which is what a long-running server would do).

Target (issue 13): analyze + plan under 5 s for 100k imports; RSS back within 100 MB of the start.
"""

from __future__ import annotations

import ast
import ctypes
import ctypes.util
import gc
import sys
import tempfile
import time
from pathlib import Path

from mljobs.server.service import Service
from mljobs.server.settings import Settings

MODULES = ["requests", "torch", "numpy", "pandas", "transformers", "boto3", "openai", "wandb", "sklearn", "os"]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def trim() -> None:
    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):
            pass


def files(folder: Path) -> dict[str, Path]:
    out = {}
    same = folder / "same" / "train.py"
    same.parent.mkdir()
    same.write_text("import requests\n" * 100_000)  # 1.6 MB, the shape
    out["100k identical imports"] = same
    mixed = folder / "mixed" / "train.py"
    mixed.parent.mkdir()
    mixed.write_text("".join(f"import {MODULES[i % len(MODULES)]} as m{i}\n" for i in range(100_000)))
    out["100k imports, 10 modules"] = mixed
    distinct = folder / "distinct" / "train.py"
    distinct.parent.mkdir()
    distinct.write_text("".join(f"from requests import name{i}\n" for i in range(8_000)))
    out["8k distinct from-imports (eais)"] = distinct
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mljobs-hostile-") as tmp:
        folder = Path(tmp)
        targets = files(folder)
        warm = Service(Settings(state_dir=folder / "warm", backend="local"))
        warm.plan(Path(__file__).resolve().parents[1] / "examples" / "train_classifier.py")
        trim()
        start = rss_mb()
        print(f"RSS at start (after a warm-up plan): {start:.0f} MB")
        print(f"{'input':34} {'ast.parse':>9} {'analyze':>8} {'plan*':>7} {'eais':>6} {'plan/parse':>10} {'RSS':>6}")
        for label, path in targets.items():
            text = path.read_text()
            t0 = time.perf_counter()
            ast.parse(text)
            peer = time.perf_counter() - t0
            one = Service(Settings(state_dir=folder / f"s1-{path.parent.name}", backend="local"))
            two = Service(Settings(state_dir=folder / f"s2-{path.parent.name}", backend="local"))
            t0 = time.perf_counter()
            one.analyze(path)
            t1 = time.perf_counter()
            result = two.plan(path)
            t2 = time.perf_counter()
            one.check_eais(path)
            t3 = time.perf_counter()
            assert result.plan is not None, result.reason
            a, p, e = t1 - t0, t2 - t1, t3 - t2
            print(f"{label:34} {peer:9.2f} {a:8.2f} {p:7.2f} {e:6.2f} {p / peer:10.1f} {rss_mb():6.0f}")
            del one, two, result
        trim()
        end = rss_mb()
        print("plan* = Service.plan with a cold analysis cache: analysis and planning together (the 5 s target)")
        print(f"RSS after the results are dropped: {end:.0f} MB ({end - start:+.0f} MB vs start)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
