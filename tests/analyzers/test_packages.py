"""classify_packages: import names -> distributions (resolver chain with provenance) -> runtime classification."""

from __future__ import annotations

import sys
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from mljobs.analyzers.imports import scan_imports
from mljobs.analyzers.model import (
    Confidence,
    DeclaredRequirement,
    ImportFinding,
    ImportKind,
    Location,
    PackageFinding,
    PackageStatus,
)
from mljobs.analyzers.packages import IDENTITY_HINT, PackageRules, classify_packages
from mljobs.analyzers.project import parse_python
from mljobs.analyzers.requirements import read_declared
from mljobs.skill.knowledge import load_table

PRE, TO = PackageStatus.PREINSTALLED, PackageStatus.TO_INSTALL


@pytest.fixture(scope="module")
def prules() -> PackageRules:
    """The shipped import map and runtime lists (built directly, independent of the other tables)."""
    return PackageRules.from_data(load_table("import_map"), load_table("runtime_packages"))


def imports_of(code: str) -> tuple[ImportFinding, ...]:
    src, problems = parse_python(dedent(code).lstrip("\n"), "train.py")
    assert src is not None, problems
    return scan_imports(src)


def classify(
    rules: PackageRules,
    code: str,
    *,
    declared: object = (),
    local: frozenset[str] = frozenset(),
    gpu: bool = False,
    python: str = "3.11",
    installed: dict[str, list[str]] | None = None,
) -> tuple[tuple[PackageFinding, ...], str]:
    return classify_packages(
        imports_of(code),
        local_modules=local,
        declared=declared,  # type: ignore[arg-type]
        rules=rules,
        gpu=gpu,
        python=python,
        installed={} if installed is None else installed,
    )


def check(actual: list[tuple], expected: list[tuple], code: str) -> None:
    assert actual == expected, f"\nsource:\n{dedent(code)}\nexpected: {expected}\nactual:   {actual}"


def decl(spec: str, line: int = 1, path: str = "requirements.txt", cell: int | None = None) -> DeclaredRequirement:
    name = canonicalize_name(spec.split("=")[0].split(">")[0].split("<")[0].split("[")[0].strip())
    return DeclaredRequirement(name, spec, Location(path, line, 0, cell))


# ------------------------------------------------------------------------------------------------- resolution

