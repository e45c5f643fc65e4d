"""Where mljobs keeps its state (job store, job folders, caches) and which backend it uses by default."""

from __future__ import annotations

import os
import stat
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


def ensure_private_dir(folder: Path) -> Path:
    """`folder` exists with mode 0700 (only its owner may list or enter it).

    `mkdir(mode=...)` is filtered by the umask and does nothing for a folder that exists, and the first
    writer used to be the analysis cache (created with the default 0755), so the mode is set explicitly.
    A folder owned by someone else is left alone (chmod would fail; its owner decides).
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        st = folder.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            folder.chmod(0o700)
    except (OSError, AttributeError):  # AttributeError: os.getuid does not exist on Windows
        pass
    return folder


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 when it does not exist yet (SQLite then keeps that mode for its
    -wal and -shm files); an existing file of ours is tightened to 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        try:
            st = path.stat()
            if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
                path.chmod(0o600)
        except (OSError, AttributeError):
            pass


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
        """Create the state folder 0700 before anything is written under it (and tighten an existing one)."""
        return ensure_private_dir(self.state_dir)

    @property
    def store_path(self) -> Path:
        return self.state_dir / "jobs.sqlite3"

    @property
    def jobs_dir(self) -> Path:
        return self.state_dir / "jobs"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"
