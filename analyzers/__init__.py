"""Pure static analysis of ML scripts, projects and notebooks: source in, typed findings with evidence out.

`analyze` is the one composer. It lists the project, reads and parses each reached file once, runs every
per-file pass on it (imports, compute, network, io) into a picklable `FileScan` (cached by file
fingerprint, built in a process pool for big trees), then aggregates in order: imports -> compute verdict
-> packages (CPU or GPU runtime list by the verdict; plus what extras calls import) -> removed APIs (by those versions) -> network (pypi exactly when a package is to be
installed) -> io -> method.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import FileCache, FileKey, FileScan, context_fingerprint, result_key
from .errors import AnalysisInputError
from .imports import scan_imports_counted
from .method import recommend_method
from .model import Analysis, ComputeTarget, ImportFinding, Location, NetworkCategory, Problem
from .project import FileEntry, LocalResolver, ProjectTree, follow_imports, open_project, read_source

if TYPE_CHECKING:
    from .rules import Rules

__all__ = ["AnalysisInputError", "analyze", "scan_file"]

log = logging.getLogger(__name__)

#: Automatic parallelism starts when more files than this need scanning (below it, starting worker
#: processes costs more than it saves; measured in bench/bench_analyzer.py).
POOL_THRESHOLD = 200
#: Worker processes used when parallelism is automatic.
AUTO_WORKERS = 2


def scan_file(root: Path, entry: FileEntry, module: str, rules: Rules, project_files: frozenset[str]) -> FileScan:
    """Read and parse one file once and run every per-file pass on it.

    Returns:
        A FileScan; when the file cannot be read or parsed, `parsed=False` and `problems` says why.
    """
    # A tree and the passes' findings hold no reference cycles, so the cyclic collector would only walk the
    # live tree again and again while the passes allocate (a fifth of the CPU time on big trees).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _scan_file(root, entry, module, rules, project_files)
    finally:
        if enabled:
            gc.enable()


def _scan_file(root: Path, entry: FileEntry, module: str, rules: Rules, project_files: frozenset[str]) -> FileScan:
    from .compute import scan_compute
    from .io import scan_io
    from .network import scan_network
    from .removed_apis import scan_removed_apis

    src, problems = read_source(root, entry, module)
    is_notebook = entry.path.endswith(".ipynb")
    if src is None:
        return FileScan(entry.path, module, False, problems=problems, is_notebook=is_notebook)
    imports, dropped = scan_imports_counted(src)
    if dropped:
        problems = (*problems, Problem(Location(entry.path, 1), f"{dropped} more repeated or excess import "
                                       "statements counted but not listed (the first ones are)"))
    return FileScan(
        path=entry.path,
        module=module,
        parsed=True,
        imports=imports,
        compute=scan_compute(src, rules.compute),
        network=scan_network(src, rules.network),
        io=scan_io(src, project_files),
        magics=tuple((src.location(line), text) for line, text in src.magics),
        problems=problems,
        is_notebook=is_notebook,
        api_uses=scan_removed_apis(src, rules.removed_apis, rules.extras),
    )


# Worker-process state, set once per worker by `_init_worker` (so rules are pickled once per worker).
_WORKER: dict[str, Any] = {}


def _init_worker(root: Path, rules: Rules, project_files: frozenset[str]) -> None:
    _WORKER.update(root=root, rules=rules, project_files=project_files)


def _scan_in_worker(job: tuple[FileEntry, str]) -> FileScan:
    entry, module = job
    return scan_file(_WORKER["root"], entry, module, _WORKER["rules"], _WORKER["project_files"])


class _Scanner:
    """Turns batches of relative paths into FileScans: cache first, then inline or in a process pool."""

    def __init__(self, tree: ProjectTree, rules: Rules, cache: FileCache | None, workers: int | None) -> None:
        self.tree = tree
        self.rules = rules
        self.cache = cache
        self.workers = workers
        self.project_files = tree.project_files
        self.context = context_fingerprint(rules, self.project_files) if cache is not None else ""
        self.root_key = str(tree.root)
        self.scans: dict[str, FileScan] = {}
        self._pool: Executor | None = None

    def _pool_size(self, pending: int) -> int:
        if self.workers is None:
            return AUTO_WORKERS if pending > POOL_THRESHOLD and (os.cpu_count() or 1) > 1 else 1
        return self.workers if pending >= 2 * self.workers else 1

    def _executor(self, size: int) -> Executor:
        if self._pool is None:
            # fork is cheap and safe from the main thread; from other threads (the MCP server runs sync
            # tools in worker threads) forking can deadlock, so start clean interpreters there.
            method = "fork" if threading.current_thread() is threading.main_thread() and sys.platform == "linux" else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=size,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(self.tree.root, self.rules, self.project_files),
            )
        return self._pool

    def scan(self, rels: Iterable[str]) -> dict[str, FileScan]:
        out: dict[str, FileScan] = {}
        misses: list[tuple[FileKey, FileEntry, str]] = []
        files = self.tree.files
        for rel in rels:
            entry = files[rel]
            key = FileKey(self.root_key, rel, entry.size, entry.mtime_ns, self.context)
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                out[rel] = hit
            else:
                misses.append((key, entry, self.tree.module_name(rel)))
        size = self._pool_size(len(misses))
        if size > 1:
            jobs = [(entry, module) for _, entry, module in misses]
            chunk = max(1, min(64, len(jobs) // (size * 8)))
            results: Iterable[FileScan] = self._executor(size).map(_scan_in_worker, jobs, chunksize=chunk)
        else:
            results = (scan_file(self.tree.root, entry, module, self.rules, self.project_files)
                       for _, entry, module in misses)
        for (key, entry, _), scan in zip(misses, results, strict=False):
            out[entry.path] = scan
            if self.cache is not None:
                self.cache.put(key, scan)
        self.scans.update(out)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self.cache is not None:
            self.cache.commit()


def _python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def analyze(
    path: str | os.PathLike[str],
    entrypoint: str | os.PathLike[str] | None = None,
    *,
    rules: Rules,
    cache: FileCache | None = None,
    all_files: bool = False,
    workers: int | None = None,
    python: str | None = None,
) -> Analysis:
    """Analyse a script, notebook or project folder statically.

    Args:
        path: a `.py` file, a `.ipynb` notebook, or a project folder.
        entrypoint: for a folder, the file to run; omitted, the obvious one is found.
        rules: the knowledge tables (`mljobs.skill.knowledge.load_rules()`, or tiny inline ones in tests).
        cache: per-file scan results to reuse for unchanged files (and to fill).
        all_files: scan every .py file in the tree, not only what the entrypoint reaches (as pipreqs does);
            a folder then needs no entrypoint.
        workers: worker processes for the per-file scans. None: automatic (a pool of 2 when more than
            200 files need scanning); 1: never a pool; n > 1: a pool of n for batches of at least 2n.
        python: the job's Python version ("3.11") for the runtime package list; default this interpreter's.

    Returns:
        The Analysis. Unreadable or unparsable files (including a syntax error in the entrypoint) are
        `problems`; everything else is still analysed.

    Raises:
        AnalysisInputError: the path does not exist, no entrypoint can be found, the entrypoint is outside
            the folder, the entrypoint cannot be read at all, or it is a notebook with no Python to read.
    """
    from .compute import decide_compute
    from .configs import config_imports, config_network, read_configs, scan_configs
    from .io import summarize_io
    from .network import summarize_network
    from .packages import classify_packages, environment_problems
    from .requirements import read_declared
    from .unresolved import split_unresolved

    inp = open_project(path, entrypoint, all_files=all_files)
    tree = inp.tree
    entry = inp.entrypoint
    if entry:
        try:
            with open(tree.root / entry, "rb"):
                pass
        except OSError as exc:
            raise AnalysisInputError(f"cannot read {tree.root / entry}: {exc.strerror}; check its permissions") from exc

    # An unchanged tree (same listing, options, rules and environment) gives the same Analysis.
    whole_key = None
    python = python or _python_version()
    if cache is not None and hasattr(cache, "get_result"):
        whole_key = result_key(
            str(tree.root), entry, tree.files.values(),
            context=context_fingerprint(rules, tree.project_files), options=f"all_files={all_files};py={python}",
        )
        hit = cache.get_result(whole_key)
        if isinstance(hit, Analysis):
            return hit

    # A project's config files (LightningCLI, DeepSpeed, recipes) are read and parsed once, for both the
    # import step and the compute step; a lone script's folder is not a project.
    configs = read_configs(tree.root, tree.files, rules.compute) if Path(path).is_dir() else []
    scanner = _Scanner(tree, rules, cache, workers)
    resolver = LocalResolver(tree, entry)
    try:
        if all_files:
            rels = ([entry] if entry else []) + sorted(r for r in tree.files if r.endswith(".py") and r != entry)
            scans = scanner.scan(rels)
            order = rels
            local: set[str] = set()
            for rel in rels:
                for finding in scans[rel].imports:
                    local.update(dotted for dotted, _ in resolver.resolve(finding, rel) if dotted)
        else:
            # A project's config files name classes the program imports at run time (LightningCLI
            # `class_path`, Hydra `_target_`): they count as imports of the entrypoint.
            extra = tuple(config_imports(configs))

            def imports_of(batch: list[str]) -> dict[str, Iterable[ImportFinding]]:
                found: dict[str, Iterable[ImportFinding]] = {
                    rel: scan.imports for rel, scan in scanner.scan(batch).items()}
                if entry in found and extra:
                    found[entry] = (*found[entry], *extra)
                return found

            order, local = follow_imports(resolver, entry, imports_of)
    finally:
        scanner.close()

    all_scans = [scanner.scans[rel] for rel in order]
    if entry and inp.is_notebook and not all_scans[0].parsed:
        reason = all_scans[0].problems[0].message if all_scans[0].problems else "nothing to analyse"
        raise AnalysisInputError(f"{entry}: {reason}")
    parsed = [s for s in all_scans if s.parsed]

    # imports -> compute
    imports: tuple[ImportFinding, ...] = tuple(f for s in parsed for f in s.imports if f.level == 0)
    compute_scans = [s.compute for s in parsed if s.compute is not None]
    config_scans = scan_configs(configs, rules.compute)
    compute_scans.extend(config_scans)
    config_needs = config_network(config_scans, rules.network.hosts(NetworkCategory("huggingface")))
    verdict = decide_compute(compute_scans, rules.compute)
    # -> packages
    magics = [m for s in parsed for m in s.magics]
    declared = read_declared(tree.root, magics)
    from .extras import extra_needs
    local_names = frozenset(local) | frozenset(n.split(".", 1)[0] for n in local) | tree.top_level_names()
    packages, runtime = classify_packages(
        imports,
        local_modules=local_names,
        declared=declared,
        rules=rules.packages,
        gpu=verdict.recommendation is ComputeTarget.GPU,
        python=python,
        extras=extra_needs((u for s in parsed for u in s.api_uses), rules.extras),
    )
    packages, missing_modules, unresolved = split_unresolved(
        packages, [(s.path, s.imports) for s in parsed], tree, resolver)
    # -> network
    network = summarize_network((*(f for s in parsed for f in s.network), *config_needs), packages, rules.network)
    # -> removed APIs (the packages step knows which library versions the job gets)
    from .removed_apis import check_removed_apis

    removed_apis = check_removed_apis((u for s in parsed for u in s.api_uses), packages, rules.removed_apis)
    # -> io
    io_report = summarize_io([s.io for s in parsed if s.io is not None], entry, tree.project_files)
    data_files = _data_files(io_report.local_inputs, tree)
    # -> method
    local_modules = tuple(sorted(local))
    method = recommend_method(entry, local_modules, data_files, declared.requirements_file, inp.is_notebook)

    problems: list[Problem] = list(tree.problems)
    for scan in all_scans:
        problems.extend(scan.problems)
    problems.extend(declared.problems)
    problems.extend(environment_problems(imports, rules.packages))
    problems.extend(unresolved)
    analysis = Analysis(
        root=str(tree.root),
        entrypoint=entry,
        files=tuple(s.path for s in all_scans),
        compute=verdict,
        packages=packages,
        local_modules=local_modules,
        network=network,
        io=io_report,
        method=method,
        declared=tuple(declared.requirements),
        requirements_file=declared.requirements_file,
        data_files=data_files,
        problems=tuple(sorted(problems, key=lambda p: p.location.sort_key())),
        runtime=runtime,
        missing_modules=missing_modules,
        removed_apis=removed_apis,
    )
    if whole_key is not None and cache is not None:
        cache.put_result(whole_key, analysis)
        cache.commit()
    return analysis


def _data_files(local_inputs: Sequence[Any], tree: ProjectTree) -> tuple[str, ...]:
    """Relative paths of the local input files that exist inside the project tree."""
    found: set[str] = set()
    for finding in local_inputs:
        if finding.exists_locally:
            rel = finding.detail[2:] if finding.detail.startswith("./") else finding.detail
            found.add(rel if rel in tree.files else finding.detail)
    return tuple(sorted(found))
