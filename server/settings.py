"""Where mljobs keeps its state (job store, job folders, caches) and which backend it uses by default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_state_dir() -> Path:
    """`$MLJOBS_STATE_DIR`, else `$XDG_STATE_HOME/mljobs`, else `~/.local/state/mljobs`."""
    explicit = os.environ.get("MLJOBS_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "mljobs"


@dataclass(frozen=True)
class Settings:
    """Process-wide options, from flags or environment. `backend=None` means: Snowflake if a connection
    is configured, otherwise the local pool."""

    state_dir: Path = field(default_factory=default_state_dir)
    backend: str | None = None  # "snowflake" | "local" | None (auto)
    connection_name: str | None = None
    database: str | None = None
    schema: str | None = None
    warehouse: str | None = None
    role: str | None = None
    read_only: bool = False

    def ensure_state_dir(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.state_dir

    @property
    def store_path(self) -> Path:
        return self.state_dir / "jobs.sqlite3"

    @property
    def jobs_dir(self) -> Path:
        return self.state_dir / "jobs"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"