RESOLUTION = [
    pytest.param("from sklearn.model_selection import train_test_split\n", [("sklearn", "scikit-learn", "curated")],
                 id="sklearn__scikit_learn"),
    pytest.param("import cv2\n", [("cv2", "opencv-python", "curated")], id="cv2__opencv_python"),
    pytest.param("from PIL import Image\n", [("PIL", "pillow", "curated")], id="PIL__pillow"),
    pytest.param("import yaml\n", [("yaml", "pyyaml", "curated")], id="yaml__pyyaml"),
    pytest.param("from bs4 import BeautifulSoup\n", [("bs4", "beautifulsoup4", "curated")], id="bs4__beautifulsoup4"),
    pytest.param("from google.cloud import storage\n", [("google.cloud.storage", "google-cloud-storage", "curated")],
                 id="from_google_cloud_import_storage__dotted_name_resolved"),
    pytest.param("import google.cloud.storage as gcs\n",
                 [("google.cloud.storage", "google-cloud-storage", "curated")], id="import_google_cloud_storage"),
    pytest.param("from google.cloud import storage, bigquery\n",
                 [("google.cloud.bigquery", "google-cloud-bigquery", "curated"),
                  ("google.cloud.storage", "google-cloud-storage", "curated")],
                 id="two_google_cloud_names__two_distributions"),
    pytest.param("from google.protobuf import json_format\n", [("google.protobuf", "protobuf", "curated")],
                 id="google_protobuf__protobuf"),
    pytest.param("from azure.storage.blob import BlobServiceClient\n",
                 [("azure.storage.blob", "azure-storage-blob", "curated")], id="azure_storage_blob"),
    pytest.param("from snowflake.snowpark import Session\n",
                 [("snowflake.snowpark", "snowflake-snowpark-python", "curated")], id="snowflake_snowpark"),
    pytest.param("from snowflake.ml.modeling.xgboost import XGBClassifier\n",
                 [("snowflake.ml", "snowflake-ml-python", "curated")], id="snowflake_ml__longest_prefix"),
    pytest.param("from snowflake.core import Root\n", [("snowflake.core", "snowflake-core", "curated")],
                 id="snowflake_core"),
    pytest.param("import snowflake.connector\n",
                 [("snowflake.connector", "snowflake-connector-python", "curated")], id="snowflake_connector"),
    pytest.param("import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n",
                 [("torch", "torch", "curated")], id="torch_three_ways__one_finding"),
    pytest.param("import hydra\nfrom omegaconf import DictConfig\n",
                 [("hydra", "hydra-core", "curated"), ("omegaconf", "omegaconf", "curated")], id="hydra__hydra_core"),
    pytest.param("import umap\nimport attr\nfrom dotenv import load_dotenv\n",
                 [("attr", "attrs", "curated"), ("dotenv", "python-dotenv", "curated"),
                  ("umap", "umap-learn", "curated")], id="umap_attr_dotenv__renamed_distributions"),
    pytest.param("import fitz, jwt, git, serial, zmq\n",
                 [("git", "gitpython", "curated"), ("fitz", "pymupdf", "curated"), ("jwt", "pyjwt", "curated"),
                  ("serial", "pyserial", "curated"), ("zmq", "pyzmq", "curated")], id="classic_pitfalls"),
    pytest.param("from sentence_transformers import SentenceTransformer\n",
                 [("sentence_transformers", "sentence-transformers", "curated")], id="sentence_transformers"),
    pytest.param("import os, json, sys\nfrom collections import abc\nfrom __future__ import annotations\n", [],
                 id="stdlib__excluded"),
    pytest.param("from . import helpers\nfrom .models import Net\n", [], id="relative_imports__excluded"),
    pytest.param("import importlib\nmod = importlib.import_module('xgboost')\n", [("xgboost", "xgboost", "curated")],
                 id="dynamic_import__resolved"),
]


@pytest.mark.parametrize(("code", "expected"), RESOLUTION)
def test_classify__resolution__distribution_and_provenance(prules: PackageRules, code: str, expected: list) -> None:
    """Each import resolves to the right distribution through the right resolver; stdlib and relative vanish."""
    findings, _ = classify(prules, code)
    check([(f.import_name, f.distribution, f.resolved_by) for f in findings], sorted(expected, key=lambda t: t[1]),
          code)


def test_classify__local_module__never_a_package(prules: PackageRules) -> None:
    """Imports of the project's own modules (even ones named like PyPI projects) are not packages."""
    code = "import utils\nfrom datasets.loader import load\nfrom utils.io import read\nimport numpy\n"
    findings, _ = classify(prules, code, local=frozenset({"utils", "datasets", "datasets.loader"}))
    check([(f.distribution, f.resolved_by) for f in findings], [("numpy", "curated")], code)


def test_classify__unknown_import__identity_guess_unresolved(prules: PackageRules) -> None:
    """A name no table knows becomes its own canonical name, confidence guess, with a confirmation hint."""
    (finding,), _ = classify(prules, "import Foo_Bar.sub\n")
    assert (finding.distribution, finding.resolved_by, finding.confidence) == ("foo-bar", "identity", Confidence.GUESS)
    assert finding.hint is not None and finding.hint.startswith("unresolved:") and IDENTITY_HINT in finding.hint
    assert finding.status is PackageStatus.UNRESOLVED  # a guess is never installed (issue 10)


def test_classify__unknown_namespace_subpackage__guess_keeps_subpackage(prules: PackageRules) -> None:
    """Under google.* the guess follows the SDK convention, and installed metadata for `google` is ignored."""
    (finding,), _ = classify(prules, "from google.cloud.newthing import Client\n",
                             installed={"google": ["protobuf"]})
    assert (finding.distribution, finding.resolved_by) == ("google-cloud-newthing", "identity")


