"""The statement context (`flow.Flow`) and the bindings layer (`bindings.Bindings`) every pass reads.

Each case is a small program and what the layer must say about one place or one name in it.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.project import parse_python
from mljobs.analyzers.source import SourceFile


def _src(code: str) -> SourceFile:
    src, problems = parse_python(textwrap.dedent(code), "t.py")
    assert src is not None, problems
    return src


def _find(src: SourceFile, text: str) -> ast.AST:
    """The first node (pre-order) whose source is exactly `text`."""
    for node in ast.walk(src.tree):
        if hasattr(node, "lineno") and ast.get_source_segment(src.text, node) == text:
            return node
    raise AssertionError(f"no node {text!r}")


def _unparse(nodes: tuple[ast.expr, ...]) -> list[str]:
    return [ast.unparse(n) for n in nodes]


# ------------------------------------------------------------------------------------------------ flow

CONTEXT_CASES = [
    # (program, node text, branches, optional, nested, function)
    ("import torch\nif torch.cuda.is_available():\n    x = f(1)\n", "f(1)",
     ["torch.cuda.is_available()"], False, False, None),
    ("if a:\n    pass\nelse:\n    y = g(2)\n", "g(2)", ["a"], False, False, None),
    ("if a:\n    if b:\n        z = h(3)\n", "h(3)", ["a", "b"], False, False, None),
    # the test itself runs in the enclosing block
    ("if a:\n    if check(4):\n        pass\n", "check(4)", ["a"], False, False, None),
    ("try:\n    import wandb\nexcept ImportError:\n    wandb = None\n", "import wandb", [], True, False, None),
    # the handler runs when the import failed: not optional
    ("try:\n    import wandb\nexcept ImportError:\n    fallback(5)\n", "fallback(5)", [], False, False, None),
    # `else` runs only when the guarded import worked
    ("try:\n    import a\nexcept ModuleNotFoundError:\n    pass\nelse:\n    use(6)\n", "use(6)", [], True, False, None),
    ("try:\n    run(7)\nexcept ValueError:\n    pass\n", "run(7)", [], False, False, None),
    ("try:\n    import a\nexcept:\n    pass\n", "import a", [], True, False, None),
    ("import contextlib\nwith contextlib.suppress(ImportError):\n    import b\n", "import b", [], True, False, None),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import c\n", "import c", ["TYPE_CHECKING"], True, False,
     None),
    ("def train(dev='cuda'):\n    return step(8)\n", "step(8)", [], False, True, "train"),
    # a default value is evaluated where the function is defined
    ("def train(dev=pick(9)):\n    pass\n", "pick(9)", [], False, False, None),
    # decorators run in the enclosing block
    ("def outer():\n    @wrap(10)\n    def inner():\n        pass\n", "wrap(10)", [], False, True, "outer"),
    ("class M:\n    def fit(self):\n        go(11)\n", "go(11)", [], False, True, "fit"),
    ("class M:\n    size = calc(12)\n", "calc(12)", [], False, True, None),
    ("match cmd:\n    case 'a':\n        act(13)\n", "act(13)", [], False, False, None),
    ("x = 1; y = two(14)\n", "two(14)", [], False, False, None),
]


@pytest.mark.parametrize(("code", "text", "branches", "optional", "nested", "function"), CONTEXT_CASES)
def test_context_of_a_node(code: str, text: str, branches: list[str], optional: bool, nested: bool,
                           function: str | None) -> None:
    src = _src(code)
    ctx = src.flow.context(_find(src, text))
    got = (_unparse(ctx.branches), ctx.optional, ctx.nested, ctx.function)
    assert got == (branches, optional, nested, function), f"\n{code}\n{text}: {got}"


@pytest.mark.parametrize(("code", "text", "expected"), [
    ("if check(1):\n    pass\n", "check(1)", True),
    ("while more(2):\n    pass\n", "more(2)", True),
    ("assert ok(3), msg\n", "ok(3)", True),
    ("if a:\n    body(4)\n", "body(4)", False),
    ("for x in items(5):\n    pass\n", "items(5)", False),
])
def test_in_test(code: str, text: str, expected: bool) -> None:
    src = _src(code)
    assert src.flow.in_test(_find(src, text)) is expected


def test_statements_in_source_order_at_any_depth() -> None:
    depth = 90  # near CPython's limit of 100 indentation levels
    code = "".join("    " * i + f"if c{i}:\n" for i in range(depth)) + "    " * depth + "leaf()\n"
    src = _src(code)
    lines = [s.lineno for s in src.flow.statements]
    assert lines == sorted(lines) and len(lines) == depth + 1
    leaf = src.flow.contexts[-1]
    assert len(leaf.branches) == depth


# ------------------------------------------------------------------------------------------------ bindings

PROGRAM = """\
import torch
URL = "https://a.example/x"
def fetch(dev="cuda", *, retries=3):
    if torch.cuda.is_available():
        device = "cuda"
    else:
        device = "cpu"
    return device
def late():
    return URL
for name in ["a", "b"]:
    print(name)
