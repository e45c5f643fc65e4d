"""Job environments for the local pool: startup.sh's `pip install -r requirements.txt`, made fast and shared.

A job with requirements runs in a virtualenv layered over the job interpreter (the local pool's "runtime
image": its site packages stay visible, like the image's preinstalled packages). Environments live in one
folder keyed by the requirement set and the interpreter, so a second job with the same requirements reuses
the first one's environment and starts at once; installs go through `uv` with one shared package cache
(pip is the fallback when uv is missing). Only what the interpreter does not already satisfy is installed.

Also here: the package-index access check (a job without an EAI reaching PyPI fails like it would in
Snowflake) and the network-guard `sitecustomize` that follows every Python process of the job.

Stdlib only (plus `packaging`, which the job interpreter carries with snowflake-ml-python); copied into the
job's `system/` folder and imported by path by the job script.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

try:  # inside the mljobs package
    from . import netguard
except ImportError:  # copied into <job_dir>/system/ and run by path
    import mljobs_netguard as netguard  # type: ignore[import-not-found, no-redef, unused-ignore]

PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
READY_MARK = ".mljobs-ready"

SITECUSTOMIZE = '''"""mljobs local pool: the job's network guard in each Python process (generated)."""
import importlib.util as _u
import os as _os
import sys as _sys


