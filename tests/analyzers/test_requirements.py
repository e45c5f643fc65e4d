"""read_declared / parse_pip_command: requirements.txt, pyproject.toml and notebook pip lines, secrets redacted."""

from __future__ import annotations

import pytest

from mljobs.analyzers.model import Location
from mljobs.analyzers.requirements import MAX_INCLUDE_DEPTH, Declared, parse_pip_command, read_declared

NB = Location("nb.ipynb", 4, 0, 2)


def reqs_of(declared: Declared) -> list[tuple[str, str, str]]:
    """(name, specifier, rendered location) per declared requirement."""
    return [(r.name, r.specifier, r.location.render()) for r in declared.requirements]


def messages(declared: Declared) -> list[str]:
    return [f"{p.location.render()} {p.message}" for p in declared.problems]


# -------------------------------------------------------------------------------------------------- pip lines

PIP_LINES = [
    pytest.param("%pip install -q a b==1", [("a", "a"), ("b", "b==1")], id="percent_pip__flags_skipped"),
    pytest.param('!pip install -U "c>=2"', [("c", "c>=2")], id="bang_pip__quoted_specifier"),
    pytest.param("!pip3 install --upgrade scikit-learn", [("scikit-learn", "scikit-learn")], id="pip3"),
    pytest.param("!python -m pip install xgboost==2.0.3", [("xgboost", "xgboost==2.0.3")], id="python_m_pip"),
    pytest.param("!{sys.executable} -m pip install lime", [("lime", "lime")], id="sys_executable_m_pip"),
    pytest.param("%pip install 'transformers[torch]>=4.40'", [("transformers", "transformers[torch]>=4.40")],
                 id="extras"),
    pytest.param("%pip install -r requirements.txt", [], id="requirements_file__not_followed_here"),
    pytest.param("%pip install --index-url https://pkgs.example.com/simple acme", [("acme", "acme")],
                 id="index_url_value__not_a_requirement"),
    pytest.param("%pip install git+https://github.com/org/repo.git@v1#egg=repo_lib",
                 [("repo-lib", "git+https://github.com/org/repo.git@v1#egg=repo_lib")], id="vcs_egg_name"),
    pytest.param("%pip install -e git+https://github.com/org/tool.git#egg=tool", [("tool", "git+https://github.com/org/tool.git#egg=tool")],
                 id="editable_vcs"),
    pytest.param("!pip install a && pip install b; ls", [("a", "a"), ("b", "b")], id="chained_commands"),
    pytest.param("!pip uninstall -y torch", [], id="uninstall__ignored"),
    pytest.param("%conda install numpy", [], id="conda__ignored"),
    pytest.param("!ls -la", [], id="other_shell__ignored"),
    pytest.param('%pip install "unclosed', [], id="unbalanced_quote__no_crash"),
    # pip's own semantics, as the shell hands it the words
    pytest.param("!pip install -q foo  # install the foo package", [("foo", "foo")], id="shell_comment__not_packages"),
    pytest.param("!pip install -q rfdetr>=1.4.0 supervision", [("rfdetr", "rfdetr"), ("supervision", "supervision")],
                 id="unquoted_specifier__shell_redirect"),
    pytest.param("!pip install -Uq 'lightgbm>=4.0.0' --no-deps", [("lightgbm", "lightgbm>=4.0.0")],
                 id="quoted_specifier_and_no_deps"),
    pytest.param("!pip install git+https://github.com/huggingface/peft.git@main 2>&1 | tail -1",
                 [("peft", "git+https://github.com/huggingface/peft.git@main")], id="vcs_forge__repository_name"),
    pytest.param("%pip install git+https://github.com/org/tool.git#egg=tool_x", [("tool-x", "git+https://github.com/org/tool.git#egg=tool_x")],
                 id="vcs_egg_fragment__not_a_comment"),
    pytest.param('!pip install {"tsai -U" if stable else "git+https://x/y"} >> /dev/null', [],
                 id="interpolated_expression__no_words"),
]


@pytest.mark.parametrize(("line", "expected"), PIP_LINES)
def test_parse_pip_command__line__requirements(line: str, expected: list[tuple[str, str]]) -> None:
    """Each notebook line yields exactly the requirements pip would be asked for."""
    got = [(r.name, r.specifier) for r in parse_pip_command(line, NB)]
    assert got == expected, f"\nline: {line}\nexpected: {expected}\nactual:   {got}"
    assert all(r.location == NB for r in parse_pip_command(line, NB))


# ------------------------------------------------------------------------------------------- requirements.txt


