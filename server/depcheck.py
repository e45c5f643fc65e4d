"""Dependency preflight: what `pip install -r requirements.txt` will do inside the runtime image, before any
credit is spent.

The container installs the job's requirements into an image that already has hundreds of packages. pip
keeps an installed version when it satisfies the requirement and replaces it when not. We ask a real
resolver (uv) the same question, for the image's Python and Linux platform: the image's versions go in as
*preferences* (uv keeps the versions of an existing output file unless a requirement forces otherwise,
like pip's only-if-needed strategy). From the answer we report the full install set with transitive
dependencies, its download size (from the index's file sizes, PEP 700, via a PEP 751 lock), and every
preinstalled package the install would replace, with both versions and the fix.

No index reachable (or no uv) gives `not_checked` and the plan goes on. Answers are cached per
requirement set, image and index in a JSON file under the state directory.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mljobs.skill.redact import redact

log = logging.getLogger(__name__)

#: The Container Runtime images are x86-64 Linux (manylinux_2_28 wheels install there).
PLATFORM = "x86_64-manylinux_2_28"
#: How long a cached answer stands (indexes publish new releases; a day is fresh enough for a preview).
CACHE_TTL_SECONDS = 24 * 3600
RESOLVE_TIMEOUT_SECONDS = 120
CACHE_FORMAT = 1

_NETWORK_MARKERS = (
    "failed to fetch", "error sending request", "dns error", "connection refused", "tcp connect error",
    "could not connect", "network is unreachable", "timed out", "failed to resolve", "client error",
    "failed to read from the distribution cache", "os error 101", "os error 111", "name or service not known",
)


class DepStatus(str, enum.Enum):
    CHECKED = "checked"  # resolved: install set, size and conflicts are known
    UNRESOLVABLE = "unresolvable"  # no set of versions satisfies the requirements: pip fails in the job
    NOT_CHECKED = "not_checked"  # no index reachable, no resolver, or a timeout: nothing is known
    NOTHING = "nothing"  # no requirements to install


@dataclass(frozen=True, slots=True)
class InstallItem:
    """One distribution pip would download and install in the job."""

    name: str
    version: str
    size: int | None  # bytes of the file pip would download; None when the index does not say
    direct: bool  # named in the requirements (else pulled in by `via`)
    via: tuple[str, ...] = ()
    replaces: str | None = None  # the image's version this install replaces
    builds_from_source: bool = False  # only an sdist exists for the image's platform


@dataclass(frozen=True, slots=True)
class DepConflict:
    """A preinstalled package the requirements would replace (or cannot live with)."""

    name: str
    image_version: str
    wanted: str  # the version pip would install, or the requirement's specifier when unresolvable
    requested_by: tuple[str, ...]  # "requirements" for a direct pin, else the packages that need it
    size: int | None
    fix: str

    @property
    def message(self) -> str:
        size = f", a {_human(self.size)} download" if self.size else ""
        who = "your requirements" if self.requested_by == ("requirements",) else ", ".join(self.requested_by)
        return (f"{self.name}: the image has {self.image_version}; {who} need {self.wanted}, so pip in the job "
                f"replaces it{size}")


@dataclass(frozen=True, slots=True)
class DepCheck:
    """The dependency preflight of one requirement set against one runtime image."""

    status: DepStatus
    image: str  # runtime label, e.g. "2.10-cpu-py3.11"
    requirements: tuple[str, ...]
    install: tuple[InstallItem, ...] = ()
    conflicts: tuple[DepConflict, ...] = ()
    download_bytes: int | None = None
    reason: str | None = None  # why not checked / why unresolvable
    index: str = "PyPI"
    seconds: float = 0.0
    cached: bool = False
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """One line for the confirmation summary."""
        match self.status:
            case DepStatus.NOTHING:
                return "nothing to install"
            case DepStatus.NOT_CHECKED:
                return f"not checked ({self.reason})"
            case DepStatus.UNRESOLVABLE:
                return f"cannot be installed: {self.reason}"
            case DepStatus.CHECKED if not self.install:
                return "nothing to install: the image has a version of every requirement"
            case DepStatus.CHECKED:
                size = _human(self.download_bytes) if self.download_bytes is not None else "size unknown"
                conflicts = f"; replaces {len(self.conflicts)} preinstalled" if self.conflicts else ""
                return f"{len(self.install)} to install ({size}){conflicts}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DepCheck:
        values = dict(data)
        values["status"] = DepStatus(values["status"])
        values["requirements"] = tuple(values["requirements"])
        values["install"] = tuple(InstallItem(**{**i, "via": tuple(i["via"])}) for i in values["install"])
        values["conflicts"] = tuple(
            DepConflict(**{**c, "requested_by": tuple(c["requested_by"])}) for c in values["conflicts"])
        values["notes"] = tuple(values.get("notes") or ())
        return cls(**values)


def _human(size: int | None) -> str:
    if size is None:
        return "unknown size"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _public(version: str) -> str:
    try:
        return Version(version).public
    except InvalidVersion:
        return version.split("+", 1)[0]


def find_uv() -> str | None:
    """The uv binary: the one the `uv` distribution ships (a dependency of mljobs), else one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


