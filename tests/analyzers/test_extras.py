"""extras: library calls that import a distribution the library does not install become package findings;
the pandas rows are checked against the real pandas installed in the test environment."""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest
from packaging.utils import canonicalize_name

from mljobs.analyzers import analyze
from mljobs.analyzers.extras import ExtraRules, extra_needs
from mljobs.analyzers.model import Confidence, PackageStatus
from mljobs.analyzers.packages import ResolvedBy
from mljobs.analyzers.project import parse_python
from mljobs.analyzers.removed_apis import ApiKind, RemovedApiRules, scan_removed_apis
from mljobs.skill.knowledge import load_table

EXTRAS = ExtraRules.from_data(load_table("extras"))
REMOVED = RemovedApiRules.from_data(load_table("removed_apis"))


def needs_of(code: str) -> list[tuple[str, int, str, Confidence]]:
    """(distribution, line, evidence code, confidence) of every need the snippet's calls have."""
    src, problems = parse_python(dedent(code).lstrip("\n"), "train.py")
    assert src is not None, problems
    found = extra_needs(scan_removed_apis(src, REMOVED, EXTRAS), EXTRAS)
    return [(n.distribution, n.evidence.location.line, n.evidence.code, n.confidence) for n in found]


C, L = Confidence.CERTAIN, Confidence.LIKELY


