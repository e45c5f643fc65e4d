"""libcst codemods: before/after fixtures (like LibCST's assertCodemod), no-op and unsafe cases."""

from __future__ import annotations

import ast
from textwrap import dedent

import pytest

from mljobs.skill.codemods import apply_codemods, capture_return, route_outputs


def fixture(text: str) -> str:
    return dedent(text).lstrip("\n")


def assert_codemod(result, after: str) -> None:
    assert result.skipped is None, result.skipped
    assert result.code == fixture(after), "\n" + result.code
    ast.parse(result.code)
    assert result.diff.startswith("--- a/")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            def main():
                return {"acc": 0.9}  # keep me


            if __name__ == "__main__":
                # run it
                main()
            """,
            """
            def main():
                return {"acc": 0.9}  # keep me


            if __name__ == "__main__":
                # run it
                __return__ = main()
            """,
            id="bare_call__assigned",
        ),
        pytest.param(
            """
            if __name__ == '__main__':
                args = parse()
                result = train(args)
                print(result)
            """,
            """
            if __name__ == '__main__':
                args = parse()
                result = train(args)
                __return__ = result
                print(result)
            """,
            id="assignment__kept_and_captured",
        ),
        pytest.param(
            """
            import asyncio
            async def main():
                return 1
            if "__main__" == __name__:
                asyncio.run(main())
            """,
            """
            import asyncio
            async def main():
                return 1
            if "__main__" == __name__:
                __return__ = asyncio.run(main())
            """,
            id="reversed_guard_and_attribute_call",
        ),
    ],
)
def test_capture_return__rewrites(before: str, after: str) -> None:
    """The entry-point result lands in __return__; comments and layout survive."""
    assert_codemod(capture_return(fixture(before), "train.py", entry="train"), after)


@pytest.mark.parametrize(
    ("before", "reason"),
    [
        pytest.param("x = 1\n__return__ = x\n", "already sets __return__", id="already_set"),
        pytest.param("def main():\n    return 1\nmain()\n", "no `if __name__", id="no_guard"),
        pytest.param("import sys\nif __name__ == '__main__':\n    sys.exit(main())\n", "exit code", id="sys_exit"),
        pytest.param("if __name__ == '__main__':\n    try:\n        main()\n    finally:\n        pass\n",
                     "nested", id="nested_in_try"),
        pytest.param("if __name__ == '__main__':\n    prepare()\n    run()\n", "several calls", id="ambiguous"),
        pytest.param("if __name__ == '__main__': main()\n", "one-line", id="one_line_if"),
        pytest.param("def broken(:\n", "does not parse", id="syntax_error"),
        pytest.param("if __name__ == '__main__':\n    print('hi')\n", "no entry-point call", id="only_print"),
        pytest.param("def main():\n    print('trained')\nif __name__ == '__main__':\n    main()\n",
                     "main() returns nothing", id="main_without_return__issue_10"),
        pytest.param("def main():\n    if x:\n        return\n    return None\nif __name__ == '__main__':\n"
                     "    main()\n", "returns nothing", id="bare_and_none_returns"),
        pytest.param("def main():\n    def inner():\n        return 1\n    inner()\nif __name__ == '__main__':\n"
                     "    main()\n", "returns nothing", id="only_a_nested_function_returns"),
        pytest.param("def main():\n    yield 1\n    return 2\nif __name__ == '__main__':\n    main()\n",
                     "returns nothing", id="generator"),
        pytest.param("from lib import main\nif __name__ == '__main__':\n    main()\n", "not defined in this file",
                     id="imported_entry_bare_call"),
    ],
)
def test_capture_return__unsafe_or_unneeded__skips(before: str, reason: str) -> None:
    """Unsafe or unnecessary rewrites are skipped with a reason and the code is unchanged."""
    result = capture_return(before)
    assert not result.changed and result.code == before and result.diff == ""
    assert result.skipped is not None and reason in result.skipped


@pytest.mark.parametrize(
    ("before", "literals", "after"),
    [
        pytest.param(
            '''
            """Train."""
            from __future__ import annotations
            import joblib

            OUT = "./output"  # where models go
            joblib.dump(model, OUT + "/model.pkl")
            ''',
            ["output"],
            '''
            """Train."""
            from __future__ import annotations
            import joblib
            import os

            OUT = os.environ.get('MLRS_STAGE_RESULT_PATH', './output')  # where models go
            joblib.dump(model, OUT + "/model.pkl")
            ''',
            id="directory__env_with_fallback__import_added",
        ),
        pytest.param(
            """
            import os
            model.save("artifacts/model.pt")
            """,
            ["artifacts/model.pt"],
            """
            import os
            model.save(os.path.join(os.environ.get('MLRS_STAGE_RESULT_PATH', 'artifacts'), 'model.pt'))
            """,
            id="file__joined_under_env__no_duplicate_import",
        ),
        pytest.param(
            """
            import os
            df.to_csv('preds.csv')
            """,
            ["preds.csv"],
            """
            import os
            df.to_csv(os.path.join(os.environ.get('MLRS_STAGE_RESULT_PATH', '.'), 'preds.csv'))
            """,
            id="bare_file_name__dot_fallback",
        ),
    ],
)
def test_route_outputs__rewrites(before: str, literals: list[str], after: str) -> None:
    """Hard-coded outputs go to MLRS_STAGE_RESULT_PATH in a job and stay local otherwise."""
    assert_codemod(route_outputs(fixture(before), literals), after)


def test_route_outputs__docstring_and_concatenation__left_alone() -> None:
    """Occurrences in docstrings or implicit concatenations are not rewritten, and a warning says so."""
    src = fixture('''
        def f():
            """./output"""
            return "./output" "/x"
        ''')
    result = route_outputs(src, ["./output"])
    assert not result.changed and result.skipped and result.warnings


@pytest.mark.parametrize(("src", "literals"), [("x = 'a'\n", ["./nope"]), ("x = 1\n", []), ("def (\n", ["a"])])
def test_route_outputs__nothing_to_do__skips(src: str, literals: list[str]) -> None:
    """No literal, a missing literal or a parse error is a skip, never an exception."""
    result = route_outputs(src, literals)
    assert not result.changed and result.code == src and result.skipped


def test_apply_codemods__both__one_diff() -> None:
    """Both edits compose into one result with one diff."""
    src = fixture("""
        def main():
            open("out/metrics.json", "w").write("{}")
            return 1

        if __name__ == "__main__":
            main()
        """)
    result = apply_codemods(src, output_literals=["out/metrics.json"], path="train.py")
    assert len(result.changes) == 2 and "__return__ = main()" in result.code and "import os" in result.code
    assert result.diff.count("--- a/train.py") == 1
    ast.parse(result.code)


def test_apply_codemods__nothing_applies__skip_reasons_joined() -> None:
    """When every edit skips, the reasons are reported together."""
    result = apply_codemods("print(1)\n", output_literals=["x"])
    assert not result.changed and "no `if __name__" in (result.skipped or "") and "nothing rewritten" in (
        result.skipped or "")


def test_capture_return__several_calls__main_preferred() -> None:
    """With several calls and no named entry, the call to main() is captured."""
    result = capture_return("def main():\n    return 1\nif __name__ == '__main__':\n    setup()\n    main()\n")
    assert result.changed and "__return__ = main()" in result.code and "    setup()\n" in result.code
