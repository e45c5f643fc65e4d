"""scan_imports: every import form, with its nesting / optional context, as (kind, module, line, flags)."""

from __future__ import annotations

from textwrap import dedent

import pytest

from mljobs.analyzers.imports import scan_imports
from mljobs.analyzers.model import Confidence, ImportKind
from mljobs.analyzers.project import parse_python


def findings_of(code: str) -> list[tuple]:
    """(kind, module, names, level, line, optional, nested) per finding of a dedented snippet."""
    src, problems = parse_python(dedent(code).lstrip("\n"), "snippet.py")
    assert src is not None, problems
    return [(f.kind.value, f.module, f.names, f.level, f.location.line, f.optional, f.nested) for f in scan_imports(src)]


def check(code: str, expected: list[tuple]) -> None:
    actual = findings_of(code)
    assert actual == expected, f"\nsource:\n{dedent(code)}\nexpected: {expected}\nactual:   {actual}"


CASES = [
    pytest.param("import numpy\n", [("import", "numpy", (), 0, 1, False, False)], id="plain_import__certain"),
    pytest.param("import a.b as c, d\n",
                 [("import", "a.b", (), 0, 1, False, False), ("import", "d", (), 0, 1, False, False)],
                 id="dotted_alias_and_second_name__two_findings"),
    pytest.param("from google.cloud import storage, bigquery\n",
                 [("from", "google.cloud", ("storage", "bigquery"), 0, 1, False, False)],
                 id="from_import__module_and_names"),
    pytest.param("from . import util\nfrom ..pkg.mod import f\n",
                 [("from", "", ("util",), 1, 1, False, False), ("from", "pkg.mod", ("f",), 2, 2, False, False)],
                 id="relative_imports__level_kept"),
    pytest.param("""
        def f():
            import torch
        class C:
            from sklearn import svm
        """,
                 [("import", "torch", (), 0, 2, False, True), ("from", "sklearn", ("svm",), 0, 4, False, True)],
                 id="function_and_class_bodies__nested"),
    pytest.param("""
        try:
            import ujson as json
        except ImportError:
            import json
        """,
                 [("import", "ujson", (), 0, 2, True, False), ("import", "json", (), 0, 4, False, False)],
                 id="try_except_importerror__body_optional_fallback_required"),
    pytest.param("""
        try:
            import xgboost
        except (ModuleNotFoundError, OSError):
            xgboost = None
        else:
            import xgboost.dask
        """,
                 [("import", "xgboost", (), 0, 2, True, False), ("import", "xgboost.dask", (), 0, 6, True, False)],
                 id="try_modulenotfound_tuple_and_else__optional"),
    pytest.param("""
        try:
            import wandb
        except Exception:
            pass
        """, [("import", "wandb", (), 0, 2, True, False)], id="except_exception__optional"),
    pytest.param("""
        try:
            import wandb
        except KeyError:
            pass
        """, [("import", "wandb", (), 0, 2, False, False)], id="unrelated_except__not_optional"),
    pytest.param("""
        import contextlib
        with contextlib.suppress(ImportError):
            import lightgbm
        """,
                 [("import", "contextlib", (), 0, 1, False, False), ("import", "lightgbm", (), 0, 3, True, False)],
                 id="contextlib_suppress_importerror__optional"),
    pytest.param("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import pandas
        else:
            import csv
        """,
                 [("from", "typing", ("TYPE_CHECKING",), 0, 1, False, False),
                  ("import", "pandas", (), 0, 3, True, False), ("import", "csv", (), 0, 5, False, False)],
                 id="type_checking_block__optional_else_not"),
    pytest.param("""
        import importlib
        mod = importlib.import_module("xgboost.sklearn")
        yaml = __import__("yaml")
        name = "x"
        other = importlib.import_module(name)
        """,
                 [("import", "importlib", (), 0, 1, False, False), ("dynamic", "xgboost.sklearn", (), 0, 2, False, False),
                  ("dynamic", "yaml", (), 0, 3, False, False)],
                 id="dynamic_literal__reported_nonliteral_skipped"),
    pytest.param("""
        from importlib import import_module as im
        def load():
            return im(".plugins", package="app")
        """,
                 [("from", "importlib", ("import_module",), 0, 1, False, False),
                  ("dynamic", "plugins", (), 1, 3, False, True)],
                 id="aliased_import_module_relative__level_and_nested"),
    pytest.param("x = 'import os'  # import sys\n", [], id="import_in_string_or_comment__ignored"),
    pytest.param("""
        match cmd:
            case "train":
                import torch
            case _:
                for x in y:
                    while x:
                        import sklearn
        """,
                 [("import", "torch", (), 0, 3, False, False), ("import", "sklearn", (), 0, 7, False, False)],
                 id="match_loops__statement_bodies_walked"),
    pytest.param("""
        try:
            import ujson
        except ImportError:
            ujson = None
        else:
            import ujson.extras
        """,
                 [("import", "ujson", (), 0, 2, True, False), ("import", "ujson.extras", (), 0, 6, True, False)],
                 id="import_in_else_of_importerror_guard__optional"),
    pytest.param("""
        import importlib
        def load(name):
            try:
                return importlib.import_module("plugins.fast")
            except ImportError:
                return importlib.import_module("plugins.slow")
        """,
                 [("import", "importlib", (), 0, 1, False, False), ("dynamic", "plugins.fast", (), 0, 4, True, True),
                  ("dynamic", "plugins.slow", (), 0, 6, False, True)],
                 id="dynamic_in_function_guard__nested_optional_fallback_not"),
    pytest.param("""
        import importlib
        def load(backend=importlib.import_module("backends.default")):
            import backends.extra
        """,
                 [("import", "importlib", (), 0, 1, False, False),
                  ("dynamic", "backends.default", (), 0, 2, False, False),
                  ("import", "backends.extra", (), 0, 3, False, True)],
                 id="dynamic_in_default_value__runs_where_the_def_is"),
    pytest.param("""
        import importlib
        @register(importlib.import_module("plugins.a"))
        def f():
            import plugins.b
        """,
                 [("import", "importlib", (), 0, 1, False, False), ("dynamic", "plugins.a", (), 0, 2, False, False),
                  ("import", "plugins.b", (), 0, 4, False, True)],
                 id="dynamic_in_decorator__source_order_not_nested"),
    pytest.param("""
        @decorate(lambda: __import__("plugins.x"))
        def f():
            pass
        """, [("dynamic", "plugins.x", (), 0, 1, False, True)], id="dynamic_in_decorator_lambda__found_nested"),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_scan_imports__table(code: str, expected: list[tuple]) -> None:
    """Each snippet gives exactly the expected import findings."""
    check(code, expected)


@pytest.mark.parametrize(
    ("code", "confidence"),
    [
        pytest.param("import torch\n", Confidence.CERTAIN, id="top_level__certain"),
        pytest.param("def f():\n    import torch\n", Confidence.LIKELY, id="nested__likely"),
        pytest.param("try:\n    import torch\nexcept ImportError:\n    pass\n", Confidence.LIKELY, id="optional__likely"),
    ],
)
def test_scan_imports__context__confidence(code: str, confidence: Confidence) -> None:
    """Unconditional imports are certain; nested or guarded ones likely."""
    src, _ = parse_python(code, "s.py")
    assert src is not None
    (finding,) = scan_imports(src)
    assert finding.confidence is confidence


def test_scan_imports__multiline_from__evidence_and_location() -> None:
    """Evidence is the statement's code on one line; the location is its first line and column."""
    src, _ = parse_python("x = 1\nif x:\n    from a import (\n        b,\n        c,\n    )\n", "s.py")
    assert src is not None
    (finding,) = scan_imports(src)
    assert finding.kind is ImportKind.FROM
    assert (finding.location.path, finding.location.line, finding.location.col) == ("s.py", 3, 4)
    assert finding.evidence == "from a import ( b, c, )"
