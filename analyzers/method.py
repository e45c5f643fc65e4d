"""The method pass: which `snowflake.ml.jobs` submission fits the code (a single file or a whole folder)."""

from __future__ import annotations

from collections.abc import Sequence

from .model import MethodRecommendation, SubmitMethod

_MAX_LISTED = 5


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def recommend_method(
    entry: str,
    local_modules: Sequence[str],
    data_files: Sequence[str],
    requirements_file: str | None,
    is_notebook: bool,
) -> MethodRecommendation:
    """Recommend `submit_file` or `submit_directory`, with a reason naming what must travel.

    Args:
        entry: the entrypoint's relative path ("" when none was chosen).
        local_modules: first-party modules the entrypoint imports.
        data_files: local input files inside the project the code reads.
        requirements_file: relative path of a requirements file that must travel, if any.
        is_notebook: the entrypoint is a notebook (its code cells become one script in a later stage).

    Returns:
        submit_directory when local modules, data files or a requirements file must be uploaded with the
        entrypoint (or when there is no single entrypoint); otherwise submit_file.
    """
    if not entry:
        return MethodRecommendation(
            SubmitMethod.SUBMIT_DIRECTORY,
            "no single entrypoint was chosen; upload the folder and pass the script to run as entrypoint",
        )
    travelling: list[str] = []
    if local_modules:
        travelling.append(f"local modules {_listed(sorted(local_modules))}")
    if data_files:
        travelling.append(f"data files {_listed(sorted(data_files))}")
    if requirements_file:
        travelling.append(f"the requirements file {requirements_file}")
    notebook_note = " (its code cells are converted to one script first)" if is_notebook else ""
    if travelling:
        return MethodRecommendation(
            SubmitMethod.SUBMIT_DIRECTORY,
            f"{entry}{notebook_note} needs files beside it: {'; '.join(travelling)}; upload the folder "
            f"with {entry} as entrypoint",
        )
    if is_notebook:
        return MethodRecommendation(
            SubmitMethod.SUBMIT_FILE,
            f"{entry} is self-contained: its code cells are converted to one script (pip lines become "
            "pip_requirements, other magics are made plain Python) and submitted as a single file",
        )
    return MethodRecommendation(
        SubmitMethod.SUBMIT_FILE,
        f"{entry} is self-contained: no local imports, local data files or requirements file",
    )
