"""names.argument, the one call-argument reader, and Names.qualname's two flavours."""

from __future__ import annotations

import ast

import pytest

from mljobs.analyzers.names import Names, argument


def _call(code: str) -> ast.Call:
    node = ast.parse(code).body[0].value  # type: ignore[attr-defined]
    assert isinstance(node, ast.Call)
    return node


@pytest.mark.parametrize(("code", "position", "keywords", "expected"), [
    pytest.param("f('a', 'b')", 1, ("mode",), "'b'", id="position__read"),
    pytest.param("f('a', mode='w')", 1, ("mode",), "'w'", id="keyword__read"),
    pytest.param("f('a', 'b', mode='w')", 1, ("mode",), "'w'", id="keyword_and_position__keyword_wins"),
    pytest.param("f(filename='x', file='y')", 0, ("file", "filename"), "'x'", id="aliases__first_in_the_call"),
    pytest.param("f(*args, name='x')", 0, ("name",), "'x'", id="starred_then_keyword__keyword"),
    pytest.param("f(*args)", 0, ("name",), None, id="starred_at_position__unknown"),
    pytest.param("f(**kw)", 0, (None,), None, id="none_keyword__matches_no_double_star"),
    pytest.param("f('a')", None, ("path",), None, id="keyword_only__position_ignored"),
    pytest.param("f()", 0, (), None, id="absent__none"),
])
def test_argument__call__expression(code: str, position: int | None, keywords: tuple[str | None, ...],
                                    expected: str | None) -> None:
    """The keyword wins, then the position; `*args` and `**kwargs` name nothing."""
    found = argument(_call(code), position, *keywords)
    assert (ast.unparse(found) if found is not None else None) == expected


def test_qualname__builtins_flavour__same_memo() -> None:
    """A bare unimported builtin resolves only when builtins are allowed; chains through aliases either way."""
    tree = ast.parse("import torch as t\nopen('x')\nt.cuda.is_available()\n")
    names = Names(tree)
    opener = tree.body[1].value.func  # type: ignore[attr-defined]
    chain = tree.body[2].value.func  # type: ignore[attr-defined]
    assert names.qualname(opener) == "open" and names.qualname(opener, allow_builtins=False) is None
    assert names.qualname(chain, allow_builtins=False) == "torch.cuda.is_available" == names.qualname(chain)
