"""Args that fit the script (issue 10 item 1) and edits that do something (item 2), from real source to plan.

Each case writes a script, runs the real analyzer and planner, and checks the planned args against the
script's own argparse: the test parses them with the parser the script builds, so "accepted" is argparse's
verdict, not ours.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from mljobs.analyzers import analyze
from mljobs.skill.argcheck import check_args
from mljobs.skill.plan import PlanChoices, plan_job
from mljobs.skill.preflight import Severity

from _skill_builders import facts

SAVE_MODE_SCRIPT = '''
import argparse
import os

def main(args):
    os.makedirs(args.output_dir, exist_ok=True)
    print(args.save_mode, args.epochs)

def build_parser():
    p = argparse.ArgumentParser()
    p.add_argument("--save_mode", choices=["local", "registry"], default="local")
    p.add_argument("--output_dir", default="./outputs")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--dry-run", action="store_true")
    return p

if __name__ == "__main__":
    main(build_parser().parse_args())
'''


def _write(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def _script_parser(path: Path) -> argparse.ArgumentParser:
    """The parser the script itself builds (its build_parser function), executed for real."""
    namespace: dict[str, object] = {"__name__": "not_main"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - our own test script
    parser = namespace["build_parser"]()  # type: ignore[operator]
    assert isinstance(parser, argparse.ArgumentParser)
    parser.exit_on_error = False
    return parser


def test_plan__choices_option_and_output_dir__result_path_on_output_dir(tmp_path: Path, rules) -> None:
    """Issue 10 done-when: `--save_mode` (choices) is left alone, the result path goes to `--output_dir`."""
    path = _write(tmp_path, SAVE_MODE_SCRIPT)
    analysis = analyze(path, rules=rules)
    assert [f.detail for f in analysis.io.output_args] == ["--output_dir"]
    result = plan_job(analysis, facts())
    assert result.plan is not None
    assert result.plan.args == ("--output_dir", "$MLRS_STAGE_RESULT_PATH")
    parsed = _script_parser(path).parse_args([a.replace("$MLRS_STAGE_RESULT_PATH", "/r") for a in result.plan.args])
    assert parsed.output_dir == "/r" and parsed.save_mode == "local"
    assert not [i for i in result.preflight if i.code.startswith("args.")]


def test_plan__main_returning_nothing__no_return_edit(tmp_path: Path, rules) -> None:
    """Issue 10 done-when: a main() returning nothing gets no `__return__ = main()` edit, and the plan says why."""
    path = _write(tmp_path, SAVE_MODE_SCRIPT)
    result = plan_job(analyze(path, rules=rules), facts())
    assert result.script_edit is None or "__return__" not in result.script_edit.code
    assert any("returns nothing" in e for e in result.explanations)


def test_plan__main_returning_value__return_captured(tmp_path: Path, rules) -> None:
    path = _write(tmp_path, """
        def main():
            return {"rmse": 1.5}

        if __name__ == "__main__":
            main()
        """)
    result = plan_job(analyze(path, rules=rules), facts())
    assert result.script_edit is not None and "__return__ = main()" in result.script_edit.code


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["--save_mode", "$MLRS_STAGE_RESULT_PATH"], "args.choice", id="result_path_on_choices"),
        pytest.param(["--save_mode", "cloud"], "args.choice", id="value_outside_choices"),
        pytest.param(["--epochs", "many"], "args.type", id="text_for_int"),
        pytest.param(["--dry-run", "yes"], "args.unrecognized", id="value_after_store_true"),
        pytest.param(["--dry-run=yes"], "args.flag_value", id="inline_value_on_flag"),
        pytest.param(["--learning-rate", "3"], "args.unknown", id="undeclared_option"),
        pytest.param(["--epochs"], "args.missing_value", id="option_without_value"),
    ],
)
def test_preflight__args_the_parser_rejects__error(tmp_path: Path, rules, args: list[str], code: str) -> None:
    """Each arg the script's own argparse rejects is a preflight error, so the plan is not ready."""
    path = _write(tmp_path, SAVE_MODE_SCRIPT)
    parser = _script_parser(path)
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        parser.parse_args(args)  # the real parser agrees that these fail
    result = plan_job(analyze(path, rules=rules), facts(), PlanChoices(args=tuple(args)))
    errors = [i for i in result.preflight if i.severity is Severity.ERROR]
    assert code in [i.code for i in errors], [(i.code, i.message) for i in result.preflight]
    assert not result.ready


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--save_mode", "registry", "--epochs", "5"], id="valid_choice_and_int"),
        pytest.param(["--output", "/tmp/x"], id="unique_prefix_abbreviation"),
        pytest.param(["--epochs=7", "--dry-run"], id="inline_value_and_flag"),
        pytest.param(["--epochs", "-3"], id="negative_number"),
    ],
)
def test_check_args__args_the_parser_accepts__no_issue(tmp_path: Path, rules, args: list[str]) -> None:
    path = _write(tmp_path, SAVE_MODE_SCRIPT)
    _script_parser(path).parse_args(args)  # argparse accepts them
    assert check_args(args, analyze(path, rules=rules).io) == []


