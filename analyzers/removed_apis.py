"""Removed and renamed library APIs: find uses that the job's library versions no longer have.

A script written for datasets 2.x imports `load_metric`; the runtime image has datasets 5.x, so the job
fails on its first line after the pool has started and the payload is uploaded. This pass finds such uses
before submission, from the table in skill/data/removed_apis.yaml.

Two steps, so the per-file part can be cached with the other passes: `scan_removed_apis` finds every use
of a listed API in one file (version-independent), and `check_removed_apis` keeps the uses whose library
version in the target image (or the pinned version pip would install) is at or past the removal.

The same walk also finds the uses of the extras table (skill/data/extras.yaml, analyzers/extras.py: APIs
that import a distribution their library does not install): both tables share one index, each row
reference carrying its table, so a file is walked once for both.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .model import Confidence, Location, PackageFinding
from .names import STATEMENT_FIELDS
from .source import SourceFile
from .visitor import preorder

if TYPE_CHECKING:
    from .extras import ExtraRules


class ApiKind(str, enum.Enum):
    ATTRIBUTE = "attribute"  # any use or import of a dotted name (a module covers its submodules)
    KEYWORD = "keyword"  # a call of the API passing keyword=
    METHOD = "method"  # a .method(...) call on an instance of the class


@dataclass(frozen=True, slots=True)
class RemovedApi:
    """One table row: what was removed, in which release of which distribution, and what replaces it."""

    api: str
    kind: ApiKind
    distribution: str
    removed_in: str
    replacement: str
    source: str
    keyword: str | None = None
    restored_in: str | None = None

    @property
    def display(self) -> str:
        if self.kind is ApiKind.KEYWORD:
            return f"{self.api}({self.keyword}=...)"
        if self.kind is ApiKind.METHOD:
            return f"{self.api}()"
        return self.api

    def gone_in(self, version: str) -> bool:
        """True when `version` (a public or local version string) lacks the API."""
        try:
            v = Version(Version(version).public)
        except InvalidVersion:
            return False
        if v < Version(self.removed_in):
            return False
        return self.restored_in is None or v < Version(self.restored_in)


def api_row(where: str, row: Any, allowed: set[str], required: Sequence[str]) -> tuple[str, ApiKind]:
    """The checks every row of an API table (removed APIs, extras) starts with: a mapping of known keys whose
    `required` values are non-empty strings and whose `kind` is an `ApiKind`. Returns (where, kind).

    Raises:
        ValueError: naming the row (`where`) and what is wrong with it.
    """
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected a mapping")
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in required:
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"{where}: '{key}' must be a non-empty string")
    try:
        return where, ApiKind(row["kind"])
    except ValueError:
        raise ValueError(f"{where}: unknown kind {row['kind']!r}") from None


@dataclass(frozen=True, slots=True)
class RemovedApiRules:
    """The table, validated, with lookups by kind. Build with `from_data`."""

    apis: tuple[RemovedApi, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RemovedApiRules:
        """Validate the parsed YAML.

        Raises:
            ValueError: a row misses a field, has an unknown kind or key, a bad version, a non-canonical
                distribution, a keyword row without `keyword`, or repeats (api, keyword).
        """
        rows = data.get("apis") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise ValueError("removed_apis: expected a top-level 'apis' list")
        allowed = {"api", "kind", "distribution", "removed_in", "restored_in", "replacement", "source", "keyword"}
        out: list[RemovedApi] = []
        seen: set[tuple[str, str | None]] = set()
        for i, row in enumerate(rows):
            where, kind = api_row(f"removed_apis[{i}]", row, allowed,
                                  ("api", "kind", "distribution", "removed_in", "replacement", "source"))
            for key in ("removed_in", "restored_in"):
                if row.get(key) is not None:
                    try:
                        Version(str(row[key]))
                    except InvalidVersion:
                        raise ValueError(f"{where}: {key} {row[key]!r} is not a version") from None
            if canonicalize_name(row["distribution"]) != row["distribution"]:
                raise ValueError(f"{where}: distribution {row['distribution']!r} is not canonical")
            keyword = row.get("keyword")
            if (kind is ApiKind.KEYWORD) != isinstance(keyword, str):
                raise ValueError(f"{where}: 'keyword' is required for kind keyword and only there")
            if kind is ApiKind.METHOD and row["api"].count(".") < 2:
                raise ValueError(f"{where}: a method is written module.Class.method")
            key_ = (row["api"], keyword)
            if key_ in seen:
                raise ValueError(f"{where}: {row['api']} is listed twice")
            seen.add(key_)
            out.append(RemovedApi(row["api"], kind, row["distribution"], str(row["removed_in"]),
                                  row["replacement"], row["source"], keyword,
                                  str(row["restored_in"]) if row.get("restored_in") else None))
        return cls(tuple(out))


@dataclass(frozen=True, slots=True)
class ApiUse:
    """One use of a listed API in one file (before any version check). `index` points into the table:
    the extras table when `extra`, else the removed-APIs table. `optional` (extras uses only): inside an
    import guard (`try: ... except ImportError`), where the code copes with the missing dependency."""

    index: int
    location: Location
    code: str
    confidence: Confidence
    extra: bool = False
    optional: bool = False


@dataclass(frozen=True, slots=True)
class RemovedApiFinding:
    """A use of an API the job's library version no longer has, with the fix."""

    kind: ApiKind
    api: str  # as shown: "datasets.load_metric", "accelerate.Accelerator(fp16=...)"
    distribution: str
    version: str | None  # the version the job gets; None: not pinned, pip installs the latest
    removed_in: str
    replacement: str
    location: Location
    evidence: str
    confidence: Confidence
    source: str

    @property
    def message(self) -> str:
        have = (f"the job's {self.distribution} is {self.version}" if self.version
                else f"{self.distribution} is not pinned, so pip installs the latest")
        return f"{self.api} was removed in {self.distribution} {self.removed_in} and {have}"


