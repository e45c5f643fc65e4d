"""The packages pass: import names -> PyPI distributions -> preinstalled in the Container Runtime or not.

Import names are resolved by an ordered chain of resolvers, each recording how it knew (STYLE rule 7):
stdlib (`sys.stdlib_module_names`) -> first-party (the project's own modules) -> the curated import map ->
installed metadata (`importlib.metadata.packages_distributions()`) -> declared requirements -> identity guess.
Only names a resolver leaves unresolved move on. No package index is ever asked: looking up a raw import
name on PyPI invites dependency confusion, so an unknown name ends as a `guess` that needs confirmation.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .model import (
    Confidence,
    DeclaredRequirement,
    Evidence,
    ImportFinding,
    ImportKind,
    Location,
    PackageFinding,
    PackageStatus,
    Problem,
)
from .names import dotted_prefixes
from .requirements import Declared

if TYPE_CHECKING:
    from .extras import ExtraNeed

IDENTITY_HINT = "needs confirmation: no table knows this import; check the distribution name"
UNRESOLVED_HINT = ("unresolved: no project file, standard-library module, curated entry, installed package or "
                   "declaration provides this import, so it is not installed (a PyPI name guessed from an import "
                   "invites dependency confusion); declare the real distribution or add the missing file")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PYTHON = re.compile(r"^(?:py(?:thon)?)?\s*(\d+)\.(\d+)(?:\.\d+)?\S*$", re.IGNORECASE)


class ResolvedBy:
    """Values of `PackageFinding.resolved_by` (and of `Resolution.resolved_by` for excluded names)."""

    STDLIB = "stdlib"
    LOCAL = "local"
    CURATED = "curated"
    INSTALLED = "installed"
    DECLARED = "declared"
    PIP_MAGIC = "pip_magic"
    IDENTITY = "identity"
    EXTRA = "extra"  # not imported: a library call imports it at run time (analyzers/extras.py)


#: Which resolver's answer wins when one distribution is reached through several imports.
_RESOLVER_RANK = {
    ResolvedBy.CURATED: 5, ResolvedBy.INSTALLED: 4, ResolvedBy.PIP_MAGIC: 3, ResolvedBy.DECLARED: 2,
    ResolvedBy.IDENTITY: 1, ResolvedBy.EXTRA: 0,
}


# --------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class ImportMapEntry:
    """One curated mapping: the distribution to install for an import prefix, and what else provides it."""

    dist: str
    gpu: str | None = None  # the distribution expected on a GPU image instead (faiss -> faiss-gpu-cu12)
    alternatives: tuple[str, ...] = ()  # other distributions providing the same import; a declared one wins
    note: str | None = None  # the finding's hint when the distribution must be installed


def _canonical(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name or canonicalize_name(name) != name:
        raise ValueError(f"{where}: {name!r} is not a canonical distribution name (PEP 503)")
    return name


def _version(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: version {value!r} must be a quoted string")
    try:
        Version(value)
    except InvalidVersion:
        raise ValueError(f"{where}: {value!r} is not a PEP 440 version") from None
    return value


def _entry(key: Any, value: Any) -> ImportMapEntry:
    where = f"import_map: {key!r}"
    if not isinstance(key, str) or not _IDENTIFIER.match(key):
        raise ValueError(f"{where}: not a dotted import name")
    if isinstance(value, str):
        return ImportMapEntry(_canonical(value, where))
    if not isinstance(value, Mapping) or "dist" not in value:
        raise ValueError(f"{where}: expected a distribution name or a mapping with 'dist'")
    unknown = set(value) - {"dist", "gpu", "alternatives", "note"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    alternatives = value.get("alternatives", [])
    if not isinstance(alternatives, list):
        raise ValueError(f"{where}: alternatives must be a list")
    note = value.get("note")
    if note is not None and not isinstance(note, str):
        raise ValueError(f"{where}: note must be text")
    return ImportMapEntry(
        dist=_canonical(value["dist"], where),
        gpu=_canonical(value["gpu"], where) if value.get("gpu") is not None else None,
        alternatives=tuple(_canonical(a, where) for a in alternatives),
        note=note,
    )


def _packages(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping of name: version")
    return {_canonical(k, where): _version(v, f"{where}.{k}") for k, v in value.items()}


def _apply_delta(base: dict[str, str], delta: Mapping[str, Any], where: str) -> dict[str, str]:
    """base with `add` (new names), `change` (listed names) and `remove` (listed names) applied, strictly."""
    unknown = set(delta) - {"from", "packages", "add", "change", "remove"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    result = dict(base)
    for name, version in _packages(delta.get("add"), f"{where}.add").items():
        if name in result:
            raise ValueError(f"{where}.add: {name} is already in the list")
        result[name] = version
    for name, version in _packages(delta.get("change"), f"{where}.change").items():
        if name not in result:
            raise ValueError(f"{where}.change: {name} is not in the list")
        if result[name] == version:
            raise ValueError(f"{where}.change: {name} already has version {version}")
        result[name] = version
    removals = delta.get("remove") or []
    if not isinstance(removals, list):
        raise ValueError(f"{where}.remove: expected a list")
    for name in removals:
        if _canonical(name, f"{where}.remove") not in result:
            raise ValueError(f"{where}.remove: {name} is not in the list")
        del result[name]
    return result


def _python_key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d+\.\d+", value):
        raise ValueError(f"{where}: Python version keys are quoted 'major.minor' strings, got {value!r}")
    return value


def _build_runtimes(data: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, str]]:
    cpu_data = data.get("cpu")
    if not isinstance(cpu_data, Mapping) or not cpu_data:
        raise ValueError("runtime_packages: 'cpu' must map Python versions to package lists")
    cpu: dict[str, dict[str, str]] = {}
    pending = {_python_key(k, "runtime_packages.cpu"): v for k, v in cpu_data.items()}
    while pending:  # variants may derive from one another (`from`), in any order, without cycles
        progressed = False
        for python, spec in list(pending.items()):
            where = f"runtime_packages.cpu.{python}"
            if not isinstance(spec, Mapping):
                raise ValueError(f"{where}: expected a mapping")
            if "packages" in spec:
                if "from" in spec:
                    raise ValueError(f"{where}: give either 'packages' or 'from', not both")
                cpu[python] = _apply_delta(_packages(spec["packages"], f"{where}.packages"), spec, where)
            elif spec.get("from") in cpu:
                cpu[python] = _apply_delta(cpu[spec["from"]], spec, where)
            elif spec.get("from") in pending:
                continue
            else:
                raise ValueError(f"{where}: needs 'packages' or 'from' naming another CPU variant")
            del pending[python]
            progressed = True
        if not progressed:
            raise ValueError(f"runtime_packages.cpu: 'from' cycle among {sorted(pending)}")
    gpu_data = data.get("gpu") or {}
    if not isinstance(gpu_data, Mapping):
        raise ValueError("runtime_packages.gpu: expected a mapping")
    common = _packages(gpu_data.get("packages"), "runtime_packages.gpu.packages")
    for key in gpu_data:
        if key != "packages" and _python_key(key, "runtime_packages.gpu") not in cpu:
            raise ValueError(f"runtime_packages.gpu.{key}: no CPU list for that Python to build on")
    runtimes: dict[tuple[str, str], Mapping[str, str]] = {}
    for python, packages in cpu.items():
        runtimes[("cpu", python)] = MappingProxyType(dict(sorted(packages.items())))
        spec = gpu_data.get(python) or {}
        if not isinstance(spec, Mapping) or "from" in spec or "packages" in spec:
            raise ValueError(f"runtime_packages.gpu.{python}: only add / change / remove are allowed")
        gpu = _apply_delta({**packages, **common}, spec, f"runtime_packages.gpu.{python}")
        runtimes[("gpu", python)] = MappingProxyType(dict(sorted(gpu.items())))
    return runtimes


@dataclass(frozen=True, slots=True, eq=False)
class PackageRules:
    """The curated import map and the runtime package lists, validated. Build with `from_data`.

    `runtimes` maps ("cpu" | "gpu", "3.11") to {canonical distribution: version}. Compared and hashed by
    identity: it is loaded once per process.
    """

    imports: Mapping[str, ImportMapEntry]
    namespaces: frozenset[str]
    runtimes: Mapping[tuple[str, str], Mapping[str, str]]
    runtime_version: str
    default_python: str
    #: import prefix -> the hosted notebook environment that alone provides it (google.colab -> Google Colab)
    environment_only: Mapping[str, str] = field(default_factory=dict)
    #: companion distribution -> its parent: installed with the parent, so not listed when the parent is
    companions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, import_map_data: Mapping[str, Any], runtime_data: Mapping[str, Any]) -> PackageRules:
        """Validate and build the rules from the two tables' parsed YAML (or tiny inline dicts in tests).

        Raises:
            ValueError: a table is malformed: a non-canonical distribution name, an unquoted or invalid
                version, a delta that adds a listed name or changes / removes an unlisted one, a GPU
                variant without a CPU list, an unknown key.
        """
        imports_data = import_map_data.get("imports") if isinstance(import_map_data, Mapping) else None
        if not isinstance(imports_data, Mapping):
            raise ValueError("import_map: expected a top-level 'imports' mapping")
        imports = {key: _entry(key, value) for key, value in imports_data.items()}
        namespaces = import_map_data.get("namespaces") or []
        if not isinstance(namespaces, list) or not all(
            isinstance(n, str) and _IDENTIFIER.match(n) for n in namespaces
        ):
            raise ValueError("import_map: 'namespaces' must be a list of dotted import names")
        if not isinstance(runtime_data, Mapping):
            raise ValueError("runtime_packages: expected a mapping")
        runtimes = _build_runtimes(runtime_data)
        runtime_version = str(runtime_data.get("runtime", ""))
        if not runtime_version:
            raise ValueError("runtime_packages: 'runtime' (the Container Runtime version) is missing")
        default_python = str(runtime_data.get("default_python", ""))
        if ("cpu", default_python) not in runtimes:
            raise ValueError(f"runtime_packages: default_python {default_python!r} has no package list")
        environment_only = import_map_data.get("environment_only") or {}
        companions = import_map_data.get("companions") or {}
        if not isinstance(environment_only, Mapping) or not isinstance(companions, Mapping):
            raise ValueError("import_map: 'environment_only' and 'companions' must be mappings")
        return cls(
            imports=MappingProxyType(dict(sorted(imports.items()))),
            namespaces=frozenset(namespaces),
            runtimes=MappingProxyType(runtimes),
            runtime_version=runtime_version,
            default_python=default_python,
            environment_only=MappingProxyType({str(k): str(v) for k, v in environment_only.items()}),
            companions=MappingProxyType({canonicalize_name(str(k)): canonicalize_name(str(v))
                                         for k, v in companions.items()}),
        )

    @property
    def pythons(self) -> tuple[str, ...]:
        """Python versions with package lists, oldest first."""
        return tuple(sorted({p for _, p in self.runtimes}, key=lambda p: tuple(int(x) for x in p.split("."))))

    def select_runtime(self, *, gpu: bool, python: str) -> tuple[str, Mapping[str, str], str | None]:
        """(label such as "2.10-gpu-py3.11", {distribution: version}, hint) for an image and Python.

        An exact major.minor match has no hint. Otherwise the nearest listed Python is used (the older one
        on a tie) and the hint says so; an unreadable version string falls back to `default_python`.
        """
        kind = "gpu" if gpu else "cpu"
        match = _PYTHON.match(python.strip())
        hint = None
        if match is None:
            chosen = self.default_python
            hint = (f"cannot read Python version {python!r}; used the Container Runtime "
                    f"{self.runtime_version} list for Python {chosen}")
        else:
            wanted = (int(match.group(1)), int(match.group(2)))
            key = f"{wanted[0]}.{wanted[1]}"
            if key in self.pythons:
                chosen = key
            else:
                def distance(p: str) -> tuple[int, tuple[int, ...]]:
                    major, minor = (int(x) for x in p.split("."))
                    return abs((major - wanted[0]) * 100 + minor - wanted[1]), (major, minor)

                chosen = min(self.pythons, key=distance)  # nearest; the older one on a tie
                hint = (f"Container Runtime {self.runtime_version} has no package list for Python {key}; "
                        f"used the nearest, Python {chosen} (the job runs on the image matching the "
                        "submitting Python)")
        return f"{self.runtime_version}-{kind}-py{chosen}", self.runtimes[(kind, chosen)], hint


# -------------------------------------------------------------------------------------------------- resolvers


@dataclass(frozen=True, slots=True)
class Resolution:
    """How one dotted import name was resolved: to a distribution, or to stdlib / first-party (None)."""

    import_name: str  # the part of the name that matched (`sklearn` for `sklearn.model_selection.KFold`)
    distribution: str | None  # canonical; None for stdlib and first-party modules
    resolved_by: str  # a ResolvedBy value
    source: str  # what said so: the table entry, the metadata, the declaring file and line
    confidence: Confidence
    hint: str | None = None


class Resolver(Protocol):
    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        """Resolutions for the names this resolver knows; the others are left out."""
        ...


def _top(name: str) -> str:
    return name.split(".", 1)[0]


class StdlibResolver:
    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        return {
            n: Resolution(_top(n), None, ResolvedBy.STDLIB, "sys.stdlib_module_names", Confidence.CERTAIN)
            for n in names
            if _top(n) in sys.stdlib_module_names
        }


@dataclass(frozen=True, slots=True)
class FirstPartyResolver:
    local_modules: frozenset[str]

    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        tops = {_top(m) for m in self.local_modules}
        return {
            n: Resolution(_top(n), None, ResolvedBy.LOCAL, "project tree", Confidence.CERTAIN)
            for n in names
            if n in self.local_modules or _top(n) in tops
        }


@dataclass(frozen=True, slots=True)
class CuratedResolver:
    """Longest dotted-prefix match in the curated import map; a declared alternative distribution wins."""

    rules: PackageRules
    declared_names: frozenset[str]
    gpu: bool

    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        found: dict[str, Resolution] = {}
        for name in names:
            key = next((p for p in dotted_prefixes(name) if p in self.rules.imports), None)
            if key is None:
                continue
            entry = self.rules.imports[key]
            options = [entry.dist, *([entry.gpu] if entry.gpu else []), *entry.alternatives]
            declared = next((d for d in options if d in self.declared_names), None)
            dist = declared or (entry.gpu if self.gpu and entry.gpu else entry.dist)
            found[name] = Resolution(key, dist, ResolvedBy.CURATED, f"import map entry {key!r}",
                                     Confidence.CERTAIN, entry.note)
        return found


@dataclass(frozen=True, slots=True)
class InstalledResolver:
    """Top-level module -> distribution from the local environment's metadata, when it is unambiguous.

    Names under a namespace prefix (google.*, azure.*) are skipped: the metadata only knows top-level
    names, and `google` may map to protobuf alone although `google.genai` is another distribution.
    """

    top_levels: Mapping[str, Sequence[str]]
    namespaces: frozenset[str]
    declared_names: frozenset[str]

    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        found: dict[str, Resolution] = {}
        for name in names:
            if _top(name) in self.namespaces:
                continue
            dists = sorted({canonicalize_name(d) for d in self.top_levels.get(_top(name), ())})
            declared = [d for d in dists if d in self.declared_names]
            if len(dists) == 1 or len(declared) == 1:
                dist = dists[0] if len(dists) == 1 else declared[0]
                found[name] = Resolution(_top(name), dist, ResolvedBy.INSTALLED,
                                         "installed metadata (importlib.metadata.packages_distributions)",
                                         Confidence.LIKELY)
        return found


@dataclass(frozen=True, slots=True)
class DeclaredResolver:
    """A declared distribution whose canonical name equals the import (or one of its dotted prefixes)."""

    declared: Mapping[str, DeclaredRequirement]  # canonical name -> first declaration
    magic: frozenset[DeclaredRequirement]

    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        found: dict[str, Resolution] = {}
        for name in names:
            for prefix in dotted_prefixes(name):
                req = self.declared.get(canonicalize_name(prefix))
                if req is not None:
                    by = ResolvedBy.PIP_MAGIC if req in self.magic else ResolvedBy.DECLARED
                    found[name] = Resolution(prefix, req.name, by, f"declared at {req.location.render()}",
                                             Confidence.LIKELY)
                    break
        return found


@dataclass(frozen=True, slots=True)
class IdentityResolver:
    """Last resort: assume the distribution is named like the import. Always a guess that needs confirming.

    Under a namespace prefix the guess keeps the sub-package (`google.foo.bar` -> google-foo-bar, the
    convention of those SDKs); otherwise it is the top-level name.
    """

    namespaces: frozenset[str]

    def resolve(self, names: Iterable[str]) -> dict[str, Resolution]:
        found: dict[str, Resolution] = {}
        for name in names:
            parts = name.split(".")
            ns_depth = max((len(p.split(".")) for p in dotted_prefixes(name) if p in self.namespaces), default=0)
            if ns_depth:
                kept = [p for p in parts[: ns_depth + 1] if not p[:1].isupper()]
                guess = ".".join(kept) if len(kept) > ns_depth else parts[0]
            else:
                guess = parts[0]
            found[name] = Resolution(guess, canonicalize_name(guess), ResolvedBy.IDENTITY,
                                     "identity (import name = distribution name)", Confidence.GUESS,
                                     IDENTITY_HINT)
        return found


def resolve_names(names: Iterable[str], resolvers: Sequence[Resolver]) -> dict[str, Resolution]:
    """Run the chain: each resolver sees only the names the earlier ones left unresolved."""
    pending = list(dict.fromkeys(names))
    resolved: dict[str, Resolution] = {}
    for resolver in resolvers:
        if not pending:
            break
        resolved.update(resolver.resolve(pending))
        pending = [n for n in pending if n not in resolved]
    return resolved


def distribution_of(module: str, rules: PackageRules) -> str | None:
    """The PyPI distribution a (possibly dotted) module name comes from, or None for stdlib modules.

    Used where only a name is known (a `ModuleNotFoundError` in job logs): stdlib, then the curated
    table. A name neither knows gives None, never the identity guess: proposing `pip install <import
    name>` for an unknown (often local) module is how dependency confusion starts. Installed metadata is
    skipped on purpose: the module is missing from the job, not necessarily from this machine.
    """
    chain: list[Resolver] = [
        StdlibResolver(),
        CuratedResolver(rules, frozenset(), gpu=False),
    ]
    resolution = resolve_names([module], chain).get(module)
    return resolution.distribution if resolution else None


@functools.cache
def installed_top_levels() -> Mapping[str, tuple[str, ...]]:
    """The local environment's `packages_distributions()`, computed once per process."""
    return MappingProxyType({k: tuple(v) for k, v in importlib.metadata.packages_distributions().items()})