def test_classify__installed_metadata__resolves_after_curated(prules: PackageRules) -> None:
    """A name the table lacks is taken from installed metadata when exactly one distribution provides it."""
    code = "import acme_tools\nimport cv2\nimport shared_ns\n"
    findings, _ = classify(prules, code, installed={"acme_tools": ["Acme-Tools"], "cv2": ["opencv-contrib-python"],
                                                    "shared_ns": ["one", "two"]})
    check([(f.distribution, f.resolved_by, f.confidence.value) for f in findings],
          [("acme-tools", "installed", "likely"), ("opencv-python", "curated", "certain"),
           ("shared-ns", "identity", "guess")], code)


def test_classify__declared_distribution__resolves_unknown_import(prules: PackageRules) -> None:
    """An unknown import whose canonical name is declared resolves by the declaration, with its specifier."""
    (finding,), _ = classify(prules, "import acme_tools\n", declared=[decl("Acme-Tools>=1.2", line=3)])
    assert (finding.distribution, finding.resolved_by, finding.requirement) == ("acme-tools", "declared",
                                                                                  "Acme-Tools>=1.2")
    assert [e.location.render() for e in finding.evidence] == ["requirements.txt:3:1", "train.py:1:1"]


def test_classify__declared_alternative__replaces_curated_default(prules: PackageRules) -> None:
    """Declaring opencv-python-headless makes `import cv2` that distribution, not a second opencv-python."""
    code = "import cv2\n"
    findings, _ = classify(prules, code, declared=[decl("opencv-python-headless==4.10.0.84")])
    check([(f.distribution, f.requirement) for f in findings],
          [("opencv-python-headless", "opencv-python-headless==4.10.0.84")], code)


def test_classify__optional_only__optional(prules: PackageRules) -> None:
    """A distribution is optional only when every import of it is guarded."""
    code = """
        try:
            import catboost
        except ImportError:
            catboost = None
        try:
            import lightgbm
        except ImportError:
            pass
        import lightgbm.callback
        """
    findings, _ = classify(prules, code)
    check([(f.distribution, f.optional) for f in findings], [("catboost", True), ("lightgbm", False)], code)


def test_classify__several_imports__evidence_merged_and_sorted(prules: PackageRules) -> None:
    """All imports of one distribution become one finding whose evidence lists each, in source order."""
    code = "import torch\nx = 1\nfrom torch import nn\n"
    (finding,), _ = classify(prules, code)
    assert [e.location.line for e in finding.evidence] == [1, 3]
    assert all("torch" in e.reason and "import map" in e.reason for e in finding.evidence)


def test_classify__curated_note__only_when_installed(prules: PackageRules) -> None:
    """A table note (how to install) is a hint for to_install packages, not for preinstalled ones."""
    findings, _ = classify(prules, "import cv2\nimport sklearn\n")
    assert [(f.distribution, f.hint is not None and "headless" in f.hint) for f in findings] == [
        ("opencv-python", True), ("scikit-learn", False)]
    assert findings[1].hint is None


def test_classify__output__sorted_by_distribution(prules: PackageRules) -> None:
    """Findings come sorted by distribution name whatever the import order."""
    findings, _ = classify(prules, "import yaml\nimport cv2\nimport attr\nimport xgboost\n")
    assert [f.distribution for f in findings] == sorted(f.distribution for f in findings)


# --------------------------------------------------------------------------------------------------- runtime

