"""Merging per-file io scans into the job's IoReport, and the project-tree checks both sides share.

`scan_io` (io.py) sees one file; paths held in another module's constants, the CLI declarations of every
file and the Snowflake objects are combined here, where every scan of the project is at hand.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .model import CliOption, Confidence, IoFinding, IoKind, IoReport, Location

K = IoKind
_UNKNOWN = "{}"


@dataclass(frozen=True, slots=True)
class IoScan:
    """What one file does with files and the Snowpark session (picklable, cached per file fingerprint).

    `cli_open` says why the file's parser may accept undeclared options (parse_known_args, subparsers, fire,
    a computed flag); `parsers` counts ArgumentParser() calls and click/typer commands.
    """

    path: str
    findings: tuple[IoFinding, ...]
    cli_options: tuple[CliOption, ...] = ()
    cli_open: tuple[str, ...] = ()
    parsers: int = 0
    #: Module-level constants that hold a path (name, path cleaned relative to the root), for other modules.
    constants: tuple[tuple[str, str], ...] = ()
    #: Reads and writes whose path is an imported name: (qualified name, write, location, code).
    pending: tuple[tuple[str, bool, Location, str], ...] = ()


@functools.lru_cache(maxsize=4)
def _folders(project_files: frozenset[str]) -> frozenset[str]:
    """Every folder that holds a project file (computed once per project; frozensets cache their hash)."""
    out: set[str] = set()
    for f in project_files:
        folder = posixpath.dirname(f)
        while folder and folder not in out:
            out.add(folder)
            folder = posixpath.dirname(folder)
    return frozenset(out)


def _exists(path: str, file_path: str, project_files: frozenset[str]) -> bool:
    """Whether `path` (a file, folder or glob, as read from `file_path`) is inside the project tree."""
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", path):
        return False
    folder = posixpath.dirname(file_path)
    candidates = {posixpath.normpath(path)}
    if folder:
        candidates.add(posixpath.normpath(posixpath.join(folder, path)))
    for cand in candidates:
        if cand.startswith("../"):
            continue
        if any(ch in cand for ch in "*?[") or _UNKNOWN in cand:
            pattern = cand.replace(_UNKNOWN, "*")
            if any(fnmatchcase(f, pattern) or fnmatchcase(f, pattern + "/*") for f in project_files):
                return True
            continue
        if cand in project_files or cand == "." or cand in _folders(project_files):
            return True
    return False


def _imported_paths(scan: IoScan, by_path: dict[str, IoScan], project_files: frozenset[str]) -> list[IoFinding]:
    """Reads and writes of one file whose path is a constant of another analysed module (`config.DATA_PATH`)."""
    out: list[IoFinding] = []
    for qual, write, loc, code in scan.pending:
        level = len(qual) - len(qual.lstrip("."))
        module, _, name = qual.lstrip(".").rpartition(".")
        base = posixpath.dirname(scan.path)
        for _ in range(max(level - 1, 0)):
            base = posixpath.dirname(base)
        stem = module.replace(".", "/")
        heads = [base] if level else ["", "src"]
        defining = next((by_path[c] for h in heads for c in (posixpath.join(h, stem + ".py"),
                                                              posixpath.join(h, stem, "__init__.py"))
                         if c in by_path), None)
        value = dict(defining.constants).get(name) if defining is not None and module else None
        if value is None or defining is None:
            continue
        origin = f"{module}.{name} ({defining.path})"
        if write:
            out.append(IoFinding(K.HARDCODED_OUTPUT, loc, code, value, Confidence.LIKELY,
                                 f"writes {value}, held in {origin}; inside the job it is lost when the job ends: "
                                 'write under os.environ["MLRS_STAGE_RESULT_PATH"]'))
            continue
        found = _exists(value, defining.path, project_files)
        hint = (f"reads {value}, held in {origin}: " + ("ship it with submit_directory (it is in the project) or "
                "read it from a stage" if found else "it is not in the project: upload it to a stage and read it "
                "from there, or ship it with submit_directory"))
        out.append(IoFinding(K.LOCAL_INPUT, loc, code, value, Confidence.LIKELY, hint, exists_locally=found))
    return out


def _first_writes(outputs: Sequence[IoFinding]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(file, normalised path) -> where that file first writes the path (as `Location.sort_key` orders)."""
    first: dict[tuple[str, str], tuple[int, int, int]] = {}
    for f in outputs:
        key = (f.location.path, posixpath.normpath(f.detail))
        where = f.location.sort_key()[1:]
        if key not in first or where < first[key]:
            first[key] = where
    return first


