"""Payload cleanup: find payload folders on a stage whose jobs no longer exist, and remove them once confirmed.

ML Jobs are dropped after a 7-day TTL, but their payload folders stay on the stage (research
snowflake-facts §5.3: "job payload stages ... are not automatically cleaned up"). Each submission by mljobs
uploads to `@STAGE/<NAME>_<8 hex>/`, and the job service is named `<NAME>_<8 hex>_<server suffix>`
(server/backends/snowflake.py). A folder whose prefix no live job service in the schema carries is an
orphan. Listing is read-only; removal needs a Confirmation bound to exactly the listed folders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mljobs.skill.identifiers import validate_stage

#: Per-submission payload folders (`TRAIN_ab12cd34`), as the Snowflake backend names them.
PAYLOAD_DIR = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*_[0-9A-Fa-f]{8}$")


@dataclass(frozen=True, slots=True)
class OrphanPayload:
    folder: str  # @DB.SCHEMA.STAGE/NAME_ab12cd34
    files: int
    size: int  # bytes


@dataclass(frozen=True, slots=True)
class CleanupPlan:
    """What a cleanup would remove; `subject` is what a confirmation is bound to."""

    stage: str
    orphans: tuple[OrphanPayload, ...]
    live_folders: int  # payload folders whose job still exists (kept)

    @property
    def subject(self) -> str:
        digest = hashlib.sha256("\n".join([self.stage, *(o.folder for o in self.orphans)]).encode()).hexdigest()
        return f"{self.stage}#{digest[:16]}"

    def render(self) -> str:
        if not self.orphans:
            return f"No orphaned payload folders on {self.stage} ({self.live_folders} belong to live jobs)."
        total = sum(o.size for o in self.orphans)
        lines = [f"{len(self.orphans)} payload folder(s) on {self.stage} whose jobs no longer exist "
                 f"({total} bytes; {self.live_folders} folder(s) of live jobs are kept):"]
        lines += [f"  {o.folder}/  ({o.files} files, {o.size} bytes)" for o in self.orphans]
        return "\n".join(lines)


def _rows(session: Any, sql: str) -> list[dict[str, Any]]:
    out = []
    for row in session.sql(sql).collect():
        data = row.as_dict() if hasattr(row, "as_dict") else dict(row)
        out.append({str(k).strip('"').lower(): v for k, v in data.items()})
    return out


def find_orphan_payloads(session: Any, stage: str) -> CleanupPlan:
    """List the stage's per-job payload folders and keep those without a live job service (read-only).

    Args:
        session: an open Snowpark session.
        stage: the payload stage, fully qualified (`@DB.SCHEMA.STAGE`).

    Raises:
        InvalidIdentifier: the stage is not a plain, fully qualified stage name.
    """
    ref = validate_stage(stage, "payload stage")
    name = ref[1:].split("/", 1)[0]
    parts = name.split(".")
    if len(parts) != 3:
        from mljobs.skill.identifiers import InvalidIdentifier

        raise InvalidIdentifier(f"payload stage {stage!r} must be fully qualified: @DB.SCHEMA.STAGE")
    db, schema, _ = parts
    folders: dict[str, list[int]] = {}
    for row in _rows(session, f"LIST @{name}"):
        path = str(row.get("name") or "")
        rest = path.split("/", 1)[1] if "/" in path else ""
        folder = rest.split("/", 1)[0]
        if "/" in rest and PAYLOAD_DIR.match(folder):
            folders.setdefault(folder, []).append(int(row.get("size") or 0))
    jobs = [str(r.get("name") or "").upper() for r in _rows(session, f"SHOW JOB SERVICES LIKE '%' IN SCHEMA {db}.{schema}")]
    orphans, live = [], 0
    for folder, sizes in sorted(folders.items()):
        prefix = folder.upper()
        if any(job == prefix or job.startswith(prefix + "_") for job in jobs):
            live += 1
        else:
            orphans.append(OrphanPayload(f"@{name}/{folder}", len(sizes), sum(sizes)))
    return CleanupPlan(f"@{name}", tuple(orphans), live)


def remove_payloads(session: Any, orphans: Sequence[OrphanPayload]) -> list[str]:
    """REMOVE each folder (callers hold a confirmation for exactly these); returns the folders removed."""
    removed = []
    for orphan in orphans:
        folder = validate_stage(orphan.folder, "payload folder")
        if not PAYLOAD_DIR.match(folder.rsplit("/", 1)[-1]):
            continue  # never remove anything but a per-job payload folder
        session.sql(f"REMOVE {folder}/").collect()
        removed.append(folder)
    return removed