def test_read_declared__requirements_txt__every_line_form(write_tree) -> None:
    """Comments, markers, extras, continuations, hashes, includes, -e, URLs and git+ links are all read."""
    root = write_tree({
        "requirements.txt": """
            # training deps
            numpy>=1.26  # inline comment
            pandas[performance] >= 2.0 ; python_version < "3.13"
            torch==2.3.1 \\
                --hash=sha256:deadbeef
            -r extra/more.txt
            -e git+https://github.com/org/mylib.git@v1#egg=mylib
            https://files.example.com/wheels/foo_bar-1.0-py3-none-any.whl
            acme @ https://files.example.com/acme-2.0.tar.gz
            -c constraints.txt
            --pre
            """,
        "extra/more.txt": "xgboost==2.0.3\n--requirement ../shared.txt\n",
        "shared.txt": "lightgbm\n",
    })
    declared = read_declared(root)
    assert reqs_of(declared) == [
        ("numpy", "numpy>=1.26", "requirements.txt:2:1"),
        ("pandas", 'pandas[performance] >= 2.0 ; python_version < "3.13"', "requirements.txt:3:1"),
        ("torch", "torch==2.3.1", "requirements.txt:4:1"),
        ("xgboost", "xgboost==2.0.3", "extra/more.txt:1:1"),
        ("lightgbm", "lightgbm", "shared.txt:1:1"),
        ("mylib", "git+https://github.com/org/mylib.git@v1#egg=mylib", "requirements.txt:7:1"),
        ("foo-bar", "https://files.example.com/wheels/foo_bar-1.0-py3-none-any.whl", "requirements.txt:8:1"),
        ("acme", "acme @ https://files.example.com/acme-2.0.tar.gz", "requirements.txt:9:1"),
    ]
    assert declared.requirements_file == "requirements.txt"
    assert declared.problems == ()


BAD_FILES = [
    pytest.param({"requirements.txt": "numpy\nnot a requirement !!\npandas\n"}, ["numpy", "pandas"],
                 "requirements.txt:2:1 malformed requirement", id="malformed_line__problem_rest_read"),
    pytest.param({"requirements.txt": "-r a.txt\n", "a.txt": "numpy\n-r requirements.txt\n"}, ["numpy"],
                 "a.txt:2:1 -r requirements.txt: include loop", id="include_loop__problem"),
    pytest.param({"requirements.txt": "-r missing.txt\nnumpy\n"}, ["numpy"], "-r missing.txt: file not found",
                 id="missing_include__problem"),
    pytest.param({"requirements.txt": "-r ../../outside.txt\n"}, [], "points outside the project",
                 id="include_outside_root__not_read"),
    pytest.param({"requirements.txt": "./vendored/pkg\nnumpy\n"}, ["numpy"], "local path requirement",
                 id="local_path__problem"),
    pytest.param({"requirements.txt": "git+https://git.example.com/org/noname.git\n"}, [],
                 "cannot tell the distribution name", id="url_without_name__problem"),
    pytest.param({"requirements.txt": "--frobnicate\nnumpy\n"}, ["numpy"], "unknown pip option",
                 id="unknown_option__problem"),
    pytest.param({"requirements.txt": b"numpy\n\xff\xfe\xfa bad bytes\n"}, [], "not UTF-8",
                 id="undecodable_file__problem"),
    pytest.param({"pyproject.toml": "[project\nname = 1\n"}, [], "pyproject.toml:1:1 invalid TOML",
                 id="invalid_toml__problem"),
]


@pytest.mark.parametrize(("files", "names", "problem"), BAD_FILES)
def test_read_declared__bad_input__problem_not_crash(write_tree, files: dict, names: list[str], problem: str) -> None:
    """Malformed lines and files become Problems; everything readable is still read."""
    declared = read_declared(write_tree(files))
    assert [r.name for r in declared.requirements] == names
    assert any(problem in m for m in messages(declared)), messages(declared)


def test_read_declared__deep_include_chain__stops_at_limit(write_tree) -> None:
    """An include chain deeper than the limit is cut with a Problem instead of recursing forever."""
    files = {"requirements.txt": "-r r1.txt\n"}
    for i in range(1, MAX_INCLUDE_DEPTH + 3):
        files[f"r{i}.txt"] = f"pkg{i}\n-r r{i + 1}.txt\n"
    declared = read_declared(write_tree(files))
    assert [r.name for r in declared.requirements] == [f"pkg{i}" for i in range(1, MAX_INCLUDE_DEPTH)]
    assert any("deeper than" in m for m in messages(declared))


def test_read_declared__no_files__empty(write_tree) -> None:
    """A project without any declaration gives an empty Declared."""
    assert read_declared(write_tree({"train.py": "import numpy\n"})) == Declared()


# --------------------------------------------------------------------------------------------------- secrets

SECRET = "s3cr3t"


