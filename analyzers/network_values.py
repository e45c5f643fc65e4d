"""What a network call's arguments hold: names through the shared bindings, literals, and URL text.

The network pass and its argument checks (network_checks.py) ask the same few questions about an
argument: which expressions can it stand for (`values`: a name resolves through the binding in force where
it is read, a list bound to it or iterated by a `for` stands for its items), what literal it is
(`literal`), which URL strings it is built from (`url_strings`: f-strings, `+`, `.format`, `os.path.join`),
and what a URL implies (`url_hit`: its category and hosts). `ValueReader` answers them for one file;
`NetworkVisitor` is one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .bindings import Bindings
from .model import Confidence, NetworkCategory
from .names import literal_str
from .network_checks import MISSING, Hit, host_of, is_url, s3_hosts
from .redact import redact
from .source import SourceFile

if TYPE_CHECKING:
    from .network import NetworkRules

C = NetworkCategory

_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(\S*)$")
#: String-building calls: the URL flows through them into the enclosing call.
PASSTHROUGH = frozenset({"format", "join", "replace", "strip", "rstrip", "lstrip", "urljoin", "str", "Path",
                         "PurePosixPath", "quote", "lower", "removesuffix", "removeprefix"})
_SEQUENCES = (ast.List, ast.Tuple, ast.Set)
#: Argument shapes `url_strings` looks inside; any other (an attribute, a subscript, a comparison...) holds no
#: URL literal of its own, so the generic URL rule skips it without a look.
_URL_SHAPES = frozenset({ast.JoinedStr, ast.BinOp, ast.List, ast.Tuple, ast.Set, ast.Dict})


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def url_literal_possible(text: str) -> bool:
    """Whether the file's text can hold a string literal that is a whole URL (what `url_strings` reads):
    some `scheme://` whose scheme starts the string (after blanks, which `is_url` strips): right after a
    quote, at the start of a line (a triple-quoted string's own line) or after an escape (`"\\nhttps://"`,
    `"\\x68ttps://"`). A URL in a comment (a license header) or inside prose ("see https://...") cannot
    be one, and a file without any such place needs no URL rule at all. Only an implicit concatenation split
    exactly at `://` (`"https:" "//host"`) is not seen."""
    find = text.find
    i = find("://")
    while i != -1:
        j = i
        while j > 0 and text[j - 1] in _SCHEME_CHARS:
            j -= 1
        if j < i and text[j].isalpha():
            k = j - 1
            while k >= 0 and text[k] in " \t":  # a literal's leading blanks are stripped too
                k -= 1
            if k < 0 or text[k] in "'\"\n\r\\":  # a quote, a line start, an escape (`"\\nhttps://"`)
                return True
        i = find("://", i + 3)
    return False


class ValueReader:
    """The values of one file's call arguments, read through its shared bindings (`SourceFile.bindings`)."""

    def __init__(self, src: SourceFile, rules: NetworkRules) -> None:
        self.src = src
        self.rules = rules
        self.names = src.names
        self.index = rules._index
        self._url_names: dict[str, bool] = {}  # name -> whether some value of it may hold a URL
        self.urls_possible = url_literal_possible(src.text)

    @property
    def bindings(self) -> Bindings:
        """The file's bindings, built on the first name read: most library files never ask."""
        return self.src.bindings

    def _bound(self, name: ast.Name, depth: int) -> tuple[ast.expr, ...] | None:
        """What the binding of `name` in force where it is read (`Bindings.current`) holds: the items of a list,
        tuple or set, else the one value; for a `for` variable, what its iterable holds. None when unknown
        here (no binding; a parameter default: the caller may pass anything; an iterable computed at run time)."""
        binding = self.bindings.current(name.id, name)
        if binding is None:
            return None
        value = binding.value
        kind = binding.kind
        if kind == "assign":
            return tuple(value.elts) if isinstance(value, _SEQUENCES) else (value,)
        if kind == "loop" and depth < 3:
            if value.__class__ is ast.Name:
                return self._bound(value, depth + 1)
            if isinstance(value, _SEQUENCES):
                return tuple(value.elts)
        return None

    def values(self, node: ast.expr, depth: int = 0) -> tuple[ast.expr, ...]:
        """What an argument expression stands for: a name resolves through its binding (`_bound`), each of
        several items in turn (a few levels deep); anything else, or a name with no known value, itself."""
        if node.__class__ is ast.Name and depth < 3:
            bound = self._bound(node, 0)
            if bound:
                out: list[ast.expr] = []
                for b in bound:
                    out.extend(self.values(b, depth + 1))
                return tuple(out)
        return (node,)

    def literal(self, node: ast.expr | None) -> Any:
        """The literal value of an argument (str, bool, None, number) after name resolution, else MISSING."""
        if node is None:
            return MISSING
        values = self.values(node)
        if len(values) != 1:
            return MISSING
        value = values[0]
        if isinstance(value, ast.Constant):
            return value.value
        text = literal_str(value)
        return text if text is not None else MISSING

    def url_strings(self, node: ast.expr, depth: int = 0) -> Iterator[str]:
        """Leading literal text of every URL-shaped string an argument expression is built from."""
        if depth > 6:
            return
        if isinstance(node, ast.Name):
            for value in self.values(node):
                if value is not node:
                    yield from self.url_strings(value, depth + 1)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str) and is_url(node.value):
                yield node.value.strip()
        elif isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and _URL_RE.match(head.value):
                if len(node.values) == 1 or re.match(r"^[^:]+://[A-Za-z0-9.\-:@]*[A-Za-z0-9][/?#:]", head.value):
                    yield head.value
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    yield from self.url_strings(value.value, depth + 1)
        elif isinstance(node, ast.BinOp):
            yield from self.url_strings(node.left, depth + 1)
            if not isinstance(node.op, ast.Mod):
                yield from self.url_strings(node.right, depth + 1)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for elt in node.elts:
                yield from self.url_strings(elt, depth + 1)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                yield from self.url_strings(value, depth + 1)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in PASSTHROUGH:
                if isinstance(func, ast.Attribute):
                    yield from self.url_strings(func.value, depth + 1)
                for arg in node.args:
                    yield from self.url_strings(arg, depth + 1)

    def may_hold_url(self, node: ast.expr, depth: int = 0) -> bool:
        """False when `url_strings(node)` certainly finds nothing (most arguments): the same walk over the
        expression's shape, without building strings, and for a name a per-file answer (`_name_may_hold_url`)."""
        cls = node.__class__
        if cls is ast.Attribute:  # the commonest argument, and it holds no literal
            return False
        if cls is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            return value.__class__ is str and "://" in value
        if cls is ast.Name:
            known = self._url_names.get(node.id)  # type: ignore[attr-defined]
            return known if known is not None else self._name_may_hold_url(node.id)  # type: ignore[attr-defined]
        if depth > 6:
            return cls in _URL_SHAPES or cls is ast.Call  # deeper than url_strings looks: say "may"
        may = self.may_hold_url
        if cls is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            fcls = func.__class__
            name = func.attr if fcls is ast.Attribute else func.id if fcls is ast.Name else ""
            if name not in PASSTHROUGH:
                return False
            return (fcls is ast.Attribute and may(func.value, depth + 1)) or \
                any(may(arg, depth + 1) for arg in node.args)  # type: ignore[attr-defined]
        if cls is ast.JoinedStr:
            parts = node.values  # type: ignore[attr-defined]
            head = parts[0] if parts else None
            if head is not None and head.__class__ is ast.Constant and "://" in str(head.value):
                return True
            return any(p.__class__ is ast.FormattedValue and may(p.value, depth + 1) for p in parts)
        if cls is ast.BinOp:
            return may(node.left, depth + 1) or (  # type: ignore[attr-defined]
                node.op.__class__ is not ast.Mod and may(node.right, depth + 1))  # type: ignore[attr-defined]
        if cls is ast.List or cls is ast.Tuple or cls is ast.Set:
            return any(may(elt, depth + 1) for elt in node.elts)  # type: ignore[attr-defined]
        if cls is ast.Dict:
            return any(may(value, depth + 1) for value in node.values)  # type: ignore[attr-defined]
        return False

    def _name_may_hold_url(self, name: str) -> bool:
        """Whether any value the file ever gives `name` (through other names too) may hold a URL: an upper
        bound on what it holds at any one place, computed once per name."""
        # While this name is being decided, a cycle back to it (`x = y` ... `y = x`) answers "may": an upper
        # bound stays an upper bound, and a name decided inside the cycle is never wrongly ruled out.
        self._url_names[name] = True
        found = False
        for binding in self.bindings.of(name):
            if binding.kind == "assign" or binding.kind == "loop":
                value = binding.value
                items = value.elts if binding.kind == "loop" and isinstance(value, _SEQUENCES) else (value,)
                if any(self.may_hold_url(item) for item in items):
                    found = True
                    break
        self._url_names[name] = found
        return found

    def url_hit(self, url: str, category: NetworkCategory | None) -> Hit | None:
        """The finding a literal URL implies: its own category (scheme / host) unless `category` is forced."""
        parsed = host_of(url)
        if parsed is None:
            return None
        scheme, host = parsed
        safe = redact(url)
        scheme_cat = self.index["schemes"].get(scheme)
        if scheme_cat is not None:
            cat = category or scheme_cat
            if scheme_cat is C.S3:
                bucket = url.split("://", 1)[1].split("/", 1)[0]
                return Hit(cat, s3_hosts(bucket) if bucket else self.rules.hosts(C.S3),
                           Confidence.CERTAIN if bucket else Confidence.LIKELY, f"uses {safe}")
            if scheme_cat is C.AZURE and host.endswith((".core.windows.net", ".core.chinacloudapi.cn")):
                return Hit(cat, (host,), Confidence.CERTAIN, f"uses {safe}")
            return Hit(cat, self.rules.hosts(scheme_cat), Confidence.LIKELY if scheme_cat is C.AZURE
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
        return Hit(category or mapped, (host, *also), Confidence.CERTAIN, f"fetches {safe}")
