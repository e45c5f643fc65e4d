"""Benchmark the analyzer against pipreqs 0.5.0 (run on demand, not in pytest).

    .venv/bin/python bench/bench_analyzer.py [--tree DIR] [--runs N] [--script-runs N]

(a) A large real tree (default: the venv's site-packages/snowflake, ~1,900 .py files): pipreqs (in-process
    API, local metadata only, no network) against mljobs in all-files mode doing all five analyses, cold
    (inline and with a 2-process pool) and re-analysed with the disk cache (fresh cache object, as a new
    process would see it). The `mljobs analyze` CLI and the `pipreqs` CLI are timed once each as processes.
(b) A generated 500-line ML script: median of many in-process runs, mljobs (no cache) against pipreqs.

Targets: tree cold no slower than pipreqs; re-analysis >= 20x faster than pipreqs; 500-line script < 20 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DEFAULT_TREE = next((REPO / ".venv" / "lib").glob("python3*/site-packages/snowflake"), None)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def pipreqs_in_process(path: Path) -> list[str]:
    """What `pipreqs --use-local --print --mode no-pin PATH` computes, without the CLI's startup."""
    from pipreqs import pipreqs as pr

    candidates = pr.get_pkg_names(pr.get_all_imports(str(path), encoding="utf-8"))
    return sorted(p["name"] for p in pr.get_import_local(candidates, encoding="utf-8"))


def per_pass_breakdown(root: Path, rules) -> dict[str, float]:
    """Seconds per per-file pass over the whole tree (one inline run), to show where cold time goes."""
    from mljobs.analyzers.compute import scan_compute
    from mljobs.analyzers.imports import scan_imports
    from mljobs.analyzers.io import scan_io
    from mljobs.analyzers.network import scan_network
    from mljobs.analyzers.project import list_tree, read_source

    tree = list_tree(root)
    files = tree.project_files
    totals = dict.fromkeys(("read+parse", "names", "imports", "compute", "network", "io"), 0.0)
    for rel, entry in tree.files.items():
        if not rel.endswith(".py"):
            continue
        t = time.perf_counter()
        src, _ = read_source(tree.root, entry, tree.module_name(rel))
        totals["read+parse"] += time.perf_counter() - t
        if src is None:
            continue
        steps = (("names", lambda src=src: src.names), ("imports", lambda src=src: scan_imports(src)),
                 ("compute", lambda src=src: scan_compute(src, rules.compute)),
                 ("network", lambda src=src: scan_network(src, rules.network)),
                 ("io", lambda src=src: scan_io(src, files)))
        for name, step in steps:
            t = time.perf_counter()
            step()
            totals[name] += time.perf_counter() - t
    return totals


SCRIPT_BLOCK = '''
def stage_{i}(frame, args):
    """Feature stage {i}: scale, encode and log."""
    logger.info("stage {i} on %d rows", len(frame))
    scaled = (frame - frame.mean()) / (frame.std() + 1e-9)
    if args.use_gpu and torch.cuda.is_available():
        tensor = torch.tensor(scaled.values, dtype=torch.float32).to("cuda")
    else:
        tensor = torch.tensor(scaled.values, dtype=torch.float32)
    model = nn.Sequential(nn.Linear(tensor.shape[1], 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = model(tensor).pow(2).mean()
        loss.backward()
        optimizer.step()
        metrics["stage_{i}_loss"] = float(loss)
    out = Path(args.output_dir) / "stage_{i}.pt"
    torch.save(model.state_dict(), out)
    return frame.assign(stage_{i}=np.asarray(model(tensor).detach().cpu()).ravel())
'''

SCRIPT_HEAD = '''"""A generated 500-line training script for the analyzer benchmark."""
import argparse
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split

try:
    import wandb
except ImportError:
    wandb = None

logger = logging.getLogger(__name__)
metrics = {}
DATA_URL = "https://example-bucket.s3.amazonaws.com/data/train.csv"
'''

SCRIPT_TAIL = '''

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", default="outputs")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--use-gpu", action="store_true")
    args = parser.parse_args()
    frame = pd.read_csv(DATA_URL)
    train, test = train_test_split(frame, test_size=0.2)
    for stage in STAGES:
        train = stage(train, args)
    return metrics


if __name__ == "__main__":
    __return__ = main()
'''


def make_script(lines: int = 500) -> str:
    blocks: list[str] = []
    i = 0
    while len((SCRIPT_HEAD + "".join(blocks) + SCRIPT_TAIL).splitlines()) < lines - 2:
        blocks.append(SCRIPT_BLOCK.format(i=i))
        i += 1
    stages = f"\nSTAGES = [{', '.join(f'stage_{k}' for k in range(i))}]\n"
    return SCRIPT_HEAD + "".join(blocks) + stages + SCRIPT_TAIL