RUNTIME = [
    pytest.param("import cupy\n", False, "3.11", "cupy-cuda12x", TO, None, id="cupy_cpu__to_install"),
    pytest.param("import cupy\n", True, "3.11", "cupy-cuda12x", PRE, "14.2.0", id="cupy_gpu__preinstalled"),
    pytest.param("import cudf\n", False, "3.10", "cudf-cu12", TO, None, id="cudf_cpu__to_install"),
    pytest.param("import cudf\n", True, "3.10", "cudf-cu12", PRE, "26.2.1", id="cudf_gpu__preinstalled"),
    pytest.param("from cuml.ensemble import RandomForestClassifier\n", True, "3.12", "cuml-cu12", PRE, "26.2.0",
                 id="cuml_gpu_py312__preinstalled"),
    pytest.param("import peft\n", False, "3.11", "peft", TO, None, id="peft_cpu_py311__to_install"),
    pytest.param("import peft\n", True, "3.11", "peft", PRE, "0.17.1", id="peft_gpu_py311__preinstalled"),
    pytest.param("import accelerate\n", False, "3.11", "accelerate", TO, None, id="accelerate_cpu_py311__to_install"),
    pytest.param("import accelerate\n", True, "3.11", "accelerate", PRE, "1.15.0",
                 id="accelerate_gpu_py311__preinstalled"),
    pytest.param("import accelerate\n", False, "3.12", "accelerate", PRE, "1.15.0",
                 id="accelerate_cpu_py312__preinstalled"),
    pytest.param("import faiss\n", False, "3.11", "faiss-cpu", TO, None, id="faiss_cpu__faiss_cpu_to_install"),
    pytest.param("import faiss\n", True, "3.11", "faiss-gpu-cu12", PRE, "1.14.1.post1",
                 id="faiss_gpu__faiss_gpu_preinstalled"),
    pytest.param("import torch\n", False, "3.11", "torch", PRE, "2.13.0+cpu", id="torch_cpu__cpu_wheel"),
    pytest.param("import torch\n", True, "3.11", "torch", PRE, "2.13.0+cu129", id="torch_gpu__cuda_wheel"),
    pytest.param("import sklearn\n", False, "3.10", "scikit-learn", PRE, "1.7.2", id="sklearn_py310"),
    pytest.param("import sklearn\n", False, "3.11", "scikit-learn", PRE, "1.8.0", id="sklearn_py311"),
    pytest.param("import numpy\n", False, "3.11", "numpy", PRE, "2.3.5", id="numpy_cpu_py311"),
    pytest.param("import numpy\n", True, "3.11", "numpy", PRE, "2.2.6", id="numpy_gpu_py311__rapids_pin"),
    pytest.param("import h5py\n", False, "3.11", "h5py", PRE, "3.16.0", id="h5py_py311__preinstalled"),
    pytest.param("import h5py\n", False, "3.12", "h5py", TO, None, id="h5py_py312__dropped"),
    pytest.param("import xgboost\n", False, "3.12", "xgboost", PRE, "3.3.0", id="xgboost_py312"),
    pytest.param("from google.cloud import storage\n", False, "3.11", "google-cloud-storage", PRE, "3.14.1",
                 id="google_cloud_storage__preinstalled"),
    pytest.param("import cv2\n", True, "3.11", "opencv-python", TO, None, id="cv2__never_preinstalled"),
] + [
    pytest.param("import catboost\n", gpu, py, "catboost", TO, None, id=f"catboost_{'gpu' if gpu else 'cpu'}_py{py}")
    for gpu in (False, True)
    for py in ("3.10", "3.11", "3.12")
]


@pytest.mark.parametrize(("code", "gpu", "python", "dist", "status", "version"), RUNTIME)
def test_classify__runtime_list__status_and_version(
    prules: PackageRules, code: str, gpu: bool, python: str, dist: str, status: PackageStatus, version: str | None
) -> None:
    """Status and runtime_version follow the exact package list of the chosen image and Python."""
    findings, label = classify(prules, code, gpu=gpu, python=python)
    assert [(f.distribution, f.status, f.runtime_version) for f in findings] == [(dist, status, version)]
    assert label == f"2.10-{'gpu' if gpu else 'cpu'}-py{python}"


@pytest.mark.parametrize(("python", "label", "hinted"), [
    pytest.param("3.11.9", "2.10-cpu-py3.11", False, id="patch_version__exact_list"),
    pytest.param("3.13", "2.10-cpu-py3.12", True, id="newer_python__nearest_list_and_hint"),
    pytest.param("3.9", "2.10-cpu-py3.10", True, id="older_python__nearest_list_and_hint"),
    pytest.param("nonsense", "2.10-cpu-py3.11", True, id="unreadable__default_list_and_hint"),
])
def test_classify__python_version__label_and_hint(prules: PackageRules, python: str, label: str, hinted: bool) -> None:
    """An unlisted Python uses the nearest list and says so on every finding."""
    findings, got = classify(prules, "import numpy\n", python=python)
    assert got == label
    assert (findings[0].hint is not None and "Python" in findings[0].hint) is hinted