def test_read_declared__credentials__never_in_output(write_tree) -> None:
    """Index URLs, VCS links and malformed lines with credentials are redacted everywhere in the result."""
    root = write_tree({
        "requirements.txt": f"""
            --index-url https://user:{SECRET}@pkgs.example.com/simple
            --extra-index-url=https://pkgs2.example.com/simple?token={SECRET}
            -i https://other:{SECRET}@mirror.example.com/simple
            private-lib==1.0
            -e git+https://{SECRET}@github.com/org/private.git#egg=private
            git+https://{SECRET}@github.com/org/noname.git
            https://user:{SECRET}@host/x.tar.gz !! broken
            """,
        "pyproject.toml": f"""
            [tool.poetry.dependencies]
            python = "^3.11"
            internal = {{git = "https://user:{SECRET}@git.example.com/internal.git", tag = "v2"}}
            """,
    })
    declared = read_declared(root, [(NB, f"%pip install --extra-index-url https://u:{SECRET}@pkgs.example.com/s x")])
    assert SECRET not in repr(declared)
    assert declared.index_urls == (
        "https://***@pkgs.example.com/simple",
        "https://pkgs2.example.com/simple?token=***",
        "https://***@mirror.example.com/simple",
        "https://***@pkgs.example.com/s",
    )
    # a forge URL without #egg= is named after its repository (noname); the specifier keeps the URL, redacted
    assert [r.name for r in declared.requirements] == ["private-lib", "private", "noname", "internal", "x"]
    assert "git+https://***@github.com/org/noname.git" in declared.requirements[2].specifier
    assert "git+https://***@git.example.com/internal.git@v2" in declared.requirements[3].specifier


# -------------------------------------------------------------------------------------------------- pyproject


def test_read_declared__pyproject_pep621__dependencies_with_lines(write_tree) -> None:
    """[project].dependencies are read with the line each appears on."""
    root = write_tree({
        "pyproject.toml": """
            [project]
            name = "demo"
            dependencies = [
                "requests>=2.31",
                "pyyaml",
            ]
            [project.optional-dependencies]
            dev = ["pytest"]
            """,
    })
    assert reqs_of(read_declared(root)) == [("requests", "requests>=2.31", "pyproject.toml:4:1"),
                                             ("pyyaml", "pyyaml", "pyproject.toml:5:1")]


POETRY = [
    pytest.param('"^1.2.3"', "lib>=1.2.3,<2.0.0", id="caret_major"),
    pytest.param('"^0.2.3"', "lib>=0.2.3,<0.3.0", id="caret_zero_major"),
    pytest.param('"^0.0.3"', "lib>=0.0.3,<0.0.4", id="caret_zero_minor"),
    pytest.param('"~1.2.3"', "lib>=1.2.3,<1.3.0", id="tilde"),
    pytest.param('"1.2.3"', "lib==1.2.3", id="bare_version__exact"),
    pytest.param('"1.2.*"', "lib==1.2.*", id="wildcard"),
    pytest.param('">=1,<2"', "lib>=1,<2", id="comparison_passthrough"),
    pytest.param('"*"', "lib", id="any_version"),
    pytest.param('{version = "^2.0", extras = ["s3"]}', "lib[s3]>=2.0,<3.0", id="table_with_extras"),
]


@pytest.mark.parametrize(("value", "specifier"), POETRY)
def test_read_declared__poetry_constraint__pep440(write_tree, value: str, specifier: str) -> None:
    """Poetry constraints become PEP 440 specifiers pip understands."""
    root = write_tree({"pyproject.toml": f'[tool.poetry.dependencies]\npython = "^3.11"\nlib = {value}\n'})
    assert reqs_of(read_declared(root)) == [("lib", specifier, "pyproject.toml:3:1")]


def test_read_declared__poetry_optional_and_bad__skipped_or_problem(write_tree) -> None:
    """Optional (extra-only) poetry deps are skipped; inexpressible ones become Problems."""
    root = write_tree({"pyproject.toml": """
        [tool.poetry.dependencies]
        python = "^3.11"
        opt = {version = "^1", optional = true}
        either = "1.0 || 2.0"
        local = {path = "../lib"}
        """})
    declared = read_declared(root)
    assert declared.requirements == ()
    assert [m.split(" ", 1)[1] for m in messages(declared)][:1] == [
        "poetry dependency 'either': alternatives ('||') have no PEP 440 form"]
    assert any("local path dependency" in m for m in messages(declared))


# --------------------------------------------------------------------------------------------------- magics


def test_read_declared__magics__pip_lines_and_r_files(write_tree) -> None:
    """Notebook pip lines add requirements (marked as magic), and their -r files are read from the root."""
    root = write_tree({"requirements.txt": "numpy\n", "nb-reqs.txt": "optuna\n"})
    magics = [
        (Location("nb.ipynb", 1, 0, 1), "%pip install -q shap==0.45 -r nb-reqs.txt"),
        (Location("nb.ipynb", 2, 0, 1), "%pip install -r requirements.txt"),  # already read: not twice
        (Location("nb.ipynb", 5, 0, 3), "%matplotlib inline"),
    ]
    declared = read_declared(root, magics)
    assert reqs_of(declared) == [
        ("numpy", "numpy", "requirements.txt:1:1"),
        ("shap", "shap==0.45", "nb.ipynb[1]:1:1"),
        ("optuna", "optuna", "nb-reqs.txt:1:1"),
    ]
    assert [r.name for r in declared.magic_requirements] == ["shap"]
    assert declared.problems == ()
