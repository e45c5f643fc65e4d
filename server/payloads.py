"""Writing a payload (skill/payload.py) to a folder: `plan --export-payload`, the local pool's `app/`, and the
filtered copy the Snowflake backend uploads instead of the raw folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from mljobs.skill.payload import Payload

from .errors import UsageError


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
                shutil.copy2(str(f.source), target)
            written.append(target)
    except OSError as exc:
        raise UsageError(f"could not write the payload to {dest}: {exc}") from exc
    return written
