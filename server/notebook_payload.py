"""Notebook jobs: keep the converted script a notebook job runs, and map its tracebacks back to the cells.

The converted script itself travels in the payload (skill/payload.py puts it at `plan.entrypoint` in place of
the notebook), so both backends ship it like any other file and `plan --export-payload` writes it. What only
the server needs is a copy kept after submission, under the state directory keyed by plan hash, so that a
job's logs can name the notebook cell and line of each traceback frame even after the notebook changed.
The user's folder is never written to.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from mljobs.analyzers.nbscript import map_traceback
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import PayloadError, converted_notebook

from .errors import UsageError


def _script_path(state_dir: Path, plan_hash: str, entrypoint: str) -> Path:
    return state_dir / "notebooks" / plan_hash[:16] / posixpath.basename(entrypoint)


def keep_notebook_script(plan: JobPlan, state_dir: Path) -> None:
    """For a notebook plan, save the script its job runs (for `annotate_logs`); nothing for a script plan.

    Raises:
        UsageError: the notebook can no longer be read or converted, or the copy cannot be written.
    """
    if not plan.notebook:
        return
    try:
        script = converted_notebook(plan.source, plan.notebook, plan.method)
    except PayloadError as exc:
        raise UsageError(str(exc)) from None
    path = _script_path(state_dir, plan.plan_hash(), plan.entrypoint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot keep the converted notebook under {path.parent}: {exc.strerror}") from exc


def annotate_logs(logs: str, plan: dict[str, object] | None, plan_hash: str | None, state_dir: Path) -> str:
    """Add `[notebook cell N, line M]` to traceback frames of a notebook job's converted script."""
    if not plan or not plan.get("notebook") or not plan_hash:
        return logs
    entrypoint = str(plan.get("entrypoint") or "")
    try:
        script = _script_path(state_dir, plan_hash, entrypoint).read_text(encoding="utf-8")
    except OSError:
        return logs
    return map_traceback(logs, posixpath.basename(entrypoint), script)