def run_cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=900)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="large source tree (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="re-analysis runs (median)")
    parser.add_argument("--script-runs", type=int, default=50, help="500-line script runs (median)")
    parser.add_argument("--skip-cli", action="store_true", help="do not time the two CLIs as processes")
    opts = parser.parse_args()

    from mljobs.analyzers import analyze
    from mljobs.analyzers.cache import MemoryFileCache
    from mljobs.server.analysis_cache import DiskFileCache
    from mljobs.skill.knowledge import load_rules

    rules = load_rules()
    root = opts.tree.resolve()
    n_py = sum(1 for _ in root.rglob("*.py"))
    rows: list[tuple[str, float, float | None]] = []
    work = Path(tempfile.mkdtemp(prefix="mljobs-bench-"))
    try:
        print(f"tree: {root} ({n_py} .py files); cpus: {os.cpu_count()}; load: {os.getloadavg()[0]:.2f}", flush=True)
        t_pipreqs, found = timed(lambda: pipreqs_in_process(root))
        rows.append(("(a) pipreqs, in-process", t_pipreqs, None))
        print(f"  pipreqs found {len(found)} distributions", flush=True)

        t_inline, a1 = timed(lambda: analyze(root, rules=rules, all_files=True, workers=1))
        rows.append(("(a) mljobs cold, inline", t_inline, None))
        t_pool, a2 = timed(lambda: analyze(root, rules=rules, all_files=True, workers=2))
        rows.append(("(a) mljobs cold, 2 processes", t_pool, None))
        assert a1 == a2, "pool and inline results differ"

        cache_path = work / "cache.sqlite3"
        disk = DiskFileCache(cache_path)
        t_fill, _ = timed(lambda: analyze(root, rules=rules, all_files=True, cache=disk))
        disk.close()
        rows.append(("(a) mljobs cold + writing disk cache", t_fill, None))
        warm = []
        for _ in range(opts.runs):
            fresh = DiskFileCache(cache_path)
            t, a3 = timed(lambda: analyze(root, rules=rules, all_files=True, cache=fresh))  # noqa: B023
            fresh.close()
            assert a3 == a1, "cached result differs"
            warm.append(t)
        rows.append((f"(a) mljobs re-analysis, disk cache (median of {opts.runs})", statistics.median(warm), None))
        memory = MemoryFileCache()
        analyze(root, rules=rules, all_files=True, cache=memory)
        t_mem, _ = timed(lambda: analyze(root, rules=rules, all_files=True, cache=memory))
        rows.append(("(a) mljobs re-analysis, in-memory cache", t_mem, None))

        if not opts.skip_cli:
            env = {**os.environ, "MLJOBS_STATE_DIR": str(work / "state")}
            t_pcli = run_cli([str(VENV_BIN / "pipreqs"), "--use-local", "--print", "--mode", "no-pin", str(root)], env)
            rows.append(("(a) pipreqs CLI process", t_pcli, None))
            cli = [str(VENV_BIN / "mljobs"), "analyze", str(root), "--all-files", "--json"]
            rows.append(("(a) mljobs CLI process, cold", run_cli(cli, env), None))
            rows.append(("(a) mljobs CLI process, re-analysis", run_cli(cli, env), None))

        script_dir = work / "script"
        script_dir.mkdir()
        script = script_dir / "train.py"
        script.write_text(make_script(500))
        n_lines = len(script.read_text().splitlines())
        analyze(script, rules=rules)  # warm imports and installed-package metadata once
        times = [timed(lambda: analyze(script, rules=rules))[0] for _ in range(opts.script_runs)]
        t_script = statistics.median(times)
        p_times = [timed(lambda: pipreqs_in_process(script_dir))[0] for _ in range(max(3, opts.script_runs // 10))]
        rows.append((f"(b) pipreqs, {n_lines}-line script (median)", statistics.median(p_times), None))
        rows.append((f"(b) mljobs, {n_lines}-line script (median of {opts.script_runs})", t_script, None))

        breakdown = per_pass_breakdown(root, rules)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ref = {"(a)": t_pipreqs, "(b)": next(t for name, t, _ in rows if name.startswith("(b) pipreqs"))}
    print(f"\n{'case':<58}{'seconds':>10}{'vs pipreqs':>14}")
    for name, seconds, _ in rows:
        base = ref[name[:3]]
        ratio = "1.00x" if "pipreqs" in name else (f"{base / seconds:.1f}x faster" if seconds < base
                                                     else f"{seconds / base:.1f}x slower")
        print(f"{name:<58}{seconds:>10.3f}{ratio:>14}")
    print("\ncold time per per-file pass (inline, whole tree):")
    for name, seconds in breakdown.items():
        print(f"  {name:<12}{seconds:>8.2f} s")
    print(f"\ntargets: cold <= pipreqs: {min(t_inline, t_pool) <= t_pipreqs}; "
          f"re-analysis >= 20x: {t_pipreqs / statistics.median(warm) >= 20}; script < 20 ms: {t_script < 0.020}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
