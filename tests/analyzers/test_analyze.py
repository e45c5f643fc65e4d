"""analyze(): the composer end to end on small trees: inputs, aggregation order, cache and process pool."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mljobs.analyzers import analyze
from mljobs.analyzers.cache import MemoryFileCache
from mljobs.analyzers.errors import AnalysisInputError
from mljobs.analyzers.model import ComputeTarget, NetworkCategory, PackageStatus, SubmitMethod
from tests.conftest import make_notebook

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _dists(a) -> set[str]:
    return {p.distribution for p in a.packages}


def test_analyze__cpu_example_script__submit_file_cpu(rules, tmp_path) -> None:
    """The demo script alone: CPU, scikit-learn, an output option, __return__, one file to submit."""
    shutil.copy(EXAMPLES / "train_classifier.py", tmp_path / "train_classifier.py")
    a = analyze(tmp_path / "train_classifier.py", rules=rules)
    assert a.entrypoint == "train_classifier.py" and a.files == ("train_classifier.py",)
    assert a.compute.recommendation is ComputeTarget.CPU
    assert "scikit-learn" in _dists(a)
    assert [f.detail for f in a.io.output_args] == ["--output-dir"]
    assert a.io.sets_return
    assert a.method.method is SubmitMethod.SUBMIT_FILE
    assert a.local_modules == () and a.problems == ()


def test_analyze__gpu_example__gpu_and_huggingface(rules) -> None:
    """The fine-tune example needs a GPU, transformers/datasets and the Hugging Face hosts."""
    a = analyze(EXAMPLES / "finetune_gpu.py", rules=rules)
    assert a.compute.recommendation is ComputeTarget.GPU
    assert a.compute.evidence and all(e.location.path == "finetune_gpu.py" for e in a.compute.evidence)
    assert {"transformers", "datasets", "torch"} <= _dists(a)
    assert NetworkCategory.HUGGINGFACE in {n.category for n in a.network}
    assert "-gpu-" in a.runtime
    (wandb,) = [p for p in a.packages if p.import_name == "wandb"]
    assert wandb.optional


def test_analyze__example_project__submit_directory_with_reasons(rules) -> None:
    """A project with a local package and requirements.txt is submitted as a directory, saying why."""
    a = analyze(EXAMPLES / "project", rules=rules)
    assert a.entrypoint == "main.py"
    assert a.files == ("main.py", "churn/__init__.py", "churn/features.py", "churn/model.py")
    assert a.local_modules == ("churn", "churn.features", "churn.model")
    assert a.requirements_file == "requirements.txt"
    assert {"xgboost", "pandas", "scikit-learn"} <= _dists(a)
    assert "churn" not in _dists(a)
    assert a.method.method is SubmitMethod.SUBMIT_DIRECTORY
    assert "churn.features" in a.method.reason and "requirements.txt" in a.method.reason


def test_analyze__example_notebook__pip_magic_declared(rules) -> None:
    """The notebook's %pip line is a declared requirement; evidence points at notebook cells."""
    a = analyze(EXAMPLES / "eda.ipynb", rules=rules)
    assert a.entrypoint == "eda.ipynb"
    assert "seaborn" in {d.name for d in a.declared}
    seaborn = next(p for p in a.packages if p.distribution == "seaborn")
    assert all(e.location.cell is not None for e in seaborn.evidence)
    assert a.method.method is SubmitMethod.SUBMIT_FILE and "cells" in a.method.reason


def test_analyze__entrypoint_syntax_error__problem_not_raise(rules, write_tree) -> None:
    """An entrypoint that does not parse still gives an Analysis (CPU, nothing found) with a Problem."""
    a = analyze(write_tree({"train.py": "import torch\nprint 'x'\n"}), rules=rules)
    assert a.compute.recommendation is ComputeTarget.CPU and a.packages == ()
    assert [(p.location.path, p.location.line) for p in a.problems] == [("train.py", 2)]
    assert "Python 2" in a.problems[0].message


