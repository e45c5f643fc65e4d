"""Reproduction 13: the local network guard against escapes, in a private network namespace.

`unshare -rnm` gives the probe its own network and mount namespaces: nothing can leave the machine, and
198.51.100.1 on that namespace's loopback interface stands in for the internet (the guard treats it as a
remote address). Skipped where unprivileged namespaces are unavailable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mljobs.server.runner as runner

DOCUMENTED = {"ctypes (documented)", "os.system python -I (documented)", "curl (documented)"}


def _namespaces_work() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(["unshare", "-rnm", "true"], capture_output=True, timeout=10, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces_work(), reason="unprivileged network namespaces are not available")
def test_guard_escapes__python_level_all_held() -> None:
    script = Path(__file__).with_name("netns_probe.py")
    proc = subprocess.run(["unshare", "-rnm", sys.executable, str(script), str(Path(runner.__file__).parent)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    probes = {k: v for k, v in report.items() if not k.startswith("_")}
    allowed = probes.pop("allowed host (must pass the guard)")
    assert "guard refused" not in allowed["detail"]
    escaped = {name for name, v in probes.items() if v["escaped"]}
    python_level = set(probes) - DOCUMENTED
    assert len(python_level) >= 20
    assert escaped & python_level == set(), {n: probes[n]["detail"] for n in escaped & python_level}
    print(f"guard probes: {len(probes)} tried, {len(probes) - len(escaped)} held; "
          f"escaped (documented, outside Python): {sorted(escaped)}")