def _reads_own_output(f: IoFinding, written: dict[tuple[str, str], tuple[int, int, int]]) -> bool:
    """A read of a file that is not in the project and that the same file wrote earlier in the run
    (`ModelCheckpoint("best.h5")` ... `load_model("best.h5")`): the job makes it, it is no input to supply.
    Only within one file, where source order is run order; a read before the write stays an input."""
    if f.exists_locally:
        return False
    where = written.get((f.location.path, posixpath.normpath(f.detail)))
    return where is not None and where < f.location.sort_key()[1:]


def summarize_io(scans: Sequence[IoScan], entrypoint: str, project_files: frozenset[str] = frozenset()) -> IoReport:
    """Merge per-file scans into the job's IoReport.

    The entrypoint's findings come first. `__return__` and the main-guard call count only in the entrypoint
    (an imported module's globals are not the job's); options, outputs, inputs and Snowpark use count in
    every file. A read or write whose path is a constant of another analysed module is resolved here
    (`project_files` says whether it exists). Local inputs are deduplicated by path, keeping the first; a
    read of a file the same file wrote before it (and that the project does not hold) is no input.
    """
    ordered = sorted(scans, key=lambda s: (s.path != entrypoint, s.path))
    by_kind: dict[IoKind, list[IoFinding]] = {kind: [] for kind in IoKind}
    by_path = {scan.path: scan for scan in scans}
    for scan in ordered:
        for f in [*scan.findings, *_imported_paths(scan, by_path, project_files)]:
            if f.kind in (K.SETS_RETURN, K.ENTRYPOINT_CALL) and scan.path != entrypoint:
                continue
            by_kind[f.kind].append(f)
    inputs: list[IoFinding] = []
    seen_inputs: set[str] = set()
    written = _first_writes(by_kind[K.HARDCODED_OUTPUT])
    for f in by_kind[K.LOCAL_INPUT]:
        if f.detail in seen_inputs or _reads_own_output(f, written):
            continue
        seen_inputs.add(f.detail)
        inputs.append(f)
    returns = tuple(by_kind[K.SETS_RETURN])
    snowpark = tuple(by_kind[K.SNOWPARK_SESSION])
    calls = by_kind[K.ENTRYPOINT_CALL]
    options = tuple(o for scan in ordered for o in scan.cli_options)
    parsers = sum(scan.parsers for scan in ordered)
    closed = bool(options) and parsers == 1 and not any(scan.cli_open for scan in ordered) \
        and all(o.known for o in options)
    objects: list[IoFinding] = []
    seen_objects: set[tuple[IoKind, str, str | None]] = set()
    for f in by_kind[K.SNOWFLAKE_TABLE] + by_kind[K.SNOWFLAKE_STAGE]:
        key = (f.kind, f.detail.upper() if f.kind is K.SNOWFLAKE_TABLE else f.detail, f.privilege)
        if key not in seen_objects:
            seen_objects.add(key)
            objects.append(f)
    return IoReport(
        output_args=tuple(by_kind[K.OUTPUT_ARG]),
        hardcoded_outputs=tuple(by_kind[K.HARDCODED_OUTPUT]),
        local_inputs=tuple(inputs),
        sets_return=bool(returns),
        return_evidence=returns,
        uses_snowpark=bool(snowpark),
        snowpark_evidence=snowpark,
        entrypoint_call=calls[0] if calls else None,
        cli_options=options,
        cli_closed=closed,
        snowflake_objects=tuple(objects),
    )


