"""CLI declarations: what argparse, click and typer parsers declare, read from literals only (issue 10 item 1)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.io import scan_io, summarize_io
from mljobs.analyzers.source import SourceFile


def declarations(text: str) -> list[tuple[object, ...]]:
    text = textwrap.dedent(text).lstrip("\n")
    scan = scan_io(SourceFile("train.py", text, ast.parse(text)), frozenset({"train.py"}))
    return [(o.framework, o.flags, o.dest, o.type, o.choices, o.nargs, o.default, o.action, o.required, o.known)
            for o in scan.cli_options]


def closed(text: str) -> bool:
    text = textwrap.dedent(text).lstrip("\n")
    scan = scan_io(SourceFile("train.py", text, ast.parse(text)), frozenset({"train.py"}))
    return summarize_io([scan], "train.py").cli_closed


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        pytest.param(
            """
            import argparse
            p = argparse.ArgumentParser()
            p.add_argument("-m", "--save-mode", choices=("local", "registry"), default="local")
            p.add_argument("epochs", type=int, nargs="?", default=3)
            p.add_argument("--seeds", type=int, nargs="+", required=True)
            p.add_argument("--fp16", action=argparse.BooleanOptionalAction)
            p.add_argument("--k", choices=range(1, 4))
            """,
            [("argparse", ("-m", "--save-mode"), "save_mode", None, ("local", "registry"), None, "local", None, False,
              True),
             ("argparse", (), "epochs", "int", None, "?", "3", None, False, True),
             ("argparse", ("--seeds",), "seeds", "int", None, "+", None, None, True, True),
             ("argparse", ("--fp16",), "fp16", None, None, None, None, "boolean_optional", False, True),
             ("argparse", ("--k",), "k", None, ("1", "2", "3"), None, None, None, False, True)],
            id="argparse_literals",
        ),
        pytest.param(
            """
            import argparse
            MODES = ["a", "b"]
            p = argparse.ArgumentParser()
            p.add_argument("--mode", choices=MODES)
            p.add_argument("--flag", type=str2bool)
            """,
            [("argparse", ("--mode",), "mode", None, None, None, None, None, False, False),
             ("argparse", ("--flag",), "flag", "str2bool", None, None, None, None, False, False)],
            id="argparse_computed_parts__not_known",
        ),
        pytest.param(
            """
            import click
            @click.command()
            @click.option("--mode", type=click.Choice(["fast", "slow"]), default="fast")
            @click.option("--shout/--no-shout", default=False)
            @click.option("--out", type=click.Path(), required=True)
            @click.argument("data")
            def main(mode, shout, out, data):
                pass
            """,
            [("click", ("--mode",), "mode", "choice", ("fast", "slow"), None, "fast", None, False, True),
             ("click", ("--shout", "--no-shout"), "shout", None, None, None, "False", "flag", False, True),
             ("click", ("--out",), "out", "path", None, None, None, None, True, True),
             ("click", (), "data", None, None, None, None, None, True, True)],
            id="click_decorators",
        ),
        pytest.param(
            """
            import typer
            from pathlib import Path
            def main(data: Path, epochs: int = 3, verbose: bool = False,
                     out: str = typer.Option("runs", "--out-dir")):
                pass
            typer.run(main)
            """,
            [("typer", (), "data", "path", None, None, None, None, True, True),
             ("typer", ("--epochs",), "epochs", "int", None, None, "3", None, False, True),
             ("typer", ("--verbose", "--no-verbose"), "verbose", "bool", None, None, "False", "flag", False, True),
             ("typer", ("--out-dir",), "out", "str", None, None, "runs", None, False, True)],
            id="typer_parameters",
        ),
    ],
)
def test_cli_options__declarations_read(src: str, expected: list[tuple[object, ...]]) -> None:
    actual = declarations(src)
    assert actual == expected, f"\nsource:\n{textwrap.dedent(src)}\nexpected: {expected!r}\nactual:   {actual!r}"


@pytest.mark.parametrize(
    ("src", "is_closed"),
    [
        pytest.param("import argparse\np = argparse.ArgumentParser()\np.add_argument('--a')\np.parse_args()\n",
                     True, id="one_parser__closed"),
        pytest.param("import argparse\np = argparse.ArgumentParser()\np.add_argument('--a')\np.parse_known_args()\n",
                     False, id="parse_known_args__open"),
        pytest.param("import argparse\np = argparse.ArgumentParser()\ns = p.add_subparsers()\np.add_argument('--a')\n",
                     False, id="subparsers__open"),
        pytest.param("import argparse\np = argparse.ArgumentParser()\nfor n in NAMES:\n    p.add_argument(n)\n",
                     False, id="computed_flag__open"),
        pytest.param("import argparse\na = argparse.ArgumentParser()\nb = argparse.ArgumentParser()\n"
                     "a.add_argument('--a')\nb.add_argument('--b')\n", False, id="two_parsers__open"),
    ],
)
def test_cli_closed__only_when_the_declarations_are_the_whole_story(src: str, is_closed: bool) -> None:
    assert closed(src) is is_closed