@pytest.mark.parametrize(("code", "expected"), [
    pytest.param("""
        import keras
        model = keras.Sequential()
        keras.utils.plot_model(model, to_file="m.png")
        """, [("pydot", 3, 'keras.utils.plot_model(model, to_file="m.png")', C)], id="keras_plot_model__pydot"),
    pytest.param("""
        from tensorflow.keras.utils import plot_model
        plot_model(m)
        """, [("pydot", 1, "from tensorflow.keras.utils import plot_model", C), ("pydot", 2, "plot_model(m)", C)],
        id="tf_keras_from_import__import_and_call"),
    pytest.param("""
        import optuna
        study = optuna.create_study()
        optuna.visualization.plot_optimization_history(study)
        """, [("plotly", 3, "optuna.visualization.plot_optimization_history(study)", C)], id="optuna_visualization__plotly"),
    pytest.param("""
        from optuna.visualization.matplotlib import plot_slice
        """, [("matplotlib", 1, "from optuna.visualization.matplotlib import plot_slice", C)],
        id="optuna_matplotlib__longest_prefix_wins"),
    pytest.param("""
        from optuna.integration import LightGBMPruningCallback
        """, [("optuna-integration", 1, "from optuna.integration import LightGBMPruningCallback", C)],
        id="optuna_integration__moved_package"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("a.csv")
        df.plot()
        df.plot.hist(bins=3)
        df["a"].plot()
        """, [("matplotlib", 3, "df.plot()", L), ("matplotlib", 4, "df.plot.hist(bins=3)", L),
              ("matplotlib", 5, 'df["a"].plot()', L)], id="frame_plot__call_accessor_and_column"),
    pytest.param("""
        import pandas as pd
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot([1, 2])
        plt.plot([1, 2])
        """, [], id="axes_plot__not_a_frame"),
    pytest.param("""
        import pandas as pd
        df = pd.read_parquet("a.parquet")
        df.to_markdown()
        """, [("pyarrow", 2, 'pd.read_parquet("a.parquet")', C), ("tabulate", 3, "df.to_markdown()", L)],
        id="pandas_io__pyarrow_and_tabulate"),
    pytest.param("""
        import xgboost as xgb
        xgb.plot_tree(model)
        """, [("matplotlib", 2, "xgb.plot_tree(model)", C), ("graphviz", 2, "xgb.plot_tree(model)", C)],
        id="xgboost_plot_tree__two_needs"),
    pytest.param("""
        import keras
        import optuna
        import pandas as pd
        model = keras.Sequential()
        study = optuna.create_study()
        df = pd.DataFrame({"a": [1]})
        print(df.describe())
        """, [], id="libraries_imported_no_listed_api__nothing"),
    pytest.param("""
        import json
        json.dumps({})
        """, [], id="no_listed_library__nothing"),
])
def test_extras__needs_of_snippets(code: str, expected: list[tuple[str, int, str, Confidence]]) -> None:
    assert needs_of(code) == expected


def test_extras__same_walk_finds_removed_and_extras_uses() -> None:
    """One walk, both tables: the frame's removed `.append` and its `.to_excel` are both found."""
    src, _ = parse_python("import pandas as pd\ndf = pd.DataFrame()\ndf = df.append({'a': 1}, ignore_index=True)\n"
                          "df.to_excel('out.xlsx')\n", "t.py")
    assert src is not None
    uses = scan_removed_apis(src, REMOVED, EXTRAS)
    got = {(u.extra, (EXTRAS if u.extra else REMOVED).apis[u.index].api, u.location.line) for u in uses}
    assert got == {(False, "pandas.DataFrame.append", 3), (True, "pandas.DataFrame.to_excel", 4)}


def _packages(tmp_path: Path, code: str, rules, requirements: str | None = None) -> dict:
    (tmp_path / "train.py").write_text(dedent(code).lstrip("\n"))
    if requirements is not None:
        (tmp_path / "requirements.txt").write_text(requirements)
    a = analyze(tmp_path if requirements is not None else tmp_path / "train.py", rules=rules, python="3.11",
                entrypoint="train.py" if requirements is not None else None)
    return {p.distribution: p for p in a.packages}


def test_extras__plot_model_lists_pydot_to_install(tmp_path, rules) -> None:
    """Done-when: keras.utils.plot_model -> pydot to_install, with the call as evidence and `dot` mentioned."""
    pkgs = _packages(tmp_path, """
        import keras
        model = keras.Sequential()
        keras.utils.plot_model(model, to_file="m.png")
        """, rules)
    pydot = pkgs["pydot"]
    assert pydot.status is PackageStatus.TO_INSTALL and pydot.resolved_by == ResolvedBy.EXTRA
    assert not pydot.declared_only and not pydot.optional and pydot.confidence is Confidence.CERTAIN
    (ev,) = pydot.evidence
    assert (ev.location.path, ev.location.line, ev.code) == ("train.py", 3,
                                                             'keras.utils.plot_model(model, to_file="m.png")')
    assert ev.reason.startswith("keras.utils.plot_model needs pydot at run time")
    assert pydot.hint is not None and "`dot`" in pydot.hint


def test_extras__optuna_visualization_lists_plotly(tmp_path, rules) -> None:
    pkgs = _packages(tmp_path, """
        import optuna
        study = optuna.create_study()
        optuna.visualization.plot_optimization_history(study)
        """, rules)
    plotly = pkgs["plotly"]
    assert plotly.resolved_by == ResolvedBy.EXTRA and plotly.evidence[0].location.line == 3
    assert plotly.status is PackageStatus.PREINSTALLED and plotly.runtime_version  # in the CPU image list


def test_extras__frame_plot_matplotlib_preinstalled_nothing_to_install(tmp_path, rules) -> None:
    pkgs = _packages(tmp_path, """
        import pandas as pd
        df = pd.read_csv("a.csv")
        df.plot()
        """, rules)
    mpl = pkgs["matplotlib"]
    assert mpl.status is PackageStatus.PREINSTALLED and mpl.runtime_version
    assert mpl.resolved_by == ResolvedBy.EXTRA and mpl.confidence is Confidence.LIKELY
    assert [p.distribution for p in pkgs.values() if p.status is PackageStatus.TO_INSTALL] == []


def test_extras__already_imported__not_repeated(tmp_path, rules) -> None:
    """An imported distribution keeps its own finding: no extra evidence, no second row."""
    pkgs = _packages(tmp_path, """
        import pandas as pd
        import matplotlib.pyplot as plt
        pd.read_csv("a.csv").plot()
        """, rules)
    assert pkgs["matplotlib"].resolved_by == ResolvedBy.CURATED
    assert [e.code for e in pkgs["matplotlib"].evidence] == ["import matplotlib.pyplot as plt"]


def test_extras__declared_but_not_imported__kept_by_the_call(tmp_path, rules) -> None:
    """A declared pydot that no file imports is not `declared_only` (which the plan drops as unused): the
    plot_model call needs it; its pin stays the requirement."""
    pkgs = _packages(tmp_path, """
        import keras
        keras.utils.plot_model(keras.Sequential())
        """, rules, requirements="pydot==3.0.4\nkeras\n")
    pydot = pkgs["pydot"]
    assert pydot.requirement == "pydot==3.0.4" and not pydot.declared_only
    assert pydot.resolved_by == ResolvedBy.DECLARED and pydot.status is PackageStatus.TO_INSTALL
    assert {(e.location.path, e.location.line) for e in pydot.evidence} == {("requirements.txt", 1),
                                                                           ("train.py", 2)}
    assert len([p for p in pkgs.values() if p.distribution == "pydot"]) == 1


def test_extras__use_inside_import_guard__optional(tmp_path, rules) -> None:
    """A call the code guards with `except ImportError` copes without the need: optional, so not installed."""
    pkgs = _packages(tmp_path, """
        import pandas as pd
        df = pd.read_csv("a.csv")
        try:
            print(df.to_markdown())
        except ImportError:
            print(df)
        """, rules)
    tabulate = pkgs["tabulate"]
    assert tabulate.optional and tabulate.status is PackageStatus.TO_INSTALL
    assert tabulate.evidence[0].location.line == 4


def test_extras__no_use_no_finding(tmp_path, rules) -> None:
    pkgs = _packages(tmp_path, """
        import keras
        import pandas as pd
        df = pd.read_csv("a.csv")
        model = keras.Sequential()
        """, rules)
    assert [p.distribution for p in pkgs.values() if p.resolved_by == ResolvedBy.EXTRA] == []
    assert "pydot" not in pkgs and "matplotlib" not in pkgs


# ------------------------------------------------------------------------------------------------ the table


def test_table__rows_canonical_with_source_and_note() -> None:
    data = load_table("extras")["apis"]
    assert len(data) == len(EXTRAS.apis) >= 20
    for row in EXTRAS.apis:
        assert row.needs and all(canonicalize_name(d) == d for d in row.needs), row.api
        assert row.source.strip() and row.note.strip(), row.api
        assert row.kind in (ApiKind.ATTRIBUTE, ApiKind.METHOD)


@pytest.mark.parametrize("bad", [
    {"apis": [{"api": "x.y", "kind": "attribute", "needs": ["Py_Dot"], "note": "n", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "attribute", "needs": [], "note": "n", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "attribute", "needs": ["pydot"], "note": "n"}]},
    {"apis": [{"api": "x.y", "kind": "keyword", "needs": ["pydot"], "note": "n", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "method", "needs": ["pydot"], "note": "n", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "attribute", "needs": ["pydot"], "note": "n", "source": "s", "extra": 1}]},
])
def test_extras_rules__malformed_rows__rejected(bad: dict) -> None:
    with pytest.raises(ValueError, match="extras"):
        ExtraRules.from_data(bad)


def _xlsx(tmp_path: Path) -> Path:
    """A file pandas recognises as .xlsx by its zip content (it then needs openpyxl to read it)."""
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return path


#: How to call each pandas row for real: (the call, the module whose absence must make it fail).
_PANDAS_CALLS: dict[str, Callable[[object, Path], object]] = {
    "pandas.DataFrame.plot": lambda pd, tmp: pd.DataFrame({"a": [1, 2]}).plot(),
    "pandas.plotting": lambda pd, tmp: pd.plotting.scatter_matrix(pd.DataFrame({"a": [1, 2]})),
    "pandas.read_parquet": lambda pd, tmp: pd.read_parquet(tmp / "a.parquet"),
    "pandas.DataFrame.to_parquet": lambda pd, tmp: pd.DataFrame({"a": [1]}).to_parquet(tmp / "a.parquet"),
    "pandas.read_feather": lambda pd, tmp: pd.read_feather(tmp / "a.feather"),
    "pandas.DataFrame.to_feather": lambda pd, tmp: pd.DataFrame({"a": [1]}).to_feather(tmp / "a.feather"),
    "pandas.read_excel": lambda pd, tmp: pd.read_excel(_xlsx(tmp)),
    "pandas.DataFrame.to_excel": lambda pd, tmp: pd.DataFrame({"a": [1]}).to_excel(tmp / "a.xlsx"),
    "pandas.DataFrame.to_markdown": lambda pd, tmp: pd.DataFrame({"a": [1]}).to_markdown(),
}
_PANDAS_ROWS = [r for r in EXTRAS.apis if r.api.startswith("pandas.")]


def test_table__every_pandas_row_has_a_real_call() -> None:
    assert sorted(r.api for r in _PANDAS_ROWS) == sorted(_PANDAS_CALLS)


@pytest.mark.parametrize("row", _PANDAS_ROWS, ids=lambda r: r.api)
def test_table__pandas_row_fails_without_its_need(row, tmp_path) -> None:
    """Against the real pandas: the call raises ImportError naming the need when that is not installed."""
    pd = pytest.importorskip("pandas")
    need = row.needs[0]
    if importlib.util.find_spec(need) is not None:
        pytest.skip(f"{need} is installed here: the call would succeed")
    with pytest.raises(ImportError, match=need):
        _PANDAS_CALLS[row.api](pd, tmp_path)
