"""Notebook payloads: write a notebook plan's converted script where the backend reads it, and map tracebacks back.

A plan for a notebook names the notebook (`plan.notebook`) and the script the job runs (`plan.entrypoint`).
Both backends take a file or folder (`plan.source`), so at submission the converted script is written under
the state directory — beside a filtered copy of the project folder for submit_directory — and the backend gets
a plan whose source is that script or copy. The user's folder is never written to. The script is kept
(keyed by plan hash) so a job's logs can name the notebook cell and line of each traceback frame.
"""

from __future__ import annotations

import dataclasses
import posixpath
import shutil
from pathlib import Path

from mljobs.analyzers.model import SubmitMethod
from mljobs.analyzers.nbscript import map_traceback, notebook_to_script
from mljobs.skill.jobplan import JobPlan

from .errors import UsageError

#: Folders never copied into a notebook's staged project (the local backend skips the same ones).
SKIPPED_DIRS = (".git", ".venv", "venv", "__pycache__", "node_modules", ".ipynb_checkpoints", ".mypy_cache")


def _work_dir(state_dir: Path, plan_hash: str) -> Path:
    return state_dir / "notebooks" / plan_hash[:16]


def payload_plan(plan: JobPlan, state_dir: Path) -> JobPlan:
    """The plan a backend submits: unchanged for scripts; for a notebook, its converted script written out.

    Raises:
        UsageError: the notebook cannot be read or converted any more (moved, edited into invalid JSON).
    """
    if not plan.notebook:
        return plan
    work = _work_dir(state_dir, plan.plan_hash())
    source = Path(plan.source)
    notebook = source if plan.method is SubmitMethod.SUBMIT_FILE else source / plan.notebook
    try:
        data = notebook.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the notebook {notebook}: {exc.strerror}; plan again") from exc
    converted = notebook_to_script(data, notebook.name)
    if isinstance(converted, str):
        raise UsageError(f"{converted}; plan again after fixing the notebook")
    try:
        if plan.method is SubmitMethod.SUBMIT_FILE:
            script = work / posixpath.basename(plan.entrypoint)
            target_source = script
        else:
            copy = work / "payload"
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(*SKIPPED_DIRS), symlinks=True)
            script = copy / plan.entrypoint
            target_source = copy
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(converted.script, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the converted notebook under {work}: {exc.strerror}") from exc
    return dataclasses.replace(plan, source=str(target_source), notebook=None)


def annotate_logs(logs: str, plan: dict[str, object] | None, plan_hash: str | None, state_dir: Path) -> str:
    """Add `[notebook cell N, line M]` to traceback frames of a notebook job's converted script."""
    if not plan or not plan.get("notebook") or not plan_hash:
        return logs
    entrypoint = str(plan.get("entrypoint") or "")
    work = _work_dir(state_dir, plan_hash)
    candidates = [work / posixpath.basename(entrypoint), work / "payload" / entrypoint]
    for path in candidates:
        try:
            script = path.read_text(encoding="utf-8")
        except OSError:
            continue
        return map_traceback(logs, posixpath.basename(entrypoint), script)
    return logs