#: Calls whose result is a pandas DataFrame (so `.append` on it is DataFrame.append, not list.append).
_FRAME_MAKERS = frozenset({"pandas.DataFrame", "pandas.concat", "pandas.merge", "pandas.get_dummies",
                           "pandas.pivot_table", "pandas.crosstab", "pandas.json_normalize"})


def _makes_frame(node: ast.AST, names: Any, frames: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in frames
    if isinstance(node, ast.Call):
        qn = names.qualname(node.func, allow_builtins=False)
        if qn and (qn in _FRAME_MAKERS or qn.startswith("pandas.read_")):
            return True
        # df.copy(), df.dropna(), df[...]... keep the frame-ness of a method call on a known frame
        if isinstance(node.func, ast.Attribute):
            return _makes_frame(node.func.value, names, frames)
    if isinstance(node, ast.Subscript):
        return _makes_frame(node.value, names, frames)
    return False


def _assignments_breadth_first(tree: ast.AST) -> list[ast.Assign]:
    """The `=` statements of a tree in `ast.walk` order (level by level), found by walking statement
    blocks only (an assignment is never inside an expression)."""
    found: list[ast.Assign] = []
    level: list[ast.AST] = [tree]
    while level:
        below: list[ast.AST] = []
        for node in level:
            if node.__class__ is ast.Assign:
                found.append(node)
                continue
            for name in node._fields:
                if name in _BLOCKS:
                    below.extend(getattr(node, name))
        level = below
    return found


_BLOCKS = frozenset(STATEMENT_FIELDS)


def _top(dotted: str) -> str:
    return dotted.split(".", 1)[0]


#: A row of one of the two tables: (is an extras row, index in its table).
_Ref = tuple[bool, int]


class _Index:
    """Both tables by kind, built once per rules pair (not per file), with a memo of dotted-name matches."""

    def __init__(self, rules: RemovedApiRules, extras: ExtraRules | None) -> None:
        self.rules = rules
        self.extras = extras
        self.attrs: dict[str, list[_Ref]] = {}
        self.keywords: dict[str, list[int]] = {}  # removed-API rows only (extras have no keyword rows)
        self.methods: dict[str, list[_Ref]] = {}
        rows: list[tuple[_Ref, Any]] = [((False, i), api) for i, api in enumerate(rules.apis)]
        if extras is not None:
            rows += [((True, i), api) for i, api in enumerate(extras.apis)]
        for ref, api in rows:
            if api.kind is ApiKind.ATTRIBUTE:
                self.attrs.setdefault(api.api, []).append(ref)
            elif api.kind is ApiKind.KEYWORD:
                self.keywords.setdefault(api.api, []).append(ref[1])
            else:
                self.methods.setdefault(api.api.rsplit(".", 1)[1], []).append(ref)
        #: Top-level modules of every table row: what a file must import for any non-import row to match.
        self.modules = frozenset(_top(api.api) for _, api in rows)
        self.matches: dict[str, tuple[_Ref, ...]] = {}  # dotted name -> its attribute rows (same in every file)
        #: The last part of every attribute row (`numpy.float_` -> `float_`).
        self.last_parts = frozenset(api.rsplit(".", 1)[-1] for api in self.attrs)


#: The index of the latest rules pair (rules are loaded once per process).
_INDEX: list[_Index] = []


def _index_of(rules: RemovedApiRules, extras: ExtraRules | None) -> _Index:
    index = _INDEX[0] if _INDEX else None  # one read: a parallel analysis may replace the entry
    if index is None or index.rules is not rules or index.extras is not extras:
        index = _Index(rules, extras)
        _INDEX[:] = [index]
    return index


class _Scan:
    def __init__(self, src: SourceFile, rules: RemovedApiRules, extras: ExtraRules | None) -> None:
        self.src = src
        self.names = src.names
        self.uses: dict[tuple[_Ref, int], ApiUse] = {}
        index = _index_of(rules, extras)
        self.attrs = index.attrs
        self.keywords = index.keywords
        self.methods = index.methods
        self.modules = index.modules
        self._matches = index.matches
        self._last_parts = index.last_parts
        self.rules = rules
        self.extras = extras

    def _row(self, ref: _Ref) -> Any:
        extra, i = ref
        return self.extras.apis[i] if extra and self.extras is not None else self.rules.apis[i]

    def _report(self, ref: _Ref, node: ast.AST, confidence: Confidence) -> None:
        loc = self.src.loc(node)
        key = (ref, loc.line)
        if key not in self.uses:
            optional = ref[0] and self.src.flow.context(node).optional  # placed by bisection: extras hits only
            self.uses[key] = ApiUse(ref[1], loc, self.src.code(node), confidence, ref[0], optional)

    def _report_all(self, refs: tuple[_Ref, ...], node: ast.AST) -> None:
        for ref in refs:
            self._report(ref, node, Confidence.CERTAIN)

    def _attr_match(self, dotted: str) -> tuple[_Ref, ...]:
        """The attribute rows `dotted` or its longest listed prefix (of two parts or more) is, per table
        (a removed-APIs row and an extras row may name different prefixes of one dotted name)."""
        try:
            return self._matches[dotted]
        except KeyError:
            pass
        parts = dotted.split(".")
        found: list[_Ref] = []
        tables: set[bool] = set()
        for n in range(len(parts), 1, -1):
            hits = self.attrs.get(".".join(parts[:n]))
            if hits:
                new = [ref for ref in hits if ref[0] not in tables]
                found += new
                tables.update(ref[0] for ref in new)
        result = tuple(found)
        self._matches[dotted] = result
        return result

    def run(self) -> tuple[ApiUse, ...]:
        nodes = self.src.nodes
        names = self.names
        # Every match below but an import statement's goes through an import alias of a library in the
        # table (a DataFrame comes from a pandas call): a file importing none of them needs no walk.
        if not any(_top(target) in self.modules for target in (*names.aliases.values(), *names.star_modules)):
            for stmt, _ in self.src.flow.imports():  # imports are statements: no need for the node list
                self._import(stmt)
            return self._sorted()
        # Names bound to DataFrames anywhere in the file (flat, like the import aliases), outer scopes first.
        frames: set[str] = set()
        for assign in _assignments_breadth_first(self.src.tree):
            if len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name):
                if _makes_frame(assign.value, names, frames):
                    frames.add(assign.targets[0].id)
        pandas_imported = names.imports("pandas")
        attrs = self.attrs
        # The shared list has no bare names; a bare name matches only when it is an alias of a listed API
        # (`from numpy import float_`), and then this file is walked with its names.
        if attrs and any(self._attr_match(target) for target in names.aliases.values()):
            nodes = preorder(self.src.tree)
        elif attrs:
            # Otherwise a listed attribute's last part is the `.attr` of some attribute in the file (a
            # dotted name is an alias target followed by attributes, and no alias target holds a listed one):
            # without such an attribute, no attribute of the file can match, and none is resolved.
            lasts = self._last_parts
            if not any(n.__class__ is ast.Attribute and n.attr in lasts for n in nodes):
                attrs = {}
        for node in nodes:
            cls = node.__class__
            if cls is ast.Call:
                self._call(node, frames, pandas_imported)  # type: ignore[arg-type]
            elif cls is ast.Attribute or cls is ast.Name:
                if attrs and node.ctx.__class__ is not ast.Store:  # type: ignore[attr-defined]
                    qn = names.qualname(node, allow_builtins=False)
                    if qn:
                        self._report_all(self._attr_match(qn), node)
            elif cls is ast.Import or cls is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
        return self._sorted()

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                for alias in node.names:
                    self._report_all(self._attr_match(f"{node.module}.{alias.name}"), node)
            return
        for alias in node.names:
            self._report_all(self._attr_match(alias.name), node)

    def _sorted(self) -> tuple[ApiUse, ...]:
        return tuple(sorted(self.uses.values(), key=lambda u: (u.location.sort_key(), u.extra, u.index)))

    def _call(self, call: ast.Call, frames: set[str], pandas_imported: bool) -> None:
        qn = self.names.qualname(call.func, allow_builtins=False)
        if qn and self.attrs:
            # An extras row's evidence is the whole call (`plot_model(model, to_file=...)`): the call comes
            # before its function in preorder, so the function's own match on this line is then a repeat.
            for ref in self._attr_match(qn):
                if ref[0]:
                    self._report(ref, call, Confidence.CERTAIN)
        if qn and qn in self.keywords:
            passed = {kw.arg for kw in call.keywords}
            for i in self.keywords[qn]:
                if self.rules.apis[i].keyword in passed:
                    self._report((False, i), call, Confidence.CERTAIN)
        func = call.func
        if not isinstance(func, ast.Attribute) or qn is not None:
            return
        if func.attr in self.methods:
            for ref in self.methods[func.attr]:
                cls = self._row(ref).api.rsplit(".", 2)[1]
                if _makes_frame(func.value, self.names, frames):
                    if cls == "DataFrame":
                        self._report(ref, call, Confidence.LIKELY)
                elif pandas_imported and cls == "Series" and func.attr != "append" and not ref[0]:
                    # Series are rarely bound by name from a recognisable call; the method name is distinctive.
                    self._report(ref, call, Confidence.GUESS)
        # An accessor call (`df.plot.bar()`): the extras' method rows cover the accessor's methods too.
        inner = func.value
        if isinstance(inner, ast.Attribute) and inner.attr in self.methods:
            for ref in self.methods[inner.attr]:
                if ref[0] and self._row(ref).api.rsplit(".", 2)[1] == "DataFrame" \
                        and _makes_frame(inner.value, self.names, frames):
                    self._report(ref, call, Confidence.LIKELY)