@pytest.mark.parametrize(
    ("files", "entry", "message"),
    [
        pytest.param({}, "missing.py", "no such file", id="nonexistent_path__input_error"),
        pytest.param({"a.py": "", "b.py": ""}, None, "candidates", id="folder_without_entrypoint__input_error"),
        pytest.param({"nb.ipynb": "{broken"}, "nb.ipynb", "not valid notebook JSON", id="broken_notebook_only_input__input_error"),
        pytest.param({"nb.ipynb": make_notebook([("code", "x <- 1")], language="R")}, "nb.ipynb", "not Python",
                     id="r_notebook_only_input__input_error"),
    ],
)
def test_analyze__unusable_input__analysis_input_error(rules, write_tree, tmp_path, files, entry, message) -> None:
    """Inputs that cannot be analysed at all raise AnalysisInputError with a one-line message."""
    root = write_tree(files) if files else tmp_path
    target = root / entry if entry else root
    with pytest.raises(AnalysisInputError, match=message) as info:
        analyze(target, rules=rules)
    assert "\n" not in str(info.value)


def test_analyze__modules_that_exist_nowhere__unresolved_problem_not_install(rules, write_tree) -> None:
    """Imports that are neither local, stdlib, curated nor installed are unresolved: a Problem, never an install."""
    a = analyze(write_tree({"main.py": "import zzz_no_such_module_anywhere\n"}), rules=rules)
    (pkg,) = a.packages
    assert pkg.import_name == "zzz_no_such_module_anywhere"
    assert pkg.status is PackageStatus.UNRESOLVED and pkg.confidence.value == "guess"
    assert NetworkCategory.PYPI not in {n.category for n in a.network}
    assert any("unresolved import zzz_no_such_module_anywhere" in p.message for p in a.problems)
    assert a.missing_modules == ()