# ------------------------------------------------------------------------------------------------ parsing


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def parse_compiled(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """`uv pip compile` output (requirements.txt with `# via` annotations) -> {name: (version, via)}.

    `via` holds canonical package names, and "requirements" for a `-r file` origin.
    """
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    current: str | None = None
    version = ""
    via: list[str] = []

    def flush() -> None:
        if current is not None:
            out[current] = (version, tuple(dict.fromkeys(via)))

    for raw in text.splitlines():
        line = raw.strip()
        match = _PIN.match(line)
        if match:
            flush()
            current, version, via = canonicalize_name(match.group(1)), match.group(2), []
            continue
        if current is None or not line.startswith("#"):
            continue
        body = line.lstrip("#").strip()
        if body.startswith("via"):
            body = body[3:].strip()
        if not body:
            continue
        if body.startswith("-r") or body.startswith("-c"):
            via.append("requirements")
        else:
            via.append(canonicalize_name(body.split()[0]))
    flush()
    return out


def _file_size(entry: Mapping[str, Any]) -> int | None:
    """The entry's `size` (PEP 700 via the lock), or the size on disk of a local (find-links) file."""
    if isinstance(entry.get("size"), int):
        return entry["size"]
    url = str(entry.get("url", ""))
    if url.startswith("file://"):
        try:
            return Path(unquote(urlparse(url).path)).stat().st_size
        except OSError:
            return None
    return None


def _wheel_choice(package: Mapping[str, Any]) -> tuple[int | None, bool]:
    """(size, builds_from_source) of the file pip would fetch: a platform wheel, else a pure one, else the sdist."""
    wheels = [w for w in package.get("wheels") or [] if isinstance(w, Mapping)]
    binary = [w for w in wheels if not str(w.get("url", w.get("name", ""))).endswith("-none-any.whl")]
    for wheel in binary or wheels:
        return _file_size(wheel), False
    sdist = package.get("sdist")
    if isinstance(sdist, Mapping):
        return _file_size(sdist), True
    return None, False


# ------------------------------------------------------------------------------------------------ checking


@dataclass
class DependencyChecker:
    """Runs uv and caches answers. `run` and `now` are injectable for tests (the real ones by default)."""

    cache_dir: Path | None = None
    index_url: str | None = None  # None: uv's default (PyPI) or UV_INDEX_URL / PIP_INDEX_URL from the env
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    offline_index: bool = False  # --no-index (with find_links only): for air-gapped use and tests
    uv: str | None = None
    timeout: float = RESOLVE_TIMEOUT_SECONDS
    now: Callable[[], float] = time.time
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run

    @classmethod
    def from_environment(cls, cache_dir: Path | None) -> DependencyChecker:
        """Honour the user's pip index settings (PIP_INDEX_URL / PIP_EXTRA_INDEX_URL); uv reads UV_* itself."""
        extra = tuple(os.environ.get("PIP_EXTRA_INDEX_URL", "").split())
        return cls(cache_dir=cache_dir, index_url=os.environ.get("PIP_INDEX_URL") or None, extra_index_urls=extra)

    def _index_label(self) -> str:
        if self.offline_index:
            return "local files: " + ", ".join(self.find_links)
        return redact(self.index_url) if self.index_url else "PyPI (uv's default index)"

    def _key(self, requirements: Sequence[str], image: str, packages: Mapping[str, str], python: str) -> str:
        h = hashlib.sha256(f"{CACHE_FORMAT}\0{image}\0{python}\0{PLATFORM}\0".encode())
        for part in (*requirements, "\0", *sorted(f"{k}=={v}" for k, v in packages.items()), "\0",
                     self.index_url or "", *self.extra_index_urls, *self.find_links, str(self.offline_index)):
            h.update(part.encode("utf-8", "surrogateescape") + b"\n")
        return h.hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return self.cache_dir / "depcheck" / f"{key}.json" if self.cache_dir else None

    def _cached(self, key: str) -> DepCheck | None:
        path = self._cache_path(key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if self.now() - float(data["at"]) > CACHE_TTL_SECONDS:
                return None
            return DepCheck.from_dict(data["check"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, key: str, check: DepCheck) -> None:
        path = self._cache_path(key)
        if path is None or check.status is DepStatus.NOT_CHECKED:
            return  # "not checked" is a fact about the network now, not about the requirements
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"at": self.now(), "check": check.to_dict()}), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            log.info("dependency preflight cache not written: %s", exc)

    def check(self, requirements: Sequence[str], packages: Mapping[str, str], *, image: str, python: str
              ) -> DepCheck:
        """Resolve `requirements` for the image whose preinstalled versions are `packages`.

        Args:
            requirements: requirement lines as pip gets them (pip_requirements, or a requirements.txt's lines).
            packages: the image's {canonical distribution: version}.
            image: the runtime label, for the report and the cache key.
            python: the image's major.minor Python.

        Returns:
            A DepCheck. Never raises for resolver, network or index trouble: those are `not_checked`
            (with the reason) or `unresolvable` (with the resolver's explanation).
        """
        raw = tuple(r.strip() for r in requirements if r.strip() and not r.strip().startswith("#"))
        lines = tuple(redact(r) for r in raw)  # what is kept and shown; an index URL may carry credentials
        if not raw:
            return DepCheck(DepStatus.NOTHING, image, lines, index=self._index_label())
        started = time.perf_counter()
        key = self._key(raw, image, packages, python)
        hit = self._cached(key)
        if hit is not None:
            return replace(hit, cached=True, seconds=time.perf_counter() - started)
        result = replace(self._resolve(raw, packages, image=image, python=python), requirements=lines,
                         seconds=time.perf_counter() - started)
        self._store(key, result)
        return result

    # ---------------------------------------------------------------------------------------------- uv

    def _base_args(self, python: str) -> list[str]:
        args = ["pip", "compile", "--python-version", python, "--python-platform", PLATFORM, "--no-header",
                "--quiet", "--color", "never"]
        if self.offline_index:
            args.append("--no-index")
        elif self.index_url:
            args += ["--default-index", self.index_url]
        for url in self.extra_index_urls:
            args += ["--index", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def _uv(self, uv: str, args: list[str]) -> subprocess.CompletedProcess[str] | str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        # One retry: an unreachable index should become "not checked" in a second, not after uv's backoff.
        env.setdefault("UV_HTTP_RETRIES", "1")
        try:
            return self.run([uv, *args], capture_output=True, text=True, timeout=self.timeout, env=env,
                            check=False)
        except subprocess.TimeoutExpired:
            return f"the resolver took longer than {self.timeout:g} s"
        except OSError as exc:
            return f"the resolver could not start ({exc.strerror})"

    def _resolve(self, lines: tuple[str, ...], packages: Mapping[str, str], *, image: str, python: str
                 ) -> DepCheck:
        label = self._index_label()
        uv = self.uv or find_uv()
        if uv is None:
            return DepCheck(DepStatus.NOT_CHECKED, image, lines, reason="uv is not installed", index=label)
        direct = _direct_conflicts(lines, packages)
        with tempfile.TemporaryDirectory(prefix="mljobs-depcheck-") as tmp:
            req_file = Path(tmp) / "requirements.in"
            req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            out_file = Path(tmp) / "resolved.txt"
            # The image's versions as preferences: uv keeps an output file's pins unless a requirement
            # forces a change, as pip keeps installed versions that satisfy.
            out_file.write_text("".join(f"{name}=={_public(v)}\n" for name, v in sorted(packages.items())),
                                encoding="utf-8")
            done = self._uv(uv, [*self._base_args(python), str(req_file), "-o", str(out_file)])
            if isinstance(done, str):
                return DepCheck(DepStatus.NOT_CHECKED, image, lines, reason=done, index=label)
            if done.returncode != 0:
                return self._failure(done.stderr, lines, image, label, direct)
            resolved = parse_compiled(out_file.read_text(encoding="utf-8"))
            install, conflicts = _install_set(resolved, packages)
            sizes, notes = self._lock_sizes(uv, tmp, install, python) if install else ({}, [])
        items = tuple(
            InstallItem(name, resolved[name][0], sizes.get(name, (None, False))[0],
                        "requirements" in resolved[name][1], tuple(v for v in resolved[name][1] if v != "requirements"),
                        packages.get(name), sizes.get(name, (None, False))[1])
            for name in install
        )
        size_of = {i.name: i.size for i in items}
        conflict_items = tuple(
            DepConflict(name, packages[name], f"=={resolved[name][0]}", by, size_of.get(name),
                        _fix(name, packages[name], by))
            for name, by in conflicts
        )
        total = sum(i.size for i in items if i.size is not None) if all(i.size is not None for i in items) else None
        return DepCheck(DepStatus.CHECKED, image, lines, items, conflict_items, total, index=label,
                        notes=tuple(notes))

    def _lock_sizes(self, uv: str, tmp: str, install: Sequence[str], python: str
                    ) -> tuple[dict[str, tuple[int | None, bool]], list[str]]:
        """File sizes from a PEP 751 lock of exactly the install set (no re-resolution: --no-deps)."""
        pins = Path(tmp) / "install.txt"
        resolved = parse_compiled((Path(tmp) / "resolved.txt").read_text(encoding="utf-8"))
        pins.write_text("".join(f"{n}=={resolved[n][0]}\n" for n in install), encoding="utf-8")
        lock = Path(tmp) / "pylock.toml"
        done = self._uv(uv, [*self._base_args(python), "--no-deps", str(pins), "-o", str(lock)])
        if isinstance(done, str) or done.returncode != 0:
            return {}, ["download size unknown: the index did not answer for file sizes"]
        try:
            data = tomllib.loads(lock.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return {}, ["download size unknown: the lock file could not be read"]
        sizes = {str(canonicalize_name(p["name"])): _wheel_choice(p) for p in data.get("packages", [])
                 if isinstance(p, dict) and "name" in p}
        return sizes, []

    def _failure(self, stderr: str, lines: tuple[str, ...], image: str, label: str,
                 direct: list[tuple[str, str, str]]) -> DepCheck:
        text = redact(stderr.strip())
        lowered = text.lower()
        if "no solution found" in lowered or "unsatisfiable" in lowered or "because" in lowered and "depends" in lowered:
            first = " ".join(line.strip() for line in text.splitlines()[:6] if line.strip())
            conflicts = tuple(DepConflict(n, img, spec, ("requirements",), None, _fix(n, img, ("requirements",)))
                              for n, img, spec in direct)
            return DepCheck(DepStatus.UNRESOLVABLE, image, lines, conflicts=conflicts,
                            reason=first[:600] or "no versions satisfy the requirements", index=label)
        if any(marker in lowered for marker in _NETWORK_MARKERS):
            return DepCheck(DepStatus.NOT_CHECKED, image, lines, reason="no package index reachable", index=label)
        first_line = next((line for line in text.splitlines() if line.strip()), "the resolver failed")
        return DepCheck(DepStatus.NOT_CHECKED, image, lines, reason=first_line[:300], index=label)


def _direct_conflicts(lines: Sequence[str], packages: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(name, image version, specifier) for each requirement that excludes the image's version."""
    out = []
    for line in lines:
        if line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = str(canonicalize_name(req.name))
        image_version = packages.get(name)
        if image_version and req.specifier and not req.specifier.contains(_public(image_version), prereleases=True):
            out.append((name, image_version, str(req.specifier)))
    return out


def _install_set(resolved: Mapping[str, tuple[str, tuple[str, ...]]], packages: Mapping[str, str]
                 ) -> tuple[list[str], list[tuple[str, tuple[str, ...]]]]:
    """(names pip installs, [(replaced preinstalled name, requested by)]).

    A package whose resolved version is the image's stays as it is, and so do its dependencies unless
    something that *is* installed needs them: the image's own builds bring what they need (its CPU torch
    has no CUDA libraries, though PyPI's torch metadata lists them).
    """
    changed = {n for n, (v, _) in resolved.items() if n not in packages or _public(packages[n]) != _public(v)}
    installed: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name in changed - installed:
            via = resolved[name][1]
            if "requirements" in via or any(p in installed for p in via):
                installed.add(name)
                grew = True
    order = sorted(installed)
    conflicts = [(n, tuple(p for p in resolved[n][1] if p in installed or p == "requirements") or ("requirements",))
                 for n in order if n in packages]
    return order, conflicts


def _fix(name: str, image_version: str, requested_by: Sequence[str]) -> str:
    keep = _public(image_version)
    if tuple(requested_by) == ("requirements",):
        return (f"drop the pin and use the image's {name} {image_version} (or pin {name}=={keep}), unless "
                "the code needs that exact version")
    return (f"pin versions of {', '.join(requested_by)} that accept {name} {keep}, or accept the replacement")


# ------------------------------------------------------------------------------------------------ plan hook


def _image_of(label: str, rules: Any) -> tuple[str, Mapping[str, str]] | None:
    """(python, packages) of a runtime label such as "2.10-cpu-py3.11", or None when it is not listed."""
    match = re.fullmatch(r".+-(cpu|gpu)-py(\d+\.\d+)", label or "")
    if match is None:
        return None
    packages = rules.runtimes.get((match.group(1), match.group(2)))
    return (match.group(2), packages) if packages is not None else None


def requirement_lines(plan: Any, analysis: Any) -> tuple[str, ...]:
    """What pip installs in the job: pip_requirements, or the lines of the requirements file that travels."""
    if plan.pip_requirements and plan.backend != "local":
        # The library writes pip_requirements over a travelling requirements.txt, so they are what pip gets
        # (the planner puts the file's lines in them when it adds to the file). A local plan's are what this
        # machine lacks; its file alone is what the image would install.
        return tuple(plan.pip_requirements)
    if plan.requirements_file:
        try:
            text = (Path(analysis.root) / plan.requirements_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ()
        return tuple(line.split(" #", 1)[0].strip() for line in text.splitlines()
                     if line.strip() and not line.strip().startswith("#"))
    return tuple(plan.pip_requirements)


def preflight_dependencies(checker: DependencyChecker, plan: Any, analysis: Any, rules: Any
                           ) -> tuple[DepCheck | None, list[tuple[str, str, str, str]]]:
    """Run the dependency preflight for a plan and turn its findings into preflight issues.

    Args:
        checker: the resolver runner.
        plan: the JobPlan (its pip_requirements or travelling requirements file).
        analysis: the Analysis (its root and the runtime label the packages were classified against).
        rules: the PackageRules with the runtime images' package lists.

    Returns:
        (DepCheck, or None when the runtime image is unknown or a local plan has no travelling requirements
        file; [(severity, code, message, fix)]): an error when
        pip cannot install the requirements at all, a warning per preinstalled package they replace.
    """
    image = _image_of(analysis.runtime, rules)
    if image is None or (plan.backend == "local" and not plan.requirements_file):
        # A local plan's pip_requirements are what this machine lacks, not what the image lacks; only a
        # travelling requirements file is installed the same way on both.
        return None, []
    python, packages = image
    deps = checker.check(requirement_lines(plan, analysis), packages, image=analysis.runtime, python=python)
    issues: list[tuple[str, str, str, str]] = []
    if deps.status is DepStatus.UNRESOLVABLE:
        fixes = "; ".join(c.fix for c in deps.conflicts) or "relax or correct the pins the resolver names"
        issues.append(("error", "deps.unresolvable",
                       f"pip cannot install the requirements in the image {deps.image}: {deps.reason}", fixes))
        issues += [("error", "deps.conflict", c.message, c.fix) for c in deps.conflicts]
    for c in deps.conflicts if deps.status is DepStatus.CHECKED else ():
        issues.append(("warning", "deps.replaces_preinstalled", c.message, c.fix))
    return deps, issues