def scan_removed_apis(src: SourceFile, rules: RemovedApiRules, extras: ExtraRules | None = None
                      ) -> tuple[ApiUse, ...]:
    """Every use of an API listed in either table in one parsed file, in source order (an extras row's use
    has `extra` set); empty when both tables are."""
    if not rules.apis and (extras is None or not extras.apis):
        return ()
    return _Scan(src, rules, extras).run()


def _pinned(requirement: str | None) -> str | None:
    """The exact version of an `==` pin, else None."""
    if not requirement or "==" not in requirement:
        return None
    spec = requirement.split(";", 1)[0]
    start = next((i for i, ch in enumerate(spec) if ch in "=<>!~"), len(spec))
    try:
        specifiers = SpecifierSet(spec[start:].strip())
    except InvalidSpecifier:
        return None
    exact = [s.version for s in specifiers if s.operator == "==" and "*" not in s.version]
    return exact[0] if len(exact) == 1 else None


def check_removed_apis(uses: Iterable[ApiUse], packages: Sequence[PackageFinding], rules: RemovedApiRules
                       ) -> tuple[RemovedApiFinding, ...]:
    """Keep the uses whose library the job lacks them in.

    The deciding version of a distribution is, in order: an exact `==` pin the project declares (pip
    installs it), the runtime image's version, else none (an unpinned install gets the latest release,
    which lacks every listed API that has not come back). A use of a library the analysis did not resolve
    at all is left out.

    Returns:
        Findings in source order. A use in a version-independent table row of a restored name is dropped
        when the version is past `restored_in`.
    """
    by_dist = {p.distribution: p for p in packages}
    out: list[RemovedApiFinding] = []
    for use in uses:
        if use.extra:
            continue  # an extras row's use: the packages step reads those
        api = rules.apis[use.index]
        package = by_dist.get(api.distribution)
        if package is None:
            continue
        version = _pinned(package.requirement) or package.runtime_version
        if version is not None:
            if not api.gone_in(version):
                continue
            confidence = use.confidence
        else:
            if api.restored_in is not None:
                continue  # the latest release has it again
            confidence = Confidence.LIKELY if use.confidence is Confidence.CERTAIN else use.confidence
        out.append(RemovedApiFinding(
            kind=api.kind, api=api.display, distribution=api.distribution, version=version,
            removed_in=api.removed_in, replacement=api.replacement, location=use.location, evidence=use.code,
            confidence=confidence, source=api.source,
        ))
    return tuple(sorted(out, key=lambda f: f.location.sort_key()))