# --------------------------------------------------------------------------------------------------- declared

PINS = [
    pytest.param("torch==2.1.0", "3.11", True, id="pin_differs__still_preinstalled_with_hint"),
    pytest.param("torch>=2.0", "3.11", False, id="range_satisfied__no_hint"),
    pytest.param("torch==2.13.0", "3.11", False, id="pin_matches_public_part_of_local_version__no_hint"),
    pytest.param("torch @ https://download.pytorch.org/whl/torch-2.1.0-cp311-linux_x86_64.whl", "3.11", True,
                 id="url_requirement__hint"),
]


@pytest.mark.parametrize(("spec", "python", "hinted"), PINS)
def test_classify__declared_pin__preinstalled_with_reinstall_hint(
    prules: PackageRules, spec: str, python: str, hinted: bool
) -> None:
    """A declared pin that the runtime version does not satisfy keeps PREINSTALLED but warns of a reinstall."""
    req = DeclaredRequirement("torch", spec, Location("requirements.txt", 2))
    (finding,), _ = classify(prules, "import torch\n", declared=[req], python=python)
    assert (finding.status, finding.requirement, finding.resolved_by) == (PRE, spec, "curated")
    warned = finding.hint is not None and ("reinstalled" in finding.hint or "instead of" in finding.hint)
    assert warned is hinted, finding.hint


def test_classify__declared_unused__still_reported(prules: PackageRules) -> None:
    """Declared requirements no import uses are reported (they are installed with the code)."""
    findings, _ = classify(prules, "import numpy\n", declared=[decl("rich", 1), decl("catboost==1.2.7", 2)])
    got = [(f.import_name, f.distribution, f.status, f.resolved_by, f.requirement) for f in findings]
    assert got == [("", "catboost", TO, "declared", "catboost==1.2.7"), ("numpy", "numpy", PRE, "curated", None),
                   ("", "rich", PRE, "declared", "rich")]


def test_classify__notebook_pip_lines__resolved_by_pip_magic(prules: PackageRules, write_tree) -> None:
    """Requirements from `%pip install` lines count as pip_magic, whether imported or not."""
    root = write_tree({"nb.ipynb": "{}"})
    declared = read_declared(root, [(Location("nb.ipynb", 1, 0, 1), "%pip install -q acme-tools lime==0.2.0.1")])
    findings, _ = classify(prules, "import acme_tools\n", declared=declared)
    got = [(f.distribution, f.resolved_by, f.requirement) for f in findings]
    assert got == [("acme-tools", "pip_magic", "acme-tools"), ("lime", "pip_magic", "lime==0.2.0.1")]


def test_classify__pip_magic_pseudo_import__resolved_by_pip_magic(prules: PackageRules) -> None:
    """An ImportFinding of kind pip_magic names a distribution directly."""
    magic = ImportFinding(ImportKind.PIP_MAGIC, "shap>=0.40", (), Location("nb.ipynb", 1, 0, 2),
                          "%pip install shap>=0.40", Confidence.CERTAIN)
    findings, _ = classify_packages([magic], local_modules=frozenset(), declared=(), rules=prules, gpu=False,
                                    installed={})
    assert [(f.distribution, f.resolved_by, f.requirement, f.status) for f in findings] == [
        ("shap", "pip_magic", "shap>=0.40", PRE)]


# ----------------------------------------------------------------------------------------------- inline rules

TINY_MAP = {"imports": {"sk": "scikit-learn", "ns.sub": "ns-sub"}, "namespaces": ["ns"]}
TINY_RUNTIME = {
    "runtime": "9.9", "default_python": "3.11",
    "cpu": {"3.11": {"packages": {"scikit-learn": "1.0"}}},
    "gpu": {"packages": {"ns-sub": "2.0"}},
}


