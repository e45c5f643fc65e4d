"""Writing a payload (skill/payload.py) to a folder: `plan --export-payload`, the local pool's `app/`, and the
filtered copy the Snowflake backend uploads instead of the raw folder. Files are copied through the same
guarded read as server/payload.py (which also fingerprints the folder for confirmations)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mljobs.analyzers import guarded
from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import Payload, payload_for_plan

from .errors import UsageError
from .payload import PayloadError


def export_payload(payload: Payload, dest: Path, *, allow_existing: bool = False) -> list[Path]:
    """Write exactly the payload's files under `dest` and return their paths.

    Raises:
        UsageError: `dest` exists and is not empty (nothing is overwritten), or a file could not be written.
    """
    dest = Path(dest)
    if dest.exists() and not allow_existing and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not empty; export the payload into a new or empty folder")
    written = []
    try:
        for f in payload.files:
            target = dest / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.origin == "generated":
                target.write_text(f.content or "", encoding="utf-8")
            else:
                # The guarded read (server/payload.py does the same): the real file, still inside the root,
                # copied as a regular file, so no symlink survives into what is shipped.
                real = guarded.inside(Path(str(f.source)), payload.root)
                shutil.copyfile(real, target)
                shutil.copymode(real, target)
            written.append(target)
    except guarded.GuardedReadError as exc:
        raise PayloadError(f"cannot copy into the payload: {exc.message}") from None
    except OSError as exc:
        raise PayloadError(f"could not write the payload to {dest}: {exc.strerror or exc}") from None
    return written


def staged_payload(plan: JobPlan, kwargs: dict[str, Any]) -> contextlib.AbstractContextManager[Any] | None:
    """For the Snowflake backend: the plan's payload in a temporary folder, to upload with submit_directory
    instead of the raw folder (which the library would upload whole: .env, .git, virtualenvs...).

    None when the plan uploads as is: a single file without the entry wrapper, a stage source, @remote.
    The context yields (folder, entrypoint relative to it, args for the launcher).
    """
    if plan.method not in (SubmitMethod.SUBMIT_FILE, SubmitMethod.SUBMIT_DIRECTORY):
        return None
    payload = payload_for_plan(plan)
    if payload is None or not (plan.method is SubmitMethod.SUBMIT_DIRECTORY or payload.wrapper):
        return None
    return _staged(payload, list(kwargs.get("args") or []))


@contextlib.contextmanager
def _staged(payload: Payload, args: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    with tempfile.TemporaryDirectory(prefix="mljobs_payload_") as tmp:
        export_payload(payload, Path(tmp), allow_existing=True)
        entry = payload.entrypoint.rsplit("/app/", 1)[1]
        yield tmp, entry, ([payload.args[0], *args] if payload.wrapper else args)
