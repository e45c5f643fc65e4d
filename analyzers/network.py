"""Outbound network access a job needs: per-file findings (`scan_network`) merged per category (`summarize_network`).

What counts is driven by the catalog in skill/data/network_catalog.yaml (`NetworkRules.from_data`); this module
holds the matching machinery and the closed set of argument checks the catalog refers to by name.

Only code counts: comments never reach the AST, docstrings and log/print/help strings are never call
arguments we read, and a URL literal counts only when it is passed to a call (directly, or through a simple
name bound to a string constant, a list of them iterated by a `for` loop, or string building such as
f-strings, `+`, `.format` and `os.path.join`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any
from urllib.parse import urlsplit

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
from .names import literal_str
from .redact import redact
from .source import SourceFile

C = NetworkCategory

# ----------------------------------------------------------------------------------------------------- rules

#: Argument checks a catalog rule may name; each is a function below (`_CHECKS`).
CHECKS = frozenset({
    "always", "guess", "hub_id", "dataset_id", "kw_true", "kw_not_false", "kw_set", "tv_weights",
    "keras_weights", "url_arg", "handle", "hub_source", "fetch", "shell", "pip_args", "s3_service",
    "s3_bucket", "protocol", "base_url", "tracking_uri", "wandb_mode", "azure_conn", "azure_account",
    "release_weights", "host_template", "fastai_arch",
})
#: Checks that read every URL in the call themselves, so the generic URL-literal rule skips the call.
_URL_CONSUMERS = frozenset({
    "hub_id", "dataset_id", "url_arg", "handle", "shell", "pip_args", "base_url", "tracking_uri", "azure_conn",
})
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

_MISSING = object()
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(\S*)$")
_URL_IN_TEXT = re.compile(r"(?:https?|ftp|s3|gs|hf|git\+https?)://[^\s'\"<>]+")
_MODEL_FILE_EXT = re.compile(
    r"\.(bin|pt|pth|safetensors|ckpt|h5|hdf5|keras|json|onnx|pkl|pickle|gguf|ggml|msgpack|model|tar|gz|zip|npz)$",
    re.I)
_LOCAL_DIRS = frozenset({
    "output", "outputs", "out", "model", "models", "checkpoint", "checkpoints", "ckpt", "ckpts", "saved",
    "saved_models", "save", "results", "runs", "data", "tmp", "artifacts", "weights", "pretrained", "local",
    "cache", "logs", "experiments", "exp", "finetuned", "trained", "assets", "resources",
})
_DATASET_BUILDERS = frozenset({
    "csv", "json", "parquet", "text", "arrow", "imagefolder", "audiofolder", "videofolder", "pandas",
    "webdataset", "sql", "generator", "spark", "xml", "pdffolder", "niftifolder", "cache",
})
_PATH_CALLS = ("os.path.", "pathlib.", "posixpath.", "ntpath.")
#: Calls whose string arguments are prose or labels, never fetched.
_SKIP_CALLS = frozenset({
    "print", "info", "debug", "warning", "warn", "error", "exception", "critical", "log", "echo", "secho",
    "write", "writelines", "add_argument_group", "markdown", "title", "caption", "text", "ArgumentParser",
    "setup", "set_description", "set_postfix",
})
_SKIP_KWS = frozenset({"help", "description", "epilog", "usage", "doc", "homepage", "citation", "license", "msg",
                       "message", "title", "label", "caption"})
#: String-building calls: the URL flows through them into the enclosing call.
_PASSTHROUGH = frozenset({"format", "join", "replace", "strip", "rstrip", "lstrip", "urljoin", "str", "Path",
                          "PurePosixPath", "quote", "lower", "removesuffix", "removeprefix"})
_DATA_NAME = re.compile(r"(URL|URI|ENDPOINT|HOST|BASE|API|DOWNLOAD|SOURCE|DATA)", re.I)
_DOC_NAME = re.compile(r"(HOMEPAGE|DOC|LICENSE|REPO|GITHUB|PAPER|CITATION|WEBSITE|PROJECT|ISSUE|README|HELP)", re.I)
_HUB_NAME_HINT = re.compile(r"(name|path|id|repo|checkpoint|ckpt|hub|pretrained)", re.I)


def _dotted_prefixes(module: str) -> list[str]:
    """`a.b.c` -> ["a.b.c", "a.b", "a"]."""
    out = [module]
    while "." in module:
        module = module.rsplit(".", 1)[0]
        out.append(module)
    return out


def _is_local_path(value: str) -> bool:
    """True when a model/dataset name is clearly a filesystem path rather than a hub id."""
    s = value.strip()
    if not s or s in {".", ".."} or s.startswith(("/", "./", "../", "~", ".\\", "file:")):
        return True
    if "\\" in s or re.match(r"^[A-Za-z]:[\\/]", s) or s.count("/") >= 2 or _MODEL_FILE_EXT.search(s):
        return True
    first = s.split("/", 1)[0].lower()
    return ("/" in s and first in _LOCAL_DIRS) or any(p.startswith("checkpoint-") for p in s.split("/"))


def _host_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of a URL; port kept when it differs from the scheme default (EAIs default to 443)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not host:
        return scheme, ""
    if port is None and scheme == "http":
        port = 80
    if port is not None and not (port == 443 and scheme in {"https", "wss"}):
        return scheme, f"{host}:{port}"
    return scheme, host


def _s3_hosts(bucket: str) -> tuple[str, ...]:
    # Dotted bucket names break virtual-host TLS, so clients fall back to path-style on the global endpoint.
    if not bucket or "." in bucket or not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        return ("s3.amazonaws.com",)
    return (f"{bucket}.s3.amazonaws.com",)


@dataclass(slots=True)
class _Hit:
    category: NetworkCategory
    hosts: tuple[str, ...]
    confidence: Confidence
    reason: str


_SUPPRESS = "suppress"  # a check result: the category is switched off in this file (offline mode, local store)


# ----------------------------------------------------------------------------------------------------- visitor


class _NetworkVisitor:
    """One pass over a file: calls, keyword arguments, environment assignments and imports."""

    def __init__(self, src: SourceFile, rules: NetworkRules) -> None:
        self.src = src
        self.rules = rules
        self.names = src.names
        self.index = rules._index
        self.consts: dict[str, tuple[ast.expr, ...] | None] = {}
        self.found: list[tuple[NetworkFinding, bool]] = []  # (finding, import-only)
        self.suppressed: set[NetworkCategory] = set()
        self.examined: set[NetworkCategory] = set()  # categories whose calls were read (even if not network)
        self._imported: dict[str, bool] = {}
        self._match_cache: dict[str, CallRule | None] = {}
        for stmt in src.tree.body:  # module constants first, so functions above them still resolve them
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self._bind_assign(stmt)

    # -- reporting
    def _report(self, node: ast.AST, hit: _Hit, import_only: bool = False, requires: str | None = None) -> None:
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

    # -- constants
    def _bind(self, name: str, value: ast.expr | None) -> None:
        if value is None:
            self.consts[name] = None
            return
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            self.consts[name] = tuple(value.elts)
        else:
            self.consts[name] = (value,)

    def _bind_assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                self._bind(target.id, node.value)

    def _values(self, node: ast.expr, depth: int = 0) -> tuple[ast.expr, ...]:
        """A Name bound to string constants resolves to them (one level of indirection kept small)."""
        if isinstance(node, ast.Name) and depth < 3:
            bound = self.consts.get(node.id)
            if bound:
                out: list[ast.expr] = []
                for b in bound:
                    out.extend(self._values(b, depth + 1))
                return tuple(out)
        return (node,)

    def _literal(self, node: ast.expr | None) -> Any:
        """The literal value of an argument (str, bool, None, number) after constant resolution, else _MISSING."""
        if node is None:
            return _MISSING
        values = self._values(node)
        if len(values) != 1:
            return _MISSING
        value = values[0]
        if isinstance(value, ast.Constant):
            return value.value
        text = literal_str(value)
        return text if text is not None else _MISSING

    # -- visiting: `run` hands every node of the file's shared pre-order list to its handler; handlers never
    # descend themselves (the list already holds the children, after their parent, as a visitor sees them).
    def run(self) -> None:
        handlers = _HANDLERS
        for node in self.src.nodes:
            handler = handlers.get(node.__class__)
            if handler is not None:
                handler(self, node)

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
        memo = self.__dict__.setdefault("_import_categories", {})  # module -> categories: one prefix scan each
        categories = memo.get(module)
        if categories is None:
            by_prefix = self.index["imports_by_prefix"]
            found = [hit for prefix in _dotted_prefixes(module) for hit in by_prefix.get(prefix, ())]
            categories = memo[module] = [category for _, category in sorted(found, key=lambda hit: hit[0])]
        for category in categories:
            cat = self.rules.category(category)
            self._report(node, _Hit(category, cat.hosts, Confidence.GUESS,
                                    f"imports {module}: {cat.reason}"), import_only=True, requires=module)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._bind_assign(node)
        for target in node.targets:
            if isinstance(target, ast.Subscript) and self.names.qualname(target.value) == "os.environ":
                self._env(node, self._literal(target.slice), node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind_assign(node)

    def visit_For(self, node: ast.For) -> None:
        # `for url in URLS:` binds url to every string of a constant list.
        if isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Name):
            bound = self.consts.get(node.iter.id)
            self.consts[node.target.id] = bound if bound and len(bound) > 0 else None

    def _env(self, node: ast.AST, key: Any, value_node: ast.expr) -> None:
        if not isinstance(key, str):
            return
        value = self._literal(value_node)
        off = self.index["offline"].get(key)
        if off is not None and isinstance(value, str) and value.lower() in off[1]:
            self.suppressed.add(off[0])
            return
        category = self.index["env"].get(key)
        if category is None or not isinstance(value, str):
            return
        hit = self._url_hit(value, category)
        if hit is not None:
            self._report(node, hit)
        elif not self._is_url(value) and category is C.MLFLOW and value.startswith("databricks"):
            self._report(node, _Hit(category, (), Confidence.LIKELY,
                                    f"{key}={value}: the Databricks workspace host must be supplied"))

    def visit_Call(self, node: ast.Call) -> None:
        self._call(node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        qualname = self.names.qualname(func, allow_builtins=False)
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if qualname in {"os.environ.setdefault", "os.putenv"} and len(node.args) >= 2:
            self._env(node, self._literal(node.args[0]), node.args[1])
            return
        rule = self._match(qualname) if qualname else None
        requires = self._head_module(func) if rule is not None else None
        if rule is None and isinstance(func, ast.Attribute):
            for candidate in self.index["method"].get(func.attr, ()):
                imported = [m for m in candidate.when_imported if self._imports(m)]
                if not candidate.when_imported or imported:
                    rule, requires = candidate, (imported[0] if imported else None)
                    break
        elif rule is None and isinstance(func, ast.Name) and func.id not in self.names.aliases:
            # A bare function name nothing in the file binds: it came from a star import
            # (`from fastai.vision.all import *`), so a rule for that name applies when its library is imported.
            for candidate in self.index["method"].get(func.id, ()):
                imported = [m for m in candidate.when_imported if self._imports(m)]
                if imported:
                    rule, requires = candidate, imported[0]
                    break
        consumed = False
        if rule is not None:
            consumed = rule.check in _URL_CONSUMERS
            self.examined.add(rule.category)
            result = _CHECKS[rule.check](self, node, rule)
            if result == _SUPPRESS:
                self.suppressed.add(rule.category)
            elif result and not isinstance(result, str):
                for hit in result:
                    self._report(node, hit, requires=requires)
        for kw in node.keywords:
            if kw.arg is None:
                continue
            for category, values in self.index["kw"].get(kw.arg, ()):
                if self._kw_matches(kw.value, values):
                    cat = self.rules.category(category)
                    self._report(node, _Hit(category, cat.hosts, Confidence.LIKELY,
                                            f"{kw.arg}={self.src.code(kw.value)}: {cat.reason}"),
                                 requires=cat.imports[0] if cat.imports else None)
        if not consumed and last not in _SKIP_CALLS and last not in _PASSTHROUGH:
            self._generic_urls(node)

    def magics(self) -> None:
        """Notebook shell lines (`!wget URL`, `!git clone URL`); `%pip install x` is the packages pass's."""
        for line, text in self.src.magics:
            words = text.lstrip("!%").split()
            if words and words[0] in {"pip", "pip3", "conda", "mamba"} or "install" in words[:3]:
                # Packages come from pip_requirements; only hosts other than PyPI matter here: a VCS or
                # archive requirement, or an index / find-links URL. Each host goes under the category the
                # URL host table gives it (github.com: http, download.pytorch.org: pytorch_hub).
                for u in dict.fromkeys(_URL_IN_TEXT.findall(text)):
                    hit = self._url_hit(u.rstrip(").,;").removeprefix("git+"), None)
                    if hit is not None and hit.category is not C.PYPI:
                        if u.startswith("git+"):  # a git clone talks to the host itself, no download redirects
                            parsed = _host_of(u.removeprefix("git+"))
                            hit.hosts = (parsed[1],) if parsed and parsed[1] else hit.hosts
                        hit.confidence = Confidence.CERTAIN
                        hit.reason = f"pip installs from {', '.join(hit.hosts)}"
                        self._report_at(line, text, hit)
                continue
            for hit in _shell_hits(self, None, [text.lstrip("!%")]) or ():
                self._report_at(line, text, hit)

    def _report_at(self, line: int, text: str, hit: _Hit) -> None:
        self.found.append((NetworkFinding(
            category=hit.category, hosts=tuple(sorted(set(hit.hosts))), location=self.src.location(line),
            evidence=redact(excerpt(text)), reason=redact(hit.reason), confidence=hit.confidence), False))

    def unused_url_constants(self) -> None:
        """`DATA_URL = "https://..."` at module level and never used here: an importer fetches it (config.py)."""
        candidates: dict[str, ast.stmt] = {}
        for stmt in self.src.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                text = literal_str(stmt.value)
                if text and self._is_url(text) and _DATA_NAME.search(name) and not _DOC_NAME.search(name) \
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
            hit = self._url_hit(literal_str(stmt.value) or "", None)  # type: ignore[attr-defined]
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
            value = self._literal(n)
            if value is _MISSING:
                continue
            if value in values or ("*" in values and value not in (None, False, "")):
                return True
        return False

    # -- URL literals
    def _is_url(self, text: str) -> bool:
        return "://" in text and bool(_URL_RE.match(text.strip()))  # the substring test spares most regexes

    def _url_strings(self, node: ast.expr, depth: int = 0) -> Iterator[str]:
        """Leading literal text of every URL-shaped string an argument expression is built from."""
        if depth > 6:
            return
        if isinstance(node, ast.Name):
            for value in self._values(node):
                if value is not node:
                    yield from self._url_strings(value, depth + 1)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str) and self._is_url(node.value):
                yield node.value.strip()
        elif isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and _URL_RE.match(head.value):
                if len(node.values) == 1 or re.match(r"^[^:]+://[A-Za-z0-9.\-:@]*[A-Za-z0-9][/?#:]", head.value):
                    yield head.value
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    yield from self._url_strings(value.value, depth + 1)
        elif isinstance(node, ast.BinOp):
            yield from self._url_strings(node.left, depth + 1)
            if not isinstance(node.op, ast.Mod):
                yield from self._url_strings(node.right, depth + 1)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for elt in node.elts:
                yield from self._url_strings(elt, depth + 1)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                yield from self._url_strings(value, depth + 1)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in _PASSTHROUGH:
                if isinstance(func, ast.Attribute):
                    yield from self._url_strings(func.value, depth + 1)
                for arg in node.args:
                    yield from self._url_strings(arg, depth + 1)

    def _generic_urls(self, node: ast.Call) -> None:
        seen: set[str] = set()
        args: list[ast.expr] = list(node.args)
        args.extend(kw.value for kw in node.keywords if kw.arg not in _SKIP_KWS)
        for arg in args:
            for url in self._url_strings(arg):
                if url in seen:
                    continue
                seen.add(url)
                hit = self._url_hit(url, None)
                if hit is not None:
                    self._report(node, hit)

    def _url_hit(self, url: str, category: NetworkCategory | None) -> _Hit | None:
        """The finding a literal URL implies: its own category (scheme / host) unless `category` is forced."""
        parsed = _host_of(url)
        if parsed is None:
            return None
        scheme, host = parsed
        safe = redact(url)
        scheme_cat = self.index["schemes"].get(scheme)
        if scheme_cat is not None:
            cat = category or scheme_cat
            if scheme_cat is C.S3:
                bucket = url.split("://", 1)[1].split("/", 1)[0]
                return _Hit(cat, _s3_hosts(bucket) if bucket else self.rules.hosts(C.S3),
                            Confidence.CERTAIN if bucket else Confidence.LIKELY, f"uses {safe}")
            if scheme_cat is C.AZURE and host.endswith((".core.windows.net", ".core.chinacloudapi.cn")):
                return _Hit(cat, (host,), Confidence.CERTAIN, f"uses {safe}")
            return _Hit(cat, self.rules.hosts(scheme_cat), Confidence.LIKELY if scheme_cat is C.AZURE
                        else Confidence.CERTAIN, f"uses {safe}")
        if scheme not in {"http", "https", "ftp", "ws", "wss", "git+https", "git+http"} or not host:
            return None
        bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        if bare.lower() in self.index["local"] or bare.startswith("127."):
            return None
        also: tuple[str, ...] = ()
        mapped = C.HTTP
        for regex, rule in self.index["url"]:
            if regex.match(bare.lower()):
                mapped, also = rule.category, rule.also
                break
        return _Hit(category or mapped, (host, *also), Confidence.CERTAIN, f"fetches {safe}")

    # -- argument access
    def arg(self, node: ast.Call, rule: CallRule) -> ast.expr | None:
        if rule.arg is not None and len(node.args) > rule.arg:
            value = node.args[rule.arg]
            return None if isinstance(value, ast.Starred) else value
        for kw in node.keywords:
            if kw.arg in rule.kws:
                return kw.value
        return None

    def kw(self, node: ast.Call, *names: str) -> ast.expr | None:
        for kw in node.keywords:
            if kw.arg in names:
                return kw.value
        return None

    def hit(self, rule: CallRule, confidence: Confidence = Confidence.LIKELY, detail: str = "",
            hosts: tuple[str, ...] | None = None) -> list[_Hit]:
        cat = self.rules.category(rule.category)
        reason = rule.reason or cat.reason
        return [_Hit(rule.category, hosts if hosts is not None else rule.hosts if rule.hosts is not None
                     else cat.hosts, confidence, f"{reason}{': ' + detail if detail else ''}")]

    def dynamic(self, rule: CallRule, node: ast.expr | None, mode: str, what: str) -> list[_Hit] | None:
        if mode == "none":
            return None
        if mode == "name_hint":
            text = self.src.code(node) if node is not None else ""
            if not _HUB_NAME_HINT.search(text):
                return None
            mode = "network"
        detail = f"{what} computed at run time ({self.src.code(node)})" if node is not None else what
        return self.hit(rule, Confidence.LIKELY if mode == "network" else Confidence.GUESS, detail)