def test_rules__tiny_inline_tables__classify() -> None:
    """PackageRules built from tiny inline tables drive the same classification."""
    rules = PackageRules.from_data(TINY_MAP, TINY_RUNTIME)
    findings, label = classify(rules, "import sk\nfrom ns import sub\n", gpu=True)
    assert label == "9.9-gpu-py3.11"
    assert [(f.distribution, f.status, f.runtime_version) for f in findings] == [
        ("ns-sub", PRE, "2.0"), ("scikit-learn", PRE, "1.0")]


BAD_TABLES = [
    pytest.param({"imports": {"cv2": "OpenCV_Python"}}, TINY_RUNTIME, "canonical", id="non_canonical_target"),
    pytest.param({"imports": {"not a name": "x"}}, TINY_RUNTIME, "dotted import", id="bad_import_key"),
    pytest.param({"imports": {"x": {"dist": "x", "typo": 1}}}, TINY_RUNTIME, "unknown keys", id="unknown_entry_key"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "cpu": {"3.11": {"packages": {"graphviz": 0.21}}}}, "quoted",
                 id="unquoted_float_version"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "cpu": {"3.11": {"packages": {"a": "1"}},
                                                    "3.12": {"from": "3.11", "change": {"b": "2"}}}},
                 "not in the list", id="change_of_unlisted_name"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "cpu": {"3.11": {"packages": {"a": "1"}},
                                                    "3.12": {"from": "3.11", "add": {"a": "2"}}}},
                 "already in the list", id="add_of_listed_name"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "cpu": {"3.11": {"from": "3.12"}, "3.12": {"from": "3.11"}}},
                 "cycle", id="from_cycle"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "gpu": {"3.13": {}}}, "no CPU list", id="gpu_python_without_cpu"),
    pytest.param(TINY_MAP, {**TINY_RUNTIME, "default_python": "3.99"}, "default_python", id="bad_default_python"),
]


@pytest.mark.parametrize(("imap", "runtime", "message"), BAD_TABLES)
def test_rules__malformed_table__rejected_with_reason(imap: dict, runtime: dict, message: str) -> None:
    """Malformed tables fail at load with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        PackageRules.from_data(imap, runtime)


# ------------------------------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}(\.[a-z_][a-z0-9_]{0,8}){0,2}", fullmatch=True))
def test_classify__any_import_name__one_canonical_finding_or_excluded(prules: PackageRules, name: str) -> None:
    """Any dotted import gives at most one finding, with a canonical distribution, and never raises."""
    finding = ImportFinding(ImportKind.IMPORT, name, (), Location("t.py", 1), f"import {name}", Confidence.CERTAIN)
    findings, _ = classify_packages([finding], local_modules=frozenset(), declared=(), rules=prules, gpu=False,
                                    installed={})
    assert len(findings) <= 1
    for f in findings:
        assert canonicalize_name(f.distribution) == f.distribution
        assert f.confidence is Confidence.GUESS or f.resolved_by == "curated"
    if name.split(".")[0] in sys.stdlib_module_names:
        assert findings == ()


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        pytest.param("cv2", "opencv-python", id="curated__cv2"),
        pytest.param("sklearn.ensemble", "scikit-learn", id="curated__dotted"),
        pytest.param("google.cloud.bigquery", "google-cloud-bigquery", id="namespace__dotted_prefix"),
        pytest.param("json", None, id="stdlib__none"),
        pytest.param("frobnicator", None, id="unknown__none_never_a_guess"),
    ],
)
def test_distribution_of__module_name__maps_like_the_chain(module: str, expected: str | None) -> None:
    """A bare module name from a log resolves through stdlib, the curated table, then identity."""
    from mljobs.analyzers.packages import PackageRules, distribution_of
    from mljobs.skill.knowledge import load_table

    rules = PackageRules.from_data(load_table("import_map"), load_table("runtime_packages"))
    assert distribution_of(module, rules) == expected