def _mljobs_guard():
    here = _os.path.dirname(_os.path.abspath(__file__))
    system = _os.path.dirname(here)
    _sys.path.insert(0, system)
    try:
        import mljobs_netguard
        mljobs_netguard.install_from_env()
    finally:
        _sys.path.remove(system)
    # This file shadows any other sitecustomize on sys.path: run the next one too.
    for entry in _sys.path:
        candidate = _os.path.join(entry or ".", "sitecustomize.py")
        if _os.path.abspath(entry or ".") != here and _os.path.isfile(candidate):
            spec = _u.spec_from_file_location("_mljobs_next_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(_u.module_from_spec(spec))
            break


_mljobs_guard()
'''


class EnvError(Exception):
    """The job environment could not be created or its requirements not installed."""


# ---------------------------------------------------------------- index settings and access


def _pip_config() -> tuple[list[str], list[str], list[str], str | None]:
    """(index urls, extra index urls, find-links, cert file) from this machine's pip env vars and pip.conf."""
    index = os.environ.get("PIP_INDEX_URL", "").split()
    extra = os.environ.get("PIP_EXTRA_INDEX_URL", "").split()
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    cert = os.environ.get("PIP_CERT") or None
    files = [Path("/etc/pip.conf"), Path.home() / ".config" / "pip" / "pip.conf", Path.home() / ".pip" / "pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    for path in files:
        parser = configparser.ConfigParser()
        with contextlib.suppress(OSError, configparser.Error):
            parser.read(path)
        for section in parser.sections():
            index += parser.get(section, "index-url", fallback="").split()
            extra += parser.get(section, "extra-index-url", fallback="").split()
            links += parser.get(section, "find-links", fallback="").split()
            cert = cert or parser.get(section, "cert", fallback=None)
    return list(dict.fromkeys(index)), list(dict.fromkeys(extra)), list(dict.fromkeys(links)), cert


def pip_config_index_hosts() -> list[str]:
    """Hosts of the machine's own pip index settings (env and pip.conf files): its stand-in for PyPI."""
    index, extra, _, _ = _pip_config()
    hosts = []
    for url in index + extra:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            port = parts.port or (80 if parts.scheme == "http" else 443)
            hosts.append(f"{parts.hostname}:{port}")
    return hosts


def _requirement_indexes(lines: list[str]) -> tuple[list[str], bool]:
    """(index hosts named by `--index-url`/`--extra-index-url` options, whether PyPI stays the main index)."""
    hosts, pypi_main = [], True
    for line in lines:
        parts = line.replace("=", " ", 1).split() if line.startswith("-") else []
        if len(parts) >= 2 and parts[0] in ("--index-url", "-i", "--extra-index-url"):
            url = urlsplit(parts[1])
            if url.hostname:
                hosts.append(f"{url.hostname}:{url.port or (80 if url.scheme == 'http' else 443)}")
            if parts[0] != "--extra-index-url":
                pypi_main = False
    return hosts, pypi_main


def check_index_access(launch: dict[str, Any], lines: list[str]) -> str | None:
    """None when the job's EAIs reach the package index; else the failure message naming the EAI to add."""
    policy = netguard.GuardPolicy.from_config(
        {"job_eais": launch.get("job_eais") or {}, "known_eais": launch.get("known_eais") or {}}
    )
    option_hosts, pypi_main = _requirement_indexes(lines)
    needed = [(h, 443) for h in PYPI_HOSTS] if pypi_main else []
    needed += [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in option_hosts]
    if pypi_main and launch.get("artifact_repositories"):
        needed = needed[len(PYPI_HOSTS) :]  # an artifact repository stands in for PyPI (no EAI needed)
    job = ", ".join(sorted(policy.job_eais))
    for host, port in needed:
        if policy.allows(host, port):
            continue
        would = sorted(n for n, rules in policy.known_eais.items() if netguard.host_allowed(rules, host, port))
        fix = f"add {' or '.join(would)}" if would else f"add an EAI whose network rule allows {host}"
        what = "PyPI access" if host in PYPI_HOSTS else f"access to {host}"
        return f"pip_requirements need {what}, but none of the job's EAIs [{job}] allows {host}; {fix}"
    return None


# ---------------------------------------------------------------- what to install


def unsatisfied(lines: list[str]) -> list[str]:
    """The requirement lines this interpreter does not already satisfy (options and unparsable lines kept).

    The layered environment sees the interpreter's packages, so a requirement it meets needs no install;
    uv, unlike pip, does not look through the layer, so it must not be asked to.
    """
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    keep = []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            keep.append(line)
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            keep.append(line)
            continue
        if req.url or req.extras or not req.specifier.contains(have, prereleases=True):
            keep.append(line)
    return keep


def env_key(lines: list[str], python: str = sys.executable) -> str:
    """Key of an environment: the interpreter and the normalised requirement set (order and comments aside)."""
    norm = sorted({ln.split(" #", 1)[0].strip() for ln in lines if not ln.strip().startswith("#")} - {""})
    blob = json.dumps({"python": os.path.realpath(python), "version": sys.version, "requirements": norm})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def venv_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def uv_binary() -> str | None:
    """The uv executable that ships with the `uv` PyPI package, or one on PATH."""
    try:
        import uv  # type: ignore[import-not-found, unused-ignore]

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _layer_over_interpreter(python: Path) -> None:
    """Make this interpreter's own site packages visible in the new env (when it is itself a venv)."""
    if sys.prefix == sys.base_prefix:
        return
    target = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    parents = [p for p in site.getsitepackages() if os.path.isdir(p)]
    Path(target, "_mljobs_parent_env.pth").write_text("\n".join(parents) + "\n", encoding="utf-8")


def _index_options(installer: str) -> tuple[list[str], dict[str, str]]:
    """Carry this machine's pip index settings over to the installer (uv does not read pip.conf)."""
    if installer != "uv":
        return [], {}
    index, extra, links, cert = _pip_config()
    opts: list[str] = []
    for url in index[:1]:
        opts += ["--index-url", url]
    for url in extra:
        opts += ["--extra-index-url", url]
    for link in links:
        opts += ["--find-links", link]
    return opts, ({"SSL_CERT_FILE": cert} if cert else {})


def create_env(env: Path, installer: str) -> Path:
    uv = uv_binary() if installer == "uv" else None
    if uv:
        cmd = [uv, "venv", "--quiet", "--system-site-packages", "--python", sys.executable, str(env)]
    else:
        cmd = [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EnvError(f"could not create the job environment {env}: {proc.stderr.strip()[-500:]}")
    python = venv_python(env)
    _layer_over_interpreter(python)
    if not uv and subprocess.run([str(python), "-c", "import pip"], capture_output=True, check=False).returncode:
        subprocess.run([str(python), "-m", "ensurepip", "--default-pip"], check=True, stdin=subprocess.DEVNULL,
                       capture_output=True)
    return python


def install_command(python: Path, req_file: Path, installer: str, cache_dir: Path | None) -> list[str]:
    uv = uv_binary() if installer == "uv" else None
    if uv:
        cmd = [uv, "pip", "install", "--python", str(python), "-r", str(req_file)]
        opts, _ = _index_options("uv")
        return cmd + opts + (["--cache-dir", str(cache_dir)] if cache_dir else [])
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", str(req_file)]


def ensure_env(
    lines: list[str],
    *,
    env_root: Path,
    cache_dir: Path | None,
    guarded_env: dict[str, str],
    say: Callable[[str], None],
    installer: str = "uv",
) -> Path:
    """The python of an environment with `lines` installed: reused when one with the same set is ready.

    Raises:
        EnvError: creating the environment or installing failed (the message says which and the exit code).
    """
    if installer == "uv" and uv_binary() is None:
        say("mljobs: uv not found; installing with pip")
        installer = "pip"
    key = env_key(lines) + ("" if installer == "uv" else "-pip")
    env_root.mkdir(parents=True, exist_ok=True)
    env = env_root / key
    python = venv_python(env)
    with _locked(env_root / f"{key}.lock"):
        if (env / READY_MARK).is_file() and python.exists():
            say(f"mljobs: reusing the job environment {env} (same requirements)")
            return python
        shutil.rmtree(env, ignore_errors=True)
        started = time.monotonic()
        say(f"mljobs: creating the job environment {env} ({installer})")
        python = create_env(env, installer)
        todo = unsatisfied(lines)
        if todo:
            req_file = env / "mljobs-requirements.txt"
            req_file.write_text("\n".join(todo) + "\n", encoding="utf-8")
            cmd = install_command(python, req_file, installer, cache_dir)
            _, extra_env = _index_options(installer)
            say("mljobs: " + " ".join([Path(cmd[0]).name, *cmd[1:]]))
            rc = subprocess.run(
                cmd, env={**guarded_env, **extra_env}, stdin=subprocess.DEVNULL, check=False
            ).returncode
            if rc != 0:
                shutil.rmtree(env, ignore_errors=True)
                raise EnvError(f"{installer} install of the job's requirements failed (exit {rc}); see the verbose logs")
        else:
            say("mljobs: the job interpreter already satisfies every requirement")
        (env / READY_MARK).write_text(json.dumps({"requirements": lines, "installer": installer}), encoding="utf-8")
        say(f"mljobs: requirements installed in {time.monotonic() - started:.1f}s")
    return python