parser.add_argument("--use-gpu", action="store_true")
parser.add_argument("--model-name", dest="model", default="bert-base-uncased")
parser.set_defaults(lr=0.1)
a, (b, c) = 1, (2, 3)
self.device = "cuda:0"
URL = "https://b.example"
value = URL
"""


def _values(src: SourceFile, key: str) -> list[tuple[str, str]]:
    return [(b.kind, ast.unparse(b.value)) for b in src.bindings.of(key)]


@pytest.mark.parametrize(("key", "expected"), [
    ("URL", [("assign", "'https://a.example/x'"), ("assign", "'https://b.example'")]),
    ("dev", [("default", "'cuda'")]),
    ("retries", [("default", "3")]),
    ("device", [("assign", "'cuda'"), ("assign", "'cpu'")]),
    ("call:fetch", [("return", "device")]),
    ("name", [("loop", "['a', 'b']")]),
    ("argparse:use_gpu", [("option", "False")]),
    ("argparse:model", [("option", "'bert-base-uncased'")]),
    ("argparse:lr", [("option", "0.1")]),
    ("a", [("assign", "1")]),
    ("self.device", [("assign", "'cuda:0'")]),
    ("b", [("assign", "2")]),  # nested tuples unpack pairwise
    ("argparse:model_name", []),  # dest= wins over the flag
    ("nothing", []),
])
def test_every_binding_of_a_key(key: str, expected: list[tuple[str, str]]) -> None:
    assert _values(_src(PROGRAM), key) == expected


def test_bindings_carry_their_branches() -> None:
    src = _src(PROGRAM)
    first, second = src.bindings.of("device")
    assert _unparse(first.context.branches) == ["torch.cuda.is_available()"]
    assert _unparse(second.context.branches) == ["torch.cuda.is_available()"]
    assert first.context.function == "fetch" and not first.module_level


def test_current_binding_follows_source_order() -> None:
    src = _src(PROGRAM)
    # `value = URL` at the end reads the second URL
    use = src.tree.body[-1].value
    current = src.bindings.current("URL", use)
    assert current is not None and ast.unparse(current.value) == "'https://b.example'"
    # inside `late`, defined between the two, the first one is in force
    ret = _find(src, "return URL")
    assert isinstance(ret, ast.Return) and ret.value is not None
    current = src.bindings.current("URL", ret.value)
    assert current is not None and ast.unparse(current.value) == "'https://a.example/x'"


def test_a_function_above_a_module_constant_reads_the_constant() -> None:
    src = _src("def get():\n    return requests.get(BASE)\nBASE = 'https://api.example.com'\n")
    use = _find(src, "BASE")
    current = src.bindings.current("BASE", use)
    assert current is not None and current.module_level and ast.unparse(current.value) == "'https://api.example.com'"


def test_a_local_binding_above_does_not_count_as_module_level() -> None:
    src = _src("def get():\n    return use(PATH)\ndef other():\n    PATH = 'x'\n")
    # no binding before the use, and the only binding is inside a function: nothing in force
    assert src.bindings.current("PATH", _find(src, "use(PATH)")) is None


@pytest.mark.parametrize(("code", "read", "expected"), [
    ("url = 'https://a'\nurl = url + '/x'\nget(url)\n", "url + '/x'", "'https://a'"),
    ("x = [1]\nfor x in f(x):\n    pass\n", "f(x)", "[1]"),
    ("url = 'https://a'\nurl = url + '/x'\nget(url)\n", "get(url)", "url + '/x'"),
])
def test_read_inside_its_own_value_sees_the_binding_before(code: str, read: str, expected: str) -> None:
    """Inside a binding's own value, which Python evaluates before binding, the earlier binding is in force."""
    src = _src(code)
    holder = _find(src, read)
    use = next(n for n in ast.walk(holder) if isinstance(n, ast.Name) and n.id in ("url", "x"))
    binding = src.bindings.current(use.id, use)
    assert binding is not None and ast.unparse(binding.value) == ast.unparse(ast.parse(expected).body[0].value)


def test_read_inside_its_own_value_ignores_other_functions() -> None:
    """`path = expand(path)` in a function reads its parameter: a `path` bound in another function is not it."""
    src = _src("def a():\n    path = 'x'\ndef b(path):\n    path = expand(path)\n")
    use = _find(src, "expand(path)")
    name = next(n for n in ast.walk(use) if isinstance(n, ast.Name) and n.id == "path")
    assert src.bindings.current("path", name) is None


@pytest.mark.parametrize("section", ["\f", "# a\vb", "# a\x1cb", "# a\x85b", "s = 'a\u2028b'"])
def test_excerpts_count_lines_as_the_parser_does(section: str) -> None:
    """A form feed between sections, or another separator str.splitlines knows inside a comment or a string,
    is no line end for Python."""
    src = _src(f"import os\n{section}\ndef f():\n    return 1\nx = os.getcwd()\n")
    call = _find(src, "os.getcwd()")
    assert src.code(call) == "os.getcwd()" and src.line_text(call.lineno) == "x = os.getcwd()"


def test_excerpts_with_windows_line_ends() -> None:
    src = _src("import os\r\n\x0c\r\nx = os.getcwd()\r\n")
    call = _find(src, "os.getcwd()")
    assert src.line_text(call.lineno) == "x = os.getcwd()"
