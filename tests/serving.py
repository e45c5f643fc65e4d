"""Start `mljobs serve --transport http` as a real process for a test, and stop it after.

Shared by the tests that talk to the server over the network the way a client does (the MCP Inspector
CLI, raw HTTP probes of the remote-access checks).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def http_server(argv: Sequence[str], port: int, env: Mapping[str, str], *, startup_seconds: float,
                capture_stderr: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` (a server listening on `port`), yield once the port accepts connections, then terminate
    it (killed when it does not stop within 15 s). Fails the test when the process exits or the port stays
    closed for `startup_seconds`; with `capture_stderr` the failure shows the server's stderr."""
    proc = subprocess.Popen(list(argv), env=dict(env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if capture_stderr else subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    stderr = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"the server exited before listening: {stderr}") from None
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