# --------------------------------------------------------------------------------------------------- classify


def _candidates(imp: ImportFinding) -> list[str]:
    """Dotted names to resolve for one import: `from a.b import c` tries `a.b.c` (c may be a sub-package)."""
    if imp.kind is ImportKind.FROM:
        names = [f"{imp.module}.{n}" for n in imp.names if n != "*" and n.isidentifier()]
        return names or [imp.module]
    return [imp.module]


@dataclass(slots=True)
class _Group:
    distribution: str
    import_names: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    optional: list[bool] = field(default_factory=list)
    resolved_by: list[str] = field(default_factory=list)
    confidence: list[Confidence] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    install_notes: list[str] = field(default_factory=list)  # curated notes: only useful when pip installs it
    requirement: DeclaredRequirement | None = None
    _seen: set[tuple[Location, str]] = field(default_factory=set)

    def add_evidence(self, evidence: Evidence) -> None:
        # A set, not a scan of the list: a big tree imports numpy from thousands of places.
        key = (evidence.location, evidence.code)
        if key not in self._seen:
            self._seen.add(key)
            self.evidence.append(evidence)


def _pin_hint(req: DeclaredRequirement, dist: str, version: str) -> str | None:
    """A hint when a declared specifier would make pip replace the preinstalled version."""
    try:
        parsed = Requirement(req.specifier)
    except InvalidRequirement:
        return (f"declared as {req.specifier!r}; pip would install that instead of the preinstalled "
                f"{dist} {version}")
    if parsed.url:
        return f"declared from a URL; pip would install that instead of the preinstalled {dist} {version}"
    if parsed.specifier and not parsed.specifier.contains(version, prereleases=True):
        return (f"declared pin {str(parsed.specifier)!r} differs from the runtime's {dist} {version}; "
                "passed to pip it would be reinstalled")
    return None