@pytest.mark.parametrize(
    ("files", "entry", "missing"),
    [
        pytest.param({"TaxiFareModel-main/train.py": "from TaxiFareModel.utils import haversine\n"},
                     "TaxiFareModel-main/train.py", "TaxiFareModel", id="capitalised_package_folder_absent__issue_10"),
        pytest.param({"taxifare/main.py": "import taxifare_utils\n", "taxifare_utils_old/x.txt": "",
                      "taxifare/notes/taxifare_utils.py": ""}, "taxifare/main.py", "taxifare_utils",
                     id="file_elsewhere_in_tree"),
        pytest.param({"proj/main.py": "import proj\n"}, "proj/main.py", "proj", id="named_like_the_project_folder"),
        pytest.param({"proj/main.py": "import zz_sibling_lib\n", "zz_sibling_lib/__init__.py": ""}, "proj/main.py",
                     "zz_sibling_lib", id="sibling_package_beside_the_project"),
        pytest.param({"proj/pkg/__init__.py": "", "proj/pkg/main.py": "from .helpers import f\n"}, "proj/pkg/main.py",
                     ".helpers", id="relative_import_without_file"),
    ],
)
def test_analyze__local_looking_missing_module__problem_not_package(rules, tmp_path, files, entry, missing) -> None:
    """Names that look like the project's own code are missing files: in problems, never a package to install."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    root = tmp_path / entry.split("/", 1)[0]
    a = analyze(root, entry.split("/", 1)[1], rules=rules)
    assert missing in a.missing_modules
    assert all(p.import_name.split(".")[0] != missing for p in a.packages)
    assert any(f"missing local module {missing}" in p.message for p in a.problems)


def test_analyze__local_shadowing_name__not_a_package(rules, write_tree) -> None:
    """A local module named like a library (utils, data) is local, not a PyPI package."""
    a = analyze(write_tree({"main.py": "import utils\nfrom data import load\n", "utils.py": "import numpy\n",
                            "data/__init__.py": "def load(): pass\n"}), rules=rules)
    assert _dists(a) == {"numpy"}
    assert a.local_modules == ("data", "utils")


def test_analyze__all_files__every_py_scanned(rules, write_tree) -> None:
    """All-files mode scans unreferenced files too and needs no entrypoint."""
    root = write_tree({"a.py": "import yaml\n", "b.py": "import requests\n", "pkg/__init__.py": "",
                       "pkg/c.py": "from . import d\nimport torch\n", "pkg/d.py": ""})
    a = analyze(root, rules=rules, all_files=True)
    assert a.entrypoint == "" and a.files == ("a.py", "b.py", "pkg/__init__.py", "pkg/c.py", "pkg/d.py")
    assert {"pyyaml", "requests", "torch"} <= _dists(a)
    assert "pkg.d" in a.local_modules
    assert a.method.method is SubmitMethod.SUBMIT_DIRECTORY


def test_analyze__cache__second_run_hits_and_edit_misses(rules, write_tree) -> None:
    """An unchanged tree is served whole from the cache; after an edit only the edited file is rescanned."""
    root = write_tree({"main.py": "import helper\nimport torch\nx = torch.zeros(1).cuda()\n",
                       "helper.py": "import pandas\n"})
    cache = MemoryFileCache()
    first = analyze(root, rules=rules, cache=cache)
    assert (cache.hits, cache.misses) == (0, 2)
    second = analyze(root, rules=rules, cache=cache)
    assert (cache.hits, cache.misses) == (0, 2)  # the whole result matched: no per-file lookups at all
    assert second == first
    (root / "helper.py").write_text("import pandas\nimport xgboost\n")
    os.utime(root / "helper.py", ns=(1, 1))  # a different mtime, whatever the clock's resolution
    third = analyze(root, rules=rules, cache=cache)
    assert (cache.hits, cache.misses) == (1, 3)  # main.py reused, helper.py rescanned
    assert "xgboost" in _dists(third) and "xgboost" not in _dists(first)
    (root / "requirements.txt").write_text("pandas==2.2.0\n")  # a new non-Python file changes the result too
    fourth = analyze(root, rules=rules, cache=cache)
    assert fourth.requirements_file == "requirements.txt" and third.requirements_file is None


def test_analyze__process_pool__same_result_as_inline(rules, write_tree) -> None:
    """Scanning in worker processes gives exactly the inline result."""
    files = {f"m{i}.py": f"import numpy\nimport m{i + 1}\n" for i in range(12)}
    files["m12.py"] = "import torch\nmodel = torch.nn.Linear(2, 2).to('cuda')\n"
    files["main.py"] = "import m0\n"
    root = write_tree(files)
    inline = analyze(root, rules=rules, workers=1, all_files=True)
    pooled = analyze(root, rules=rules, workers=2, all_files=True)
    assert pooled == inline
    assert pooled.compute.recommendation is ComputeTarget.GPU


def test_rules_fingerprint__other_process_and_hash_seed__same_digest(rules) -> None:
    """The cache context is the same in every process (set order and function addresses do not leak in)."""
    import subprocess
    import sys

    from mljobs.analyzers.cache import rules_fingerprint

    code = ("from mljobs.analyzers.cache import rules_fingerprint\n"
            "from mljobs.skill.knowledge import load_rules\nprint(rules_fingerprint(load_rules()))")
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {rules_fingerprint(rules)}


def test_analyze__data_paths_in_another_modules_constants__inputs_and_outputs(rules, tmp_path) -> None:
    """Issue 10 item 4: `from pkg.params import TRAIN` / `config.DATA_PATH` paths are the job's inputs too."""
    files = {
        "pkg/__init__.py": "",
        "pkg/params.py": "from pathlib import Path\nROOT = Path(__file__).parent.parent\n"
                         "TRAIN = ROOT / 'data' / 'train.csv'\nMODEL_OUT = 'artifacts/model.joblib'\n",
        "config.py": "DATA_PATH = 'data/raw.csv'\n",
        "data/train.csv": "a\n",
        "main.py": "import pandas as pd\nimport joblib\nimport config\nfrom pkg.params import TRAIN, MODEL_OUT\n"
                   "df = pd.read_csv(TRAIN)\nraw = pd.read_csv(config.DATA_PATH)\njoblib.dump(df, MODEL_OUT)\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    a = analyze(tmp_path, "main.py", rules=rules)
    assert [(f.detail, f.exists_locally, f.location.line) for f in a.io.local_inputs] == [
        ("data/train.csv", True, 5), ("data/raw.csv", False, 6)]
    assert [f.detail for f in a.io.hardcoded_outputs] == ["artifacts/model.joblib"]
    assert a.data_files == ("data/train.csv",) and a.method.method.value == "submit_directory"
