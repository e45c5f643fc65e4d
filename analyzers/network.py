"""Outbound network access a job needs: per-file findings (`scan_network`) merged per category (`summarize_network`).

What counts is driven by the catalog in skill/data/network_catalog.yaml (`NetworkRules.from_data`); this module
holds the rules, the per-file scan and the summary; the closed set of argument checks the catalog refers to
by name lives in network_checks.py.

Only code counts: comments never reach the AST, docstrings and log/print/help strings are never call
arguments we read, and a URL literal counts only when it is passed to a call (directly, or through a simple
name bound to a string constant, a list of them iterated by a `for` loop, or string building such as
f-strings, `+`, `.format` and `os.path.join`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any

from .model import (
    Confidence,
    excerpt,
    Evidence,
    NetworkCategory,
    NetworkFinding,
    NetworkNeed,
    PackageFinding,
    PackageStatus,
)
from .names import dotted_prefixes, literal_str
from .network_checks import (
    CHECK_FUNCTIONS,
    CHECKS,
    MISSING,
    SUPPRESS,
    URL_CONSUMERS,
    URL_IN_TEXT,
    Hit,
    host_of,
    is_url,
    shell_hits,
)
from .network_values import PASSTHROUGH, ValueReader
from .redact import redact
from .source import SourceFile
from .visitor import dispatch

C = NetworkCategory

# ----------------------------------------------------------------------------------------------------- rules

_DYNAMIC_MODES = frozenset({"network", "guess", "none", "name_hint"})
_RULE_KEYS = frozenset({"check", "arg", "kw", "hosts", "reason", "on_missing", "on_dynamic", "when_imported",
                        "default"})


@dataclass(frozen=True, slots=True)
class CallRule:
    """One indicator: a call (by qualname glob) or a method name, and how to read its arguments."""

    category: NetworkCategory
    pattern: str  # fnmatch glob on the qualname, or the bare method name for method rules
    check: str
    arg: int | None = None
    kws: tuple[str, ...] = ()
    hosts: tuple[str, ...] | None = None  # None: the category's hosts
    reason: str | None = None
    on_missing: str = "none"
    on_dynamic: str = "network"
    when_imported: tuple[str, ...] = ()
    default: str | None = None  # host_template: the value used when the call does not name one


@dataclass(frozen=True, slots=True)
class CategoryRule:
    category: NetworkCategory
    hosts: tuple[str, ...]
    reason: str
    imports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    offline_env: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: boto3 service name -> regional host template (`{region}`), for AWS services of this category.
    aws_services: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class UrlHostRule:
    pattern: str
    category: NetworkCategory
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkRules:
    """The network catalog as frozen, indexed rules. Build with `from_data`; tests may pass tiny tables."""

    categories: tuple[CategoryRule, ...]
    calls: tuple[CallRule, ...]
    methods: tuple[CallRule, ...]
    keywords: tuple[tuple[str, NetworkCategory, tuple[Any, ...]], ...]
    url_hosts: tuple[UrlHostRule, ...]
    schemes: tuple[tuple[str, NetworkCategory], ...]
    local_hosts: tuple[str, ...]
    _index: dict[str, Any] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_root: dict[str, list[tuple[re.Pattern[str], CallRule]]] = {}
        for rule in self.calls:
            by_root.setdefault(rule.pattern.split(".", 1)[0], []).append((re.compile(translate(rule.pattern)), rule))
        by_method: dict[str, list[CallRule]] = {}
        for rule in self.methods:
            by_method.setdefault(rule.pattern, []).append(rule)
        by_kw: dict[str, list[tuple[NetworkCategory, tuple[Any, ...]]]] = {}
        for name, category, values in self.keywords:
            by_kw.setdefault(name, []).append((category, values))
        env: dict[str, NetworkCategory] = {}
        offline: dict[str, tuple[NetworkCategory, tuple[str, ...]]] = {}
        for cat in self.categories:
            env.update(dict.fromkeys(cat.env, cat.category))
            offline.update({k: (cat.category, v) for k, v in cat.offline_env})
        imports = tuple((imp, cat.category) for cat in self.categories for imp in cat.imports)
        # import prefix -> (position in `imports`, category): a module's categories are then the entries of
        # its dotted prefixes, put back in table order (instead of testing every prefix of the table).
        imports_by_prefix: dict[str, list[tuple[int, NetworkCategory]]] = {}
        for position, (imp, category) in enumerate(imports):
            imports_by_prefix.setdefault(imp, []).append((position, category))
        aws = {name: (cat.category, template) for cat in self.categories for name, template in cat.aws_services}
        object.__setattr__(self, "_index", {
            "root": {k: tuple(v) for k, v in by_root.items()},
            "method": {k: tuple(v) for k, v in by_method.items()},
            "kw": {k: tuple(v) for k, v in by_kw.items()},
            "cat": {c.category: c for c in self.categories},
            "env": env,
            "offline": offline,
            "imports": imports,
            "imports_by_prefix": {k: tuple(v) for k, v in imports_by_prefix.items()},
            "aws": aws,
            "url": tuple((re.compile(translate(u.pattern.lower())), u) for u in self.url_hosts),
            "schemes": dict(self.schemes),
            "local": frozenset(self.local_hosts),
        })

    # -- lookups used by the visitor
    def category(self, category: NetworkCategory) -> CategoryRule:
        cat = self._index["cat"].get(category)
        return cat if cat is not None else CategoryRule(category, (), category.value)

    def hosts(self, category: NetworkCategory) -> tuple[str, ...]:
        return self.category(category).hosts

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> NetworkRules:
        """Build the rules from the parsed network_catalog table.

        Raises:
            ValueError: an unknown category, check or field value; the message names the entry.
        """
        def category_of(name: Any, where: str) -> NetworkCategory:
            try:
                return NetworkCategory(name)
            except ValueError:
                raise ValueError(f"network_catalog: unknown category {name!r} in {where}") from None

        def call_rule(cat: NetworkCategory, entry: Mapping[str, Any], key: str, where: str) -> CallRule:
            pattern = str(entry[key])
            unknown = set(entry) - _RULE_KEYS - {key}
            if unknown:
                raise ValueError(f"network_catalog: {where} {pattern!r}: unknown field(s) {sorted(unknown)}")
            check = str(entry.get("check", "always"))
            if check not in CHECKS:
                raise ValueError(f"network_catalog: {where} {pattern!r}: unknown check {check!r}")
            if key == "match" and any(ch in pattern.split(".", 1)[0] for ch in "*?["):
                raise ValueError(f"network_catalog: {where} {pattern!r}: must start with a literal module")
            for mode_key in ("on_missing", "on_dynamic"):
                if str(entry.get(mode_key, "none")) not in _DYNAMIC_MODES:
                    raise ValueError(f"network_catalog: {where} {pattern!r}: bad {mode_key}")
            hosts = entry.get("hosts")
            return CallRule(
                category=cat, pattern=pattern, check=check, arg=entry.get("arg"),
                kws=tuple(entry.get("kw", ())), hosts=None if hosts is None else tuple(hosts),
                reason=entry.get("reason"), on_missing=str(entry.get("on_missing", "none")),
                on_dynamic=str(entry.get("on_dynamic", "network")),
                when_imported=tuple(entry.get("when_imported", ())),
                default=None if entry.get("default") is None else str(entry["default"]),
            )

        categories: list[CategoryRule] = []
        calls: list[CallRule] = []
        methods: list[CallRule] = []
        keywords: list[tuple[str, NetworkCategory, tuple[Any, ...]]] = []
        for name, body in (data.get("categories") or {}).items():
            cat = category_of(name, "categories")
            body = body or {}
            categories.append(CategoryRule(
                category=cat, hosts=tuple(body.get("hosts", ())), reason=str(body.get("reason", name)),
                imports=tuple(body.get("imports", ())), env=tuple(body.get("env", ())),
                offline_env=tuple((k, tuple(str(x) for x in v)) for k, v in (body.get("offline_env") or {}).items()),
                aws_services=tuple((str(k), str(v)) for k, v in (body.get("aws_services") or {}).items()),
            ))
            calls.extend(call_rule(cat, e, "match", f"{name}.calls") for e in body.get("calls", ()))
            methods.extend(call_rule(cat, e, "name", f"{name}.methods") for e in body.get("methods", ()))
            keywords.extend((k, cat, tuple(v)) for k, v in (body.get("keywords") or {}).items())
        url_hosts = tuple(
            UrlHostRule(str(u["match"]), category_of(u["category"], "url_hosts"), tuple(u.get("also", ())))
            for u in data.get("url_hosts", ())
        )
        schemes = tuple((str(k), category_of(v, "schemes")) for k, v in (data.get("schemes") or {}).items())
        return cls(tuple(categories), tuple(calls), tuple(methods), tuple(keywords), url_hosts, schemes,
                   tuple(str(h) for h in data.get("local_hosts", ())))


# ----------------------------------------------------------------------------------------------------- values

#: Calls whose string arguments are prose or labels, never fetched.
_SKIP_CALLS = frozenset({
    "print", "info", "debug", "warning", "warn", "error", "exception", "critical", "log", "echo", "secho",
    "write", "writelines", "add_argument_group", "markdown", "title", "caption", "text", "ArgumentParser",
    "setup", "set_description", "set_postfix",
})
_SKIP_KWS = frozenset({"help", "description", "epilog", "usage", "doc", "homepage", "citation", "license", "msg",
                       "message", "title", "label", "caption"})
_DATA_NAME = re.compile(r"(URL|URI|ENDPOINT|HOST|BASE|API|DOWNLOAD|SOURCE|DATA)", re.I)
_DOC_NAME = re.compile(r"(HOMEPAGE|DOC|LICENSE|REPO|GITHUB|PAPER|CITATION|WEBSITE|PROJECT|ISSUE|README|HELP)", re.I)
_ENV_CALLS = frozenset({"os.environ.setdefault", "os.putenv"})
#: module -> its categories, for the latest rules object (the answer depends on the rules, not the file): one
#: (rules, memo) entry, read and replaced whole, so analyses in parallel threads never mix two rules' memos.
_IMPORT_CATEGORIES: list[tuple[Any, dict[str, list[NetworkCategory]]]] = [(None, {})]


# ----------------------------------------------------------------------------------------------------- visitor


class NetworkVisitor(ValueReader):
    """One pass over a file: calls, keyword arguments, environment assignments and imports.

    Values come from the file's shared bindings (`SourceFile.bindings`, read through `ValueReader`): a name
    read in a call stands for the binding in force there (the last one before it in the source, else the
    module's own last one).
    """

    def __init__(self, src: SourceFile, rules: NetworkRules) -> None:
        super().__init__(src, rules)
        self.found: list[tuple[NetworkFinding, bool]] = []  # (finding, import-only)
        self.suppressed: set[NetworkCategory] = set()
        self.examined: set[NetworkCategory] = set()  # categories whose calls were read (even if not network)
        self._imported: dict[str, bool] = {}
        self._match_cache: dict[str, CallRule | None] = {}
        self._methods: dict[str, tuple[CallRule, ...]] = self.index["method"]
        entry = _IMPORT_CATEGORIES[0]
        if entry[0] is not rules:
            entry = _IMPORT_CATEGORIES[0] = (rules, {})
        self._import_categories = entry[1]

    # -- reporting
    def _report(self, node: ast.AST, hit: Hit, import_only: bool = False, requires: str | None = None) -> None:
        finding = NetworkFinding(
            category=hit.category, hosts=tuple(sorted(set(hit.hosts))), location=self.src.loc(node),
            evidence=redact(self.src.code(node)), reason=redact(hit.reason), confidence=hit.confidence,
            requires=requires,
        )
        self.found.append((finding, import_only))

    def _imports(self, module: str) -> bool:
        got = self._imported.get(module)
        if got is None:
            got = self._imported[module] = self.names.imports(module)
        return got

    # -- visiting: `run` hands every node of the file's shared pre-order list to its handler; handlers never
    # descend themselves (the list already holds the children, after their parent, as a visitor sees them).
    def run(self) -> None:
        dispatch(self, self.src.nodes, _HANDLERS)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import_only(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        self._import_only(node, node.module)
        for alias in node.names:
            self._import_only(node, f"{node.module}.{alias.name}")

    def _import_only(self, node: ast.AST, module: str) -> None:
        memo = self._import_categories
        categories = memo.get(module)
        if categories is None:
            by_prefix = self.index["imports_by_prefix"]
            found = [hit for prefix in dotted_prefixes(module) for hit in by_prefix.get(prefix, ())]
            categories = memo[module] = [category for _, category in sorted(found, key=lambda hit: hit[0])]
        for category in categories:
            cat = self.rules.category(category)
            self._report(node, Hit(category, cat.hosts, Confidence.GUESS,
                                   f"imports {module}: {cat.reason}"), import_only=True, requires=module)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if target.__class__ is ast.Subscript and self.names.qualname(target.value) == "os.environ":
                self._env(node, self.literal(target.slice), node.value)

    def _env(self, node: ast.AST, key: Any, value_node: ast.expr) -> None:
        if not isinstance(key, str):
            return
        value = self.literal(value_node)
        off = self.index["offline"].get(key)
        if off is not None and isinstance(value, str) and value.lower() in off[1]:
            self.suppressed.add(off[0])
            return
        category = self.index["env"].get(key)
        if category is None or not isinstance(value, str):
            return
        hit = self.url_hit(value, category)
        if hit is not None:
            self._report(node, hit)
        elif not is_url(value) and category is C.MLFLOW and value.startswith("databricks"):
            self._report(node, Hit(category, (), Confidence.LIKELY,
                                   f"{key}={value}: the Databricks workspace host must be supplied"))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        fcls = func.__class__
        last = func.attr if fcls is ast.Attribute else func.id if fcls is ast.Name else ""  # type: ignore[attr-defined]
        # a call of a call's result or of a subscript has no qualified name
        qualname = self.names.qualname(func, allow_builtins=False) if last else None
        rule = None
        if qualname:
            if qualname in _ENV_CALLS and len(node.args) >= 2:
                self._env(node, self.literal(node.args[0]), node.args[1])
                return
            rule = self._match(qualname)
        requires = self._head_module(func) if rule is not None else None
        if rule is None and fcls is ast.Attribute:
            for candidate in self._methods.get(last, ()):
                imported = [m for m in candidate.when_imported if self._imports(m)]
                if not candidate.when_imported or imported:
                    rule, requires = candidate, (imported[0] if imported else None)
                    break
        elif rule is None and fcls is ast.Name and last not in self.names.aliases:
            # A bare function name nothing in the file binds: it came from a star import
            # (`from fastai.vision.all import *`), so a rule for that name applies when its library is imported.
            for candidate in self._methods.get(last, ()):
                imported = [m for m in candidate.when_imported if self._imports(m)]
                if imported:
                    rule, requires = candidate, imported[0]
                    break
        consumed = False
        if rule is not None:
            consumed = rule.check in URL_CONSUMERS
            self.examined.add(rule.category)
            result = CHECK_FUNCTIONS[rule.check](self, node, rule)
            if result == SUPPRESS:
                self.suppressed.add(rule.category)
            elif result and not isinstance(result, str):
                for hit in result:
                    self._report(node, hit, requires=requires)
        if node.keywords:
            by_kw = self.index["kw"]
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                for category, values in by_kw.get(kw.arg, ()):
                    if self._kw_matches(kw.value, values):
                        cat = self.rules.category(category)
                        self._report(node, Hit(category, cat.hosts, Confidence.LIKELY,
                                               f"{kw.arg}={self.src.code(kw.value)}: {cat.reason}"),
                                     requires=cat.imports[0] if cat.imports else None)
        if self.urls_possible and not consumed and last not in _SKIP_CALLS and last not in PASSTHROUGH:
            self._generic_urls(node)

    def _generic_urls(self, node: ast.Call) -> None:
        """The URL-literal rule: every URL an argument is built from is fetched (help texts and the like aside)."""
        may = self.may_hold_url
        args = [arg for arg in node.args if may(arg)]
        if node.keywords:
            args.extend(kw.value for kw in node.keywords if kw.arg not in _SKIP_KWS and may(kw.value))
        if not args:
            return
        seen: set[str] = set()
        for arg in args:
            for url in self.url_strings(arg):
                if url in seen:
                    continue
                seen.add(url)
                hit = self.url_hit(url, None)
                if hit is not None:
                    self._report(node, hit)

    def magics(self) -> None:
        """Notebook shell lines (`!wget URL`, `!git clone URL`); `%pip install x` is the packages pass's."""
        for line, text in self.src.magics:
            words = text.lstrip("!%").split()
            if words and words[0] in {"pip", "pip3", "conda", "mamba"} or "install" in words[:3]:
                # Packages come from pip_requirements; only hosts other than PyPI matter here: a VCS or
                # archive requirement, or an index / find-links URL. Each host goes under the category the
                # URL host table gives it (github.com: http, download.pytorch.org: pytorch_hub).
                for u in dict.fromkeys(URL_IN_TEXT.findall(text)):
                    hit = self.url_hit(u.rstrip(").,;").removeprefix("git+"), None)
                    if hit is not None and hit.category is not C.PYPI:
                        if u.startswith("git+"):  # a git clone talks to the host itself, no download redirects
                            parsed = host_of(u.removeprefix("git+"))
                            hit.hosts = (parsed[1],) if parsed and parsed[1] else hit.hosts
                        hit.confidence = Confidence.CERTAIN
                        hit.reason = f"pip installs from {', '.join(hit.hosts)}"
                        self._report_at(line, text, hit)
                continue
            for hit in shell_hits(self, None, [text.lstrip("!%")]) or ():
                self._report_at(line, text, hit)

    def _report_at(self, line: int, text: str, hit: Hit) -> None:
        self.found.append((NetworkFinding(
            category=hit.category, hosts=tuple(sorted(set(hit.hosts))), location=self.src.location(line),
            evidence=redact(excerpt(text)), reason=redact(hit.reason), confidence=hit.confidence), False))

    def unused_url_constants(self) -> None:
        """`DATA_URL = "https://..."` at module level and never used here: an importer fetches it (config.py)."""
        if not self.urls_possible:
            return
        candidates: dict[str, ast.stmt] = {}
        for stmt in self.src.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                text = literal_str(stmt.value)
                if text and is_url(text) and _DATA_NAME.search(name) and not _DOC_NAME.search(name) \
                        and not name.startswith("__"):
                    candidates[name] = stmt
        if not candidates:
            return
        # Used = the name appears anywhere besides its own assignment. A text search instead of walking
        # every node (a quarter of this pass on big files); a mention in a comment counts as a use,
        # which errs towards reporting less.
        text = self.src.text
        for name in list(candidates):
            if len(re.findall(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)) > 1:
                del candidates[name]
        for name, stmt in candidates.items():
            hit = self.url_hit(literal_str(stmt.value) or "", None)  # type: ignore[attr-defined]
            if hit is not None:
                hit.confidence = Confidence.LIKELY
                hit.reason = f"{hit.reason} ({name} is not used in this file; an importer fetches it)"
                self._report(stmt, hit)

    def _head_module(self, func: ast.expr) -> str | None:
        """The imported module a call's name goes through: `ws.init` after `import wandb as ws` -> wandb."""
        while isinstance(func, ast.Attribute):
            func = func.value
        return self.names.aliases.get(func.id) if isinstance(func, ast.Name) else None

    def _match(self, qualname: str) -> CallRule | None:
        if qualname in self._match_cache:
            return self._match_cache[qualname]
        found = None
        for regex, rule in self.index["root"].get(qualname.split(".", 1)[0], ()):
            if regex.match(qualname):
                found = rule
                break
        self._match_cache[qualname] = found
        return found

    def _kw_matches(self, value_node: ast.expr, values: tuple[Any, ...]) -> bool:
        nodes = value_node.elts if isinstance(value_node, (ast.List, ast.Tuple)) else [value_node]
        for n in nodes:
            value = self.literal(n)
            if value is MISSING:
                continue
            if value in values or ("*" in values and value not in (None, False, "")):
                return True
        return False

_HANDLERS: dict[type, Callable[[NetworkVisitor, Any], None]] = {
    ast.Import: NetworkVisitor.visit_Import, ast.ImportFrom: NetworkVisitor.visit_ImportFrom,
    ast.Assign: NetworkVisitor.visit_Assign, ast.Call: NetworkVisitor.visit_Call,
}
_ORDER = {c: i for i, c in enumerate(NetworkCategory)}


# ----------------------------------------------------------------------------------------------------- entry points



def scan_network(src: SourceFile, rules: NetworkRules) -> tuple[NetworkFinding, ...]:
    """Find every piece of code in one file that reaches out to the network.

    Returns findings sorted by location. Import-only findings (confidence guess) are dropped when the same
    file calls into the category (whether or not that call needs the network: `hub.load("/local/dir")`); every finding of a category is dropped when the file switches it off
    (`wandb.init(mode="offline")`, `WANDB_MODE=disabled`, a local MLflow file store).
    """
    visitor = NetworkVisitor(src, rules)
    visitor.run()
    visitor.magics()
    visitor.unused_url_constants()
    used = visitor.examined | {f.category for f, import_only in visitor.found if not import_only}
    seen: set[tuple[Any, ...]] = set()
    out: list[NetworkFinding] = []
    for finding, import_only in visitor.found:
        if finding.category in visitor.suppressed or (import_only and finding.category in used):
            continue
        if finding.category is C.MLFLOW and finding.confidence is Confidence.GUESS and any(
            f.category is C.MLFLOW and f.hosts for f, _ in visitor.found
        ):
            continue  # the tracking server is named elsewhere in the file
        key = (finding.category, finding.hosts, finding.location)
        if key in seen:
            continue
        seen.add(key)
        out.append(finding)
    out.sort(key=lambda f: (f.location.sort_key(), _ORDER[f.category]))
    return tuple(out)


def summarize_network(
    findings: Sequence[NetworkFinding], packages: Sequence[PackageFinding], rules: NetworkRules
) -> tuple[NetworkNeed, ...]:
    """Merge findings per category: hosts deduplicated and sorted, every finding kept as evidence.

    `pypi` is added exactly when some package has status `to_install` (pip_requirements are installed from
    PyPI before the script starts), with those packages' evidence; code that runs `pip install` itself also
    contributes to `pypi`. Findings that go through an optional import whose package is not preinstalled are
    dropped (`try: import wandb` is never installed, so wandb is never reached). Needs come in NetworkCategory order; a need's confidence is its best finding's.
    """
    hosts: dict[NetworkCategory, set[str]] = {}
    evidence: dict[NetworkCategory, list[Evidence]] = {}
    best: dict[NetworkCategory, Confidence] = {}

    def add(category: NetworkCategory, found_hosts: Iterable[str], ev: Evidence, confidence: Confidence) -> None:
        hosts.setdefault(category, set()).update(found_hosts)
        evidence.setdefault(category, []).append(ev)
        if category not in best or confidence > best[category]:
            best[category] = confidence

    # An optional import whose package is not in the image is never installed: its services need no access.
    absent = tuple(p.import_name for p in packages if p.optional and p.status is not PackageStatus.PREINSTALLED)
    for f in findings:
        if f.requires and any(f.requires == m or f.requires.startswith(m + ".") or m.startswith(f.requires + ".")
                              for m in absent):
            continue
        add(f.category, f.hosts, Evidence(f.location, f.evidence, f.reason), f.confidence)
    for pkg in packages:
        if pkg.status is not PackageStatus.TO_INSTALL:
            continue
        reason = f"{pkg.distribution} is not in the runtime image"
        pkg_evidence = pkg.evidence or ()
        for ev in pkg_evidence:
            add(C.PYPI, rules.hosts(C.PYPI), Evidence(ev.location, ev.code, reason), Confidence.CERTAIN)
        if not pkg_evidence:
            hosts.setdefault(C.PYPI, set()).update(rules.hosts(C.PYPI))
            best[C.PYPI] = Confidence.CERTAIN
    needs = []
    for category in NetworkCategory:
        if category not in best:
            continue
        cited = sorted(set(evidence.get(category, ())), key=lambda e: (e.location.sort_key(), e.code, e.reason))
        needs.append(NetworkNeed(category, tuple(sorted(hosts[category])), tuple(cited), best[category]))
    return tuple(needs)
