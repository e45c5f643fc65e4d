"""removed_apis: uses of APIs the job's library versions removed, with line and replacement; the table is
checked against the real libraries installed in the test environment."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from textwrap import dedent

import pytest

from mljobs.analyzers import analyze
from mljobs.analyzers.model import Confidence, Location, PackageFinding, PackageStatus
from mljobs.analyzers.project import parse_python
from mljobs.analyzers.removed_apis import (
    ApiKind,
    RemovedApiRules,
    check_removed_apis,
    scan_removed_apis,
)
from mljobs.skill.knowledge import load_table

TABLE = RemovedApiRules.from_data(load_table("removed_apis"))


def _pkg(dist: str, runtime: str | None, requirement: str | None = None) -> PackageFinding:
    return PackageFinding(
        import_name=dist, distribution=dist,
        status=PackageStatus.PREINSTALLED if runtime else PackageStatus.TO_INSTALL, optional=False,
        evidence=(), resolved_by="curated", confidence=Confidence.CERTAIN, requirement=requirement,
        runtime_version=runtime,
    )


def findings_of(code: str, packages: list[PackageFinding]) -> list[tuple[str, int, str | None]]:
    src, problems = parse_python(dedent(code).lstrip("\n"), "train.py")
    assert src is not None, problems
    found = check_removed_apis(scan_removed_apis(src, TABLE), packages, TABLE)
    return [(f.api, f.location.line, f.version) for f in found]


IMAGE = [_pkg("datasets", "5.0.1"), _pkg("scikit-learn", "1.8.0"), _pkg("transformers", "5.17.0"),
         _pkg("accelerate", "1.15.0"), _pkg("pandas", "2.3.3"), _pkg("numpy", "2.2.6"), _pkg("scipy", "1.15.3"),
         _pkg("torch", "2.13.0+cpu")]


@pytest.mark.parametrize(("code", "expected"), [
    pytest.param("""
        from datasets import load_metric
        m = load_metric("glue")
        """, [("datasets.load_metric", 1, "5.0.1"), ("datasets.load_metric", 2, "5.0.1")],
        id="from_import_and_call__both_lines"),
    pytest.param("""
        import sklearn.datasets as d
        X = d.load_boston()
        """, [("sklearn.datasets.load_boston", 2, "1.8.0")], id="module_alias__attribute_use"),
    pytest.param("""
        from accelerate import Accelerator
        a = Accelerator(fp16=True)
        b = Accelerator(mixed_precision="fp16")
        """, [("accelerate.Accelerator(fp16=...)", 2, "1.15.0")], id="keyword__only_the_removed_one"),
    pytest.param("""
        import numpy as np
        x = np.float(1) + np.NaN + np.float64(2) + np.bool(1)
        """, [("numpy.float", 2, "2.2.6"), ("numpy.NaN", 2, "2.2.6")],
        id="numpy_aliases__bool_restored_in_2"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("a.csv")
        df2 = df.dropna()
        df2.append({"a": 1}, ignore_index=True)
        rows = []
        rows.append(1)
        """, [("pandas.DataFrame.append()", 4, "2.3.3")], id="frame_append__list_append_ignored"),
    pytest.param("""
        import torch._six
        from scipy.misc import imread
        """, [("torch._six", 1, "2.13.0+cpu"), ("scipy.misc.imread", 2, "1.15.3")], id="module_and_submodule"),
    pytest.param("""
        # load_metric in a comment, and a string "np.float"
        def load_metric(): ...
        load_metric()
        """, [], id="unimported_names__nothing"),
])
def test_removed_apis__image_versions(code: str, expected: list[tuple[str, int, str | None]]) -> None:
    got = findings_of(code, IMAGE)
    assert got == expected, f"\n{dedent(code)}\nexpected {expected}\ngot      {got}"


def test_removed_apis__old_pin_keeps_the_api() -> None:
    """A project pinning datasets==2.14.0 gets that version from pip, which still has load_metric."""
    code = "from datasets import load_metric\n"
    assert findings_of(code, [_pkg("datasets", None, "datasets==2.14.0")]) == []
    assert findings_of(code, [_pkg("datasets", "5.0.1", "datasets>=2")]) == [("datasets.load_metric", 1, "5.0.1")]


def test_removed_apis__unpinned_install_gets_latest() -> None:
    """Not in the image and not pinned: pip installs the latest, which lacks it (likely, not certain)."""
    src, _ = parse_python("from transformers import AdamW\n", "t.py")
    assert src is not None
    (f,) = check_removed_apis(scan_removed_apis(src, TABLE), [_pkg("transformers", None)], TABLE)
    assert f.version is None and f.confidence is Confidence.LIKELY
    assert f.location == Location("t.py", 1, 0) and "torch.optim.AdamW" in f.replacement


def test_removed_apis__analyze_reports_line_and_replacement(tmp_path, rules) -> None:
    """Done-when: load_metric and load_boston reported through the composer, with line and replacement."""
    script = tmp_path / "train.py"
    script.write_text("import datasets\nfrom sklearn.datasets import load_boston\n\n"
                      "metric = datasets.load_metric('accuracy')\n")
    a = analyze(script, rules=rules, python="3.11")
    got = {(f.api, f.location.line): f.replacement for f in a.removed_apis}
    assert ("sklearn.datasets.load_boston", 2) in got and "fetch_california_housing" in got[
        ("sklearn.datasets.load_boston", 2)]
    assert ("datasets.load_metric", 4) in got and "evaluate.load" in got[("datasets.load_metric", 4)]


@pytest.mark.parametrize("bad", [
    {"apis": [{"api": "x.y", "kind": "attribute", "distribution": "X_Y", "removed_in": "1",
               "replacement": "z", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "keyword", "distribution": "x", "removed_in": "1",
               "replacement": "z", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "attribute", "distribution": "x", "removed_in": "one",
               "replacement": "z", "source": "s"}]},
    {"apis": [{"api": "x.y", "kind": "renamed", "distribution": "x", "removed_in": "1",
               "replacement": "z", "source": "s"}]},
])
def test_removed_api_rules__malformed_rows__rejected(bad: dict) -> None:
    with pytest.raises(ValueError, match="removed_apis"):
        RemovedApiRules.from_data(bad)


def _import_name(dist: str) -> str:
    return {"scikit-learn": "sklearn", "huggingface-hub": "huggingface_hub"}.get(dist, dist)


def _installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _lacks(dotted: str) -> bool:
    """True when the installed libraries do not provide `dotted` (an attribute path or a module)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        for attr in parts[n:]:
            try:
                obj = getattr(obj, attr)
            except (AttributeError, ImportError):  # sklearn.datasets raises ImportError for load_boston
                return True
        return False
    return True


CHECKABLE = [api for api in TABLE.apis if _installed(api.distribution) is not None]


def test_table__some_rows_checkable_here() -> None:
    assert {a.distribution for a in CHECKABLE} >= {"numpy", "pandas", "scikit-learn", "scipy"}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("api", CHECKABLE, ids=lambda a: a.display)
def test_table__claim_holds_for_installed_version(api) -> None:
    """For each library installed here, the removal claim agrees with the real library at its version."""
    version = _installed(api.distribution)
    assert version is not None
    gone = api.gone_in(version)
    if api.kind is ApiKind.KEYWORD:
        target = api.api
        module, _, name = target.rpartition(".")
        params = inspect.signature(getattr(importlib.import_module(module), name)).parameters
        assert (api.keyword not in params) is gone, f"{api.display} at {api.distribution} {version}"
    else:
        assert _lacks(api.api) is gone, f"{api.display} at {api.distribution} {version}: table says gone={gone}"