_HANDLERS: dict[type, Callable[[_NetworkVisitor, Any], None]] = {
    ast.Import: _NetworkVisitor.visit_Import, ast.ImportFrom: _NetworkVisitor.visit_ImportFrom,
    ast.Assign: _NetworkVisitor.visit_Assign, ast.AnnAssign: _NetworkVisitor.visit_AnnAssign,
    ast.For: _NetworkVisitor.visit_For, ast.Call: _NetworkVisitor.visit_Call,
}
_ORDER = {c: i for i, c in enumerate(NetworkCategory)}

Check = Callable[[_NetworkVisitor, ast.Call, CallRule], "list[_Hit] | str | None"]

# ----------------------------------------------------------------------------------------------------- checks


def _always(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    return v.hit(rule)


def _guess(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    return v.hit(rule, Confidence.GUESS)


def _hub_id(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    if arg is None:
        return v.dynamic(rule, None, rule.on_missing, "default model")
    if _local_flag(v, node):
        return None
    resolved = v._values(arg)
    if len(resolved) == 1 and _is_path_expr(v, resolved[0]):
        return None  # built from a filesystem path
    value = v._literal(arg)
    if value is _MISSING:
        return v.dynamic(rule, arg, rule.on_dynamic, "name")
    if not isinstance(value, str):
        return None
    if v._is_url(value):
        hit = v._url_hit(value, rule.category)
        return [hit] if hit else None
    if _is_local_path(value):
        return None
    return v.hit(rule, Confidence.LIKELY, repr(value))


def _local_flag(v: _NetworkVisitor, node: ast.Call) -> bool:
    """`from_pretrained(..., local_files_only=True)` never downloads."""
    kw = v.kw(node, "local_files_only")
    return kw is not None and v._literal(kw) is True


def _is_path_expr(v: _NetworkVisitor, node: ast.expr) -> bool:
    """os.path.join(...), Path(...), `base / "x"`, str(Path(...)): a filesystem path, never a hub id."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    if isinstance(node, ast.Call):
        callee = v.names.qualname(node.func) or ""
        if callee.startswith(_PATH_CALLS) or callee == "os.getcwd":
            return True
        if callee in {"str", "os.fspath"} and node.args:
            inner = v._values(node.args[0])
            return len(inner) == 1 and _is_path_expr(v, inner[0])
    return False


def _dataset_id(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    value = v._literal(arg) if arg is not None else _MISSING
    if isinstance(value, str) and value.lower() in _DATASET_BUILDERS:
        hits: list[_Hit] = []
        for name in ("data_files", "data_dir"):
            files = v.kw(node, name)
            if files is None:
                continue
            for url in dict.fromkeys(v._url_strings(files)):
                hit = v._url_hit(url, None)
                if hit is not None:
                    hits.append(hit)
        return hits or None
    if arg is None:
        return None
    if value is _MISSING:
        return v.dynamic(rule, arg, rule.on_dynamic, "dataset")
    if not isinstance(value, str) or _is_local_path(value):
        return None
    if v._is_url(value):
        hit = v._url_hit(value, None)
        return [hit] if hit else None
    return v.hit(rule, Confidence.LIKELY, repr(value))


def _flag(v: _NetworkVisitor, node: ast.Call, names: Sequence[str]) -> Any:
    """True / False / None (absent or None) / _MISSING (dynamic) for the first of `names` present."""
    kw = v.kw(node, *names)
    if kw is None:
        return None
    return v._literal(kw)


def _kw_true(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = _flag(v, node, rule.kws)
    if value is _MISSING:
        return v.hit(rule, Confidence.GUESS, f"{rule.kws[0]} set at run time")
    return v.hit(rule, Confidence.LIKELY, f"{rule.kws[0]}={value!r}") if value is True else None


def _kw_not_false(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = _flag(v, node, rule.kws)
    return None if value is False else v.hit(rule)


def _kw_set(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = _flag(v, node, rule.kws)
    if value in (None, False, ""):
        return None
    return v.hit(rule, Confidence.GUESS if value is _MISSING else Confidence.LIKELY)


def _tv_weights(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    for name in ("pretrained", "pretrained_backbone"):
        value = _flag(v, node, (name,))
        if value is True:
            return v.hit(rule, Confidence.LIKELY, f"{name}=True")
        if value is _MISSING:
            return v.hit(rule, Confidence.GUESS, f"{name} set at run time")
    if node.args and v._literal(node.args[0]) is True and not rule.pattern.endswith("get_model"):
        return v.hit(rule, Confidence.LIKELY, "pretrained=True")
    for name in ("weights", "weights_backbone"):
        kw = v.kw(node, name)
        if kw is None:
            continue
        value = v._literal(kw)
        if value in (None, False, ""):
            continue
        if isinstance(value, str) and _MODEL_FILE_EXT.search(value):
            continue  # a local weights file
        if value is _MISSING and isinstance(kw, ast.Name):
            return v.hit(rule, Confidence.GUESS, f"{name} set at run time")
        return v.hit(rule, Confidence.LIKELY, f"{name}={v.src.code(kw)}")
    return None


def _keras_weights(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    kw = v.kw(node, "weights")
    if kw is None:
        return v.hit(rule, Confidence.LIKELY, 'weights default to "imagenet"')
    value = v._literal(kw)
    if value is _MISSING:
        return v.hit(rule, Confidence.GUESS, "weights chosen at run time")
    if isinstance(value, str) and value.lower() == "imagenet":
        return v.hit(rule, Confidence.LIKELY, 'weights="imagenet"')
    return None  # None or a local weights file


def _url_arg(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    if arg is None:
        return v.hit(rule) if not rule.kws and rule.arg is None else v.dynamic(rule, None, "network", "")
    urls = list(v._url_strings(arg))
    if urls:
        # A generic downloader (category http) reaches whatever the URL names: the host table decides.
        forced = None if rule.category is C.HTTP else rule.category
        hits = [v._url_hit(u, forced) for u in urls]
        return [h for h in hits if h] or None
    value = v._literal(arg)
    if isinstance(value, str):
        return None  # a literal that is not a URL: a local path
    return v.dynamic(rule, arg, "network", "URL")


def _handle(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    value = v._literal(arg) if arg is not None else _MISSING
    if isinstance(value, str):
        if not v._is_url(value):
            return None  # a local SavedModel directory
        hit = v._url_hit(value, rule.category)
        if hit is None:
            return None
        return v.hit(rule, Confidence.CERTAIN, redact(value), hosts=(*hit.hosts, *v.rules.hosts(rule.category)))
    urls = list(v._url_strings(arg)) if arg is not None else []
    if urls:
        return v.hit(rule, Confidence.LIKELY, redact(urls[0]))
    return v.dynamic(rule, arg, "network", "handle")


def _hub_source(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    source = _flag(v, node, ("source",))
    if source == "local":
        return None
    repo = v._literal(node.args[0]) if node.args else _MISSING
    if isinstance(repo, str) and _is_local_path(repo) and repo.count("/") != 1:
        return None
    return v.hit(rule, Confidence.LIKELY, repr(repo) if isinstance(repo, str) else "")


def _fetch(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    if arg is None:
        return None
    if any(True for _ in v._url_strings(arg)):
        return None  # the URL-literal rule reports it with its host
    value = v._literal(arg)
    if isinstance(value, str):
        return None
    return v.dynamic(rule, arg, "guess", "URL")


def _command_strings(v: _NetworkVisitor, node: ast.expr | None) -> list[str]:
    if node is None:
        return []
    out: list[str] = []
    for value in v._values(node):
        if isinstance(value, (ast.List, ast.Tuple)):
            for elt in value.elts:
                out.extend(_command_strings(v, elt))
        elif isinstance(value, ast.JoinedStr):
            out.append("".join(str(p.value) if isinstance(p, ast.Constant) else " {} " for p in value.values))
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            out.append(value.value)
        elif isinstance(value, ast.BinOp):
            out.extend(_command_strings(v, value.left))
            out.extend(_command_strings(v, value.right))
    return out


def _shell_hits(v: _NetworkVisitor, rule: CallRule | None, words: list[str]) -> list[_Hit] | None:
    text = " ".join(words)
    tokens = text.split()
    hits: list[_Hit] = []
    urls = [u.rstrip(").,;") for u in _URL_IN_TEXT.findall(text)]
    is_pip = "install" in tokens and any(t in {"pip", "pip3", "uv"} or t.endswith(("/pip", "/pip3"))
                                         for t in tokens)
    if is_pip:
        extra = []
        for u in urls:
            parsed = _host_of(u.removeprefix("git+"))
            if parsed and parsed[1]:
                extra.append(parsed[1])
        cat = v.rules.category(C.PYPI)
        hits.append(_Hit(C.PYPI, (*cat.hosts, *extra), Confidence.LIKELY, f"runs pip install: {cat.reason}"))
        return hits
    if "install" in tokens and any(t in {"conda", "mamba", "micromamba"} for t in tokens):
        hits.append(_Hit(C.HTTP, ("repo.anaconda.com", "conda.anaconda.org"), Confidence.LIKELY,
                         "runs conda install"))
    for u in dict.fromkeys(urls):
        hit = v._url_hit(u.removeprefix("git+"), None)
        if hit is not None:
            hits.append(hit)
    hits.extend(_command_model_ids(v, tokens))
    return hits or None


#: Command-line options that name a model or dataset on the Hugging Face Hub (`--model_name_or_path x`).
_HUB_FLAG = re.compile(r"^--?(?:model(?:_name(?:_or_path)?|_id|_path)?|base_model|pretrained_model_name_or_path|"
                       r"tokenizer_name|teacher_model|dataset_name|hub_model_id)(?:=(.*))?$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(?:/[\w.\-]+)?$")


def _command_model_ids(v: _NetworkVisitor, tokens: list[str]) -> list[_Hit]:
    """`python train.py --model_name_or_path bert-base-uncased`: the script downloads that id from the Hub."""
    hits = []
    for i, token in enumerate(tokens):
        match = _HUB_FLAG.match(token)
        if not match:
            continue
        value = match.group(1) if match.group(1) is not None else (tokens[i + 1] if i + 1 < len(tokens) else "")
        value = value.strip("'\"")
        if not value or value.startswith(("$", "{", "-")) or not _HUB_ID.match(value) or _is_local_path(value):
            continue
        cat = v.rules.category(C.HUGGINGFACE)
        hits.append(_Hit(C.HUGGINGFACE, cat.hosts, Confidence.LIKELY, f"{token.split('=')[0]} {value}: {cat.reason}"))
    return hits


def _shell(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    first = node.args[0] if node.args else v.kw(node, "args", "command", "cmd")
    words = _command_strings(v, first)
    if len(node.args) > 1 and (v.names.qualname(node.func) or "").startswith("os.exec"):
        for extra in node.args[1:]:
            words.extend(_command_strings(v, extra))
    return _shell_hits(v, rule, words)


def _pip_args(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    words = _command_strings(v, node.args[0] if node.args else None)
    return _shell_hits(v, rule, ["pip", *words])


def _s3_service(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = v._literal(v.arg(node, rule))
    if not isinstance(value, str):
        return None
    region = v._literal(v.kw(node, "region_name"))
    endpoint = v._literal(v.kw(node, "endpoint_url"))
    if isinstance(endpoint, str):
        hit = v._url_hit(endpoint, C.S3 if value == "s3" else C.HTTP)
        return [hit] if hit else None
    if value == "s3":
        hosts = v.rules.hosts(C.S3)
        if isinstance(region, str) and region:
            hosts = (*hosts, f"s3.{region}.amazonaws.com", f"*.s3.{region}.amazonaws.com")
        return v.hit(rule, Confidence.LIKELY, 'boto3 "s3"', hosts=hosts)
    if not re.fullmatch(r"[a-z0-9\-]+", value):
        return None
    category, template = v.index["aws"].get(value, (C.HTTP, "{service}.{region}.amazonaws.com"))
    if isinstance(region, str) and region:
        host = template.replace("{service}", value).replace("{region}", region)
        return [_Hit(category, (host,), Confidence.LIKELY, f"calls AWS {value}")]
    return [_Hit(category, (), Confidence.GUESS, f"calls AWS {value}; its regional endpoint host must be supplied")]


def _s3_bucket(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = v._literal(v.arg(node, rule))
    if isinstance(value, str) and value:
        return v.hit(rule, Confidence.CERTAIN, f"bucket {value!r}", hosts=_s3_hosts(value))
    return v.hit(rule, Confidence.LIKELY)


def _protocol(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = v._literal(v.arg(node, rule))
    if not isinstance(value, str):
        return None
    category = v.index["schemes"].get(value)
    if category is None:
        return [_Hit(C.HTTP, (), Confidence.GUESS, f"fsspec {value!r} filesystem")] if value in {"http", "https"} \
            else None
    cat = v.rules.category(category)
    return [_Hit(category, cat.hosts, Confidence.LIKELY, f"fsspec {value!r}: {cat.reason}")]


def _base_url(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    if arg is None:
        return v.hit(rule)
    value = v._literal(arg)
    if isinstance(value, str) and v._is_url(value):
        hit = v._url_hit(value, rule.category)
        return [hit] if hit else None  # a local server needs no EAI
    return v.hit(rule, Confidence.GUESS, f"base URL computed at run time ({v.src.code(arg)})", hosts=())


def _tracking_uri(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | str | None:
    arg = v.arg(node, rule)
    if arg is None:
        return v.dynamic(rule, None, rule.on_missing, "")
    value = v._literal(arg)
    if value is _MISSING:
        return v.hit(rule, Confidence.GUESS, f"tracking URI computed at run time ({v.src.code(arg)})")
    if not isinstance(value, str):
        return None
    if value.startswith("databricks"):
        return v.hit(rule, Confidence.LIKELY, f"{value!r}: the Databricks workspace host must be supplied")
    parsed = _host_of(value) if "://" in value else None
    if parsed is None or not parsed[1] or parsed[0] == "file":
        return _SUPPRESS  # a local file store: no network
    hit = v._url_hit(value.replace(parsed[0] + "://", "https://", 1) if parsed[0] not in {"http", "https"}
                     else value, rule.category)
    if hit is None:
        return _SUPPRESS
    if parsed[0] not in {"http", "https"}:
        hit.hosts = (parsed[1],)  # a database backend: host:port as written
    return [hit]


def _wandb_mode(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | str | None:
    mode = _flag(v, node, ("mode",))
    if isinstance(mode, str) and mode.lower() in {"offline", "disabled", "dryrun"}:
        return _SUPPRESS
    if _flag(v, node, ("offline",)) is True:
        return _SUPPRESS
    return v.hit(rule)


def _azure_conn(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = v._literal(v.arg(node, rule))
    if isinstance(value, str):
        parts = dict(p.split("=", 1) for p in value.split(";") if "=" in p)
        if parts.get("UseDevelopmentStorage", "").lower() == "true":
            return None
        account = parts.get("AccountName")
        if account:
            suffix = parts.get("EndpointSuffix", "core.windows.net")
            return v.hit(rule, Confidence.CERTAIN, f"account {account}", hosts=(f"{account}.blob.{suffix}",))
    return v.hit(rule)


def _azure_account(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    value = v._literal(v.arg(node, rule))
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9]{3,24}", value):
        return v.hit(rule, Confidence.CERTAIN, f"account {value}",
                     hosts=(f"{value}.blob.core.windows.net", f"{value}.dfs.core.windows.net"))
    return v.hit(rule)


def _release_weights(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    arg = v.arg(node, rule)
    if arg is None:
        return None
    value = v._literal(arg)
    if value is _MISSING:
        return v.dynamic(rule, arg, "guess", "weights")
    if not isinstance(value, str) or "/" in value or "\\" in value:
        return None
    if value.lower().endswith((".pt", ".pth")) and value.lower().startswith(("yolo", "rtdetr", "sam", "fastsam",
                                                                              "mobile_sam")):
        return v.hit(rule, Confidence.LIKELY, repr(value))
    return None


def _host_template(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    """Regional API hosts: `{}` in the rule's hosts is the call's region/location (or the rule's default)."""
    value = v._literal(v.kw(node, *rule.kws)) if rule.kws and v.kw(node, *rule.kws) is not None else None
    if value is None or value is _MISSING:
        value = rule.default
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9\-]+", value):
        return v.hit(rule, Confidence.GUESS, "region chosen at run time: its regional host must be supplied", hosts=())
    return v.hit(rule, Confidence.LIKELY, value, hosts=tuple(h.replace("{}", value) for h in rule.hosts or ()))


def _fastai_arch(v: _NetworkVisitor, node: ast.Call, rule: CallRule) -> list[_Hit] | None:
    """fastai learner architectures: pretrained by default; a name string is a timm model on the HF Hub."""
    if _flag(v, node, ("pretrained",)) is False:
        return None
    arg = v.arg(node, rule)
    if arg is None:
        return None
    value = v._literal(arg)
    if isinstance(value, str):
        cat = v.rules.category(C.HUGGINGFACE)
        return [_Hit(C.HUGGINGFACE, cat.hosts, Confidence.LIKELY, f"pretrained timm model {value!r}: {cat.reason}")]
    if isinstance(arg, (ast.Name, ast.Attribute)) and value is _MISSING and not _is_local_name(v, arg):
        return v.hit(rule, Confidence.LIKELY, f"pretrained {v.src.code(arg)}", hosts=("download.pytorch.org",))
    return None


def _is_local_name(v: _NetworkVisitor, node: ast.expr) -> bool:
    """A parameter or a variable of the file (not an imported model function): its value is unknown here."""
    return isinstance(node, ast.Name) and node.id not in v.names.aliases and node.id.islower() and \
        not re.match(r"^(resnet|vgg|densenet|squeezenet|alexnet|mobilenet|efficientnet|convnext|regnet|vit_)",
                     node.id)


_CHECKS: dict[str, Check] = {
    "always": _always, "guess": _guess, "hub_id": _hub_id, "dataset_id": _dataset_id, "kw_true": _kw_true,
    "kw_not_false": _kw_not_false, "kw_set": _kw_set, "tv_weights": _tv_weights, "keras_weights": _keras_weights,
    "url_arg": _url_arg, "handle": _handle, "hub_source": _hub_source, "fetch": _fetch, "shell": _shell,
    "pip_args": _pip_args, "s3_service": _s3_service, "s3_bucket": _s3_bucket, "protocol": _protocol,
    "base_url": _base_url, "tracking_uri": _tracking_uri, "wandb_mode": _wandb_mode, "azure_conn": _azure_conn,
    "azure_account": _azure_account, "release_weights": _release_weights, "host_template": _host_template,
    "fastai_arch": _fastai_arch,
}
assert set(_CHECKS) == CHECKS  # noqa: S101, sanity check: the catalog vocabulary and the code agree


# ----------------------------------------------------------------------------------------------------- entry points



def scan_network(src: SourceFile, rules: NetworkRules) -> tuple[NetworkFinding, ...]:
    """Find every piece of code in one file that reaches out to the network.

    Returns findings sorted by location. Import-only findings (confidence guess) are dropped when the same
    file calls into the category (whether or not that call needs the network: `hub.load("/local/dir")`); every finding of a category is dropped when the file switches it off
    (`wandb.init(mode="offline")`, `WANDB_MODE=disabled`, a local MLflow file store).
    """
    visitor = _NetworkVisitor(src, rules)
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