def environment_of(module: str, rules: PackageRules) -> str | None:
    """The hosted notebook environment that alone provides `module` (google.colab: Google Colab), if any."""
    for prefix in dotted_prefixes(module):
        env = rules.environment_only.get(prefix)
        if env is not None:
            return env
    return None


def environment_problems(imports: Sequence[ImportFinding], rules: PackageRules) -> list[Problem]:
    """Unguarded imports of modules that exist only in a hosted notebook: the job stops there."""
    out = []
    for imp in imports:
        env = environment_of(imp.module, rules) if imp.module and imp.level == 0 else None
        if env is not None and not imp.optional and imp.kind is not ImportKind.PIP_MAGIC:
            out.append(Problem(imp.location, f"imports {imp.module}, which exists only in {env}: the job fails at "
                                             "this import; remove it or guard it with try/except ImportError"))
    return out


def classify_packages(
    imports: Sequence[ImportFinding],
    *,
    local_modules: frozenset[str],
    declared: Declared | Sequence[DeclaredRequirement],
    rules: PackageRules,
    gpu: bool,
    python: str = "3.11",
    installed: Mapping[str, Sequence[str]] | None = None,
    extras: Sequence[ExtraNeed] = (),
) -> tuple[tuple[PackageFinding, ...], str]:
    """Resolve imports to distributions and classify each against the Container Runtime image.

    Args:
        imports: every absolute import of the analysed files (relative ones are skipped: always local).
        local_modules: dotted names of the project's own modules; imports of them never become packages.
        declared: the project's declarations (`read_declared`), or plain requirements (then those with a
            notebook cell location count as `%pip` lines).
        rules: the curated import map and runtime lists.
        gpu: classify against the GPU image (else the CPU image).
        python: the job's Python version; the nearest listed one is used (with a hint) when unlisted.
        installed: top-level module -> distributions of the local environment; defaults to this process's
            `packages_distributions()` (computed once). Pass {} to ignore the local environment.
        extras: distributions library calls import at run time (`extra_needs`); each one no import already
            requires becomes a finding resolved by `extra` with the calls as evidence (a declared one keeps
            its declaration and gains the calls, so it is no longer `declared_only`).

    Returns:
        (findings sorted by distribution, runtime label such as "2.10-gpu-py3.11"). One finding per
        distribution, merging the evidence of all its imports and declarations; `optional` only when every
        import of it is optional. Declared requirements that no import uses are reported too (they are
        installed with the code), with an empty `import_name`. A distribution in the runtime list is
        PREINSTALLED with its `runtime_version`, even when the declared pin differs (the hint says pip would
        reinstall it); one named only by the identity guess is UNRESOLVED (never installed); anything else
        is TO_INSTALL.
    """
    if isinstance(declared, Declared):
        declared_reqs = tuple(declared.requirements)
        magic = frozenset(declared.magic_requirements)
    else:
        declared_reqs = tuple(declared)
        magic = frozenset(r for r in declared_reqs if r.location.cell is not None)
    by_name: dict[str, DeclaredRequirement] = {}
    for req in declared_reqs:
        by_name.setdefault(req.name, req)
    declared_names = frozenset(by_name)
    label, runtime, python_hint = rules.select_runtime(gpu=gpu, python=python)

    resolvers: list[Resolver] = [
        StdlibResolver(),
        FirstPartyResolver(frozenset(local_modules)),
        CuratedResolver(rules, declared_names, gpu),
        InstalledResolver(installed_top_levels() if installed is None else installed, rules.namespaces,
                          declared_names),
        DeclaredResolver(by_name, magic),
        IdentityResolver(rules.namespaces),
    ]
    third_party = [i for i in imports if i.level == 0 and i.kind is not ImportKind.PIP_MAGIC and i.module
                   and (i.optional or environment_of(i.module, rules) is None)]  # guarded ones stay optional
    resolved = resolve_names((n for i in third_party for n in _candidates(i)), resolvers)

    groups: dict[str, _Group] = {}
    for imp in third_party:
        for name in dict.fromkeys(_candidates(imp)):
            res = resolved[name]
            if res.distribution is None:
                continue
            group = groups.setdefault(res.distribution, _Group(res.distribution))
            group.import_names.append(res.import_name)
            group.add_evidence(Evidence(imp.location, imp.evidence,
                                        f"imports {res.import_name}: {res.distribution} ({res.source})"))
            group.optional.append(imp.optional)
            group.resolved_by.append(res.resolved_by)
            group.confidence.append(min(res.confidence, imp.confidence))
            if res.hint:
                curated = res.resolved_by == ResolvedBy.CURATED
                (group.install_notes if curated else group.hints).append(res.hint)
    for imp in imports:  # `%pip install x` reported by the imports pass as a pseudo-import
        if imp.kind is not ImportKind.PIP_MAGIC:
            continue
        try:
            dist: str = canonicalize_name(Requirement(imp.module).name)
        except InvalidRequirement:
            continue
        group = groups.setdefault(dist, _Group(dist))
        group.add_evidence(Evidence(imp.location, imp.evidence, f"installed by a notebook pip line: {dist}"))
        group.resolved_by.append(ResolvedBy.PIP_MAGIC)
        group.confidence.append(Confidence.CERTAIN)
        if group.requirement is None and dist not in by_name:
            group.requirement = DeclaredRequirement(dist, imp.module, imp.location)
    for req in declared_reqs:
        found = groups.get(req.name)
        if found is None:
            found = groups[req.name] = _Group(req.name)
            found.resolved_by.append(ResolvedBy.PIP_MAGIC if req in magic else ResolvedBy.DECLARED)
            found.confidence.append(Confidence.CERTAIN)
        group = found
        group.requirement = by_name[req.name]  # a file / %pip declaration beats a pseudo-import's text
        where = "a notebook pip line" if req in magic else req.location.path
        group.add_evidence(Evidence(req.location, req.specifier, f"declared in {where}"))

    # An imported distribution is installed anyway; a declared one that no file imports would be dropped as
    # unused (plan: declared_only), so the call is recorded there too and keeps it.
    imported = frozenset(dist for dist, group in groups.items() if group.import_names)
    for need in extras:
        if need.distribution in imported:
            continue
        group = groups.setdefault(need.distribution, _Group(need.distribution))
        group.add_evidence(need.evidence)
        group.resolved_by.append(ResolvedBy.EXTRA)
        group.confidence.append(need.confidence)
        group.optional.append(need.optional)
        if need.hint:
            group.hints.append(need.hint)
    for companion, parent in rules.companions.items():
        found = groups.get(companion)
        if found is not None and parent in groups and (found.requirement is None or not found.import_names):
            del groups[companion]  # pip installs it with its parent (jaxlib with jax)
    findings = []
    for dist, group in groups.items():
        version = runtime.get(dist)
        hints = list(dict.fromkeys(group.hints + (group.install_notes if version is None else [])))
        requirement = group.requirement
        if version is not None and requirement is not None:
            pin = _pin_hint(requirement, dist, version)
            if pin:
                hints.append(pin)
        if python_hint:
            hints.append(python_hint)
        best_by = max(group.resolved_by, key=lambda b: _RESOLVER_RANK[b])
        confidence = max(group.confidence)
        if version is None and best_by == ResolvedBy.IDENTITY:
            status = PackageStatus.UNRESOLVED  # only a guess names it: never installed (dependency confusion)
            hints.insert(0, UNRESOLVED_HINT)
        else:
            status = PackageStatus.PREINSTALLED if version is not None else PackageStatus.TO_INSTALL
        findings.append(
            PackageFinding(
                import_name=min(group.import_names, key=lambda n: (len(n), n)) if group.import_names else "",
                distribution=dist,
                status=status,
                optional=bool(group.optional) and all(group.optional),
                evidence=tuple(sorted(group.evidence, key=lambda e: e.location.sort_key())),
                resolved_by=best_by,
                confidence=confidence,
                requirement=requirement.specifier if requirement is not None else None,
                runtime_version=version,
                hint="; ".join(hints) or None,
                declared_only=not group.import_names and ResolvedBy.PIP_MAGIC not in group.resolved_by
                and ResolvedBy.EXTRA not in group.resolved_by,
            )
        )
    return tuple(sorted(findings, key=lambda f: f.distribution)), label