def test_check_args__parse_known_args__undeclared_is_only_a_warning(tmp_path: Path, rules) -> None:
    path = _write(tmp_path, """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--lr", type=float, default=0.1)
        args, rest = p.parse_known_args()
        """)
    io = analyze(path, rules=rules).io
    assert not io.cli_closed
    issues = check_args(["--extra", "1", "--lr", "x"], io)
    assert [(i.code, i.certain) for i in issues] == [("args.unverified", False), ("args.type", True)]


def test_check_args__required_option_missing__error(tmp_path: Path, rules) -> None:
    path = _write(tmp_path, """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--data", required=True)
        p.add_argument("--out-dir", default="out/")
        p.parse_args()
        """)
    analysis = analyze(path, rules=rules)
    result = plan_job(analysis, facts())
    assert result.plan is not None and result.plan.args == ("--out-dir", "$MLRS_STAGE_RESULT_PATH")
    assert "args.required" in [i.code for i in result.preflight if i.severity is Severity.ERROR]


@pytest.mark.parametrize(
    ("declaration", "routed"),
    [
        pytest.param('p.add_argument("--save_mode", choices=["local", "registry"])', None, id="choices"),
        pytest.param('p.add_argument("--save_model", action="store_true")', None, id="store_true"),
        pytest.param('p.add_argument("--output_steps", type=int, default=100)', None, id="int_type"),
        pytest.param('p.add_argument("--output_format", default="csv")', None, id="not_a_path_default"),
        pytest.param('p.add_argument("--output-dir", default="runs/exp")', "--output-dir", id="dir_word"),
        pytest.param('p.add_argument("--out", default="./results")', "--out", id="path_default"),
        pytest.param('p.add_argument("--model_file", default="out/model.pkl")', "--model_file", id="file_option"),
        pytest.param('p.add_argument("--save_to", type=Path)', "--save_to", id="path_type"),
    ],
)
def test_analyze__output_option_takes_a_path__only_then_routed(tmp_path: Path, rules, declaration: str,
                                                                routed: str | None) -> None:
    path = _write(tmp_path, f"""
        import argparse
        from pathlib import Path
        p = argparse.ArgumentParser()
        {declaration}
        p.parse_args()
        """)
    analysis = analyze(path, rules=rules)
    assert [f.detail for f in analysis.io.output_args] == ([routed] if routed else [])
    plan = plan_job(analysis, facts()).plan
    assert plan is not None
    if routed == "--model_file":
        assert plan.args == ("--model_file", "$MLRS_STAGE_RESULT_PATH/model.pkl")
    elif routed:
        assert plan.args == (routed, "$MLRS_STAGE_RESULT_PATH")
    else:
        assert plan.args == ()


def test_plan__missing_local_module__problem_never_pip_requirement(tmp_path: Path, rules) -> None:
    """Issue 10 done-when: `from TaxiFareModel.utils import ...` with the folder absent is a problem, not a pip
    install, on both backends; the plan is not ready until the user answers."""
    project = tmp_path / "TaxiFareModel-master"
    project.mkdir()
    _write(project, """
        import pandas as pd
        from TaxiFareModel.utils import haversine_vectorized

        def main():
            return haversine_vectorized(pd.DataFrame())

        if __name__ == "__main__":
            main()
        """)
    analysis = analyze(project / "train.py", rules=rules)
    assert "TaxiFareModel" in analysis.missing_modules
    assert any("missing local module TaxiFareModel" in p.message for p in analysis.problems)
    for backend_facts in (facts(), facts(backend="local", installed_packages=frozenset({"pandas"}))):
        result = plan_job(analysis, backend_facts)
        assert result.plan is not None
        assert not any("taxifare" in r.lower() for r in result.plan.pip_requirements)
        assert "imports.missing_local" in [i.code for i in result.preflight if i.severity is Severity.ERROR]
        assert not result.ready


def test_plan__unresolved_import__not_ready_until_named(tmp_path: Path, rules) -> None:
    """An unknown import is not installed; naming the distribution (an extra requirement) answers it."""
    path = _write(tmp_path, "import zz_unknown_lib\n")
    analysis = analyze(path, rules=rules)
    result = plan_job(analysis, facts())
    assert result.plan is not None and result.plan.pip_requirements == ()
    assert "imports.unresolved" in [i.code for i in result.preflight]
    answered = plan_job(analysis, facts(), PlanChoices(extra_pip_requirements=("zz-unknown-lib==1.0",)))
    assert answered.plan is not None and answered.plan.pip_requirements == ("zz-unknown-lib==1.0",)
    assert "imports.unresolved" not in [i.code for i in answered.preflight]


def test_plan__missing_local_module_answered_as_pypi_package__ready(tmp_path: Path, rules) -> None:
    """A capitalised import that is in fact a PyPI package is answered by naming it; nothing is guessed."""
    path = _write(tmp_path, "import ZzLevenshtein\n")
    analysis = analyze(path, rules=rules)
    assert analysis.missing_modules == ("ZzLevenshtein",)
    answered = plan_job(analysis, facts(), PlanChoices(extra_pip_requirements=("zzlevenshtein==0.1",)))
    assert not [i for i in answered.preflight if i.code.startswith("imports.")]
