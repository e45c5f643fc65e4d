"""The knowledge tables in skill/data: every one loads, duplicate keys are refused, names are canonical."""

from __future__ import annotations

from importlib import resources

import pytest
from packaging.utils import canonicalize_name

from mljobs.analyzers.packages import PackageRules
from mljobs.skill.knowledge import KnowledgeError, load_table, parse_table, table_names

TABLES = table_names()


def _text(name: str) -> str:
    return (resources.files("mljobs.skill") / "data" / f"{name}.yaml").read_text(encoding="utf-8")


def test_table_names__core_tables__shipped() -> None:
    """The tables the analyzers need are shipped as package data."""
    assert {"import_map", "runtime_packages"} <= set(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_load_table__every_table__loads_non_empty(name: str) -> None:
    """Every shipped table parses (duplicate-key checked) into a non-empty mapping."""
    data = load_table(name)
    assert isinstance(data, dict) and data, f"{name}.yaml is empty or not a mapping"


@pytest.mark.parametrize("name", TABLES)
def test_table__header__opens_with_purpose_comment(name: str) -> None:
    """Each table opens with a comment giving its purpose and sources (STYLE rule 8)."""
    assert _text(name).startswith("# "), f"{name}.yaml does not open with a comment"


DUPLICATES = [
    pytest.param("a: 1\nb: 2\na: 3\n", "duplicate key 'a' at line 3", id="top_level"),
    pytest.param("imports:\n  cv2: opencv-python\n  cv2: opencv-python-headless\n", "duplicate key 'cv2'",
                 id="nested"),
    pytest.param("- {x: 1, x: 2}\n", "duplicate key 'x'", id="flow_mapping_in_list"),
]


@pytest.mark.parametrize(("text", "message"), DUPLICATES)
def test_parse_table__duplicate_key__rejected(text: str, message: str) -> None:
    """A repeated key is an error naming the key and line, not a silent last-one-wins."""
    with pytest.raises(KnowledgeError, match=message):
        parse_table(text, "t.yaml")


def test_parse_table__real_import_map_with_duplicate__rejected() -> None:
    """The shipped import map with one entry repeated is refused (the loader guards the real file too)."""
    text = _text("import_map").replace("  sklearn:\n", "  yaml: pyyaml\n  sklearn:\n", 1)
    assert text != _text("import_map")
    with pytest.raises(KnowledgeError, match="import_map.yaml: duplicate key 'yaml'"):
        parse_table(text, "import_map.yaml")


# ------------------------------------------------------------------------------------------------- import_map


def _targets(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    assert isinstance(value, dict)
    return [value["dist"], *([value["gpu"]] if value.get("gpu") else []), *value.get("alternatives", [])]


def test_import_map__targets__canonical_names() -> None:
    """Every distribution named in the import map is in canonical (PEP 503) form."""
    bad = [(key, dist) for key, value in load_table("import_map")["imports"].items() for dist in _targets(value)
           if canonicalize_name(dist) != dist]
    assert bad == []


def test_import_map__size__covers_the_ml_world() -> None:
    """The curated table is substantial (at least 300 import names)."""
    assert len(load_table("import_map")["imports"]) >= 300


ANCHOR_PITFALLS = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml", "skimage": "scikit-image",
    "bs4": "beautifulsoup4", "dotenv": "python-dotenv", "attr": "attrs", "Crypto": "pycryptodome",
    "docx": "python-docx", "fitz": "pymupdf", "google.cloud.storage": "google-cloud-storage", "jwt": "pyjwt",
    "git": "gitpython", "serial": "pyserial", "zmq": "pyzmq", "dateutil": "python-dateutil",
    "sentence_transformers": "sentence-transformers", "tensorflow_hub": "tensorflow-hub", "hydra": "hydra-core",
    "MySQLdb": "mysqlclient", "umap": "umap-learn", "imblearn": "imbalanced-learn", "magic": "python-magic",
    "flash_attn": "flash-attn", "cupy": "cupy-cuda12x", "cudf": "cudf-cu12", "cuml": "cuml-cu12",
    "google.protobuf": "protobuf", "snowflake.snowpark": "snowflake-snowpark-python",
    "snowflake.ml": "snowflake-ml-python", "snowflake.core": "snowflake-core",
    "snowflake.connector": "snowflake-connector-python", "azure.storage.blob": "azure-storage-blob",
}


@pytest.mark.parametrize(("name", "dist"), sorted(ANCHOR_PITFALLS.items()))
def test_import_map__known_pitfall__mapped_right(name: str, dist: str) -> None:
    """The import/distribution mismatches from research (anchors.md section D) are mapped correctly."""
    value = load_table("import_map")["imports"][name]
    assert _targets(value)[0] == dist


# ---------------------------------------------------------------------------------------------- runtime lists


@pytest.fixture(scope="module")
def runtimes() -> dict:
    return dict(PackageRules.from_data(load_table("import_map"), load_table("runtime_packages")).runtimes)


#: Rows per table in the Snowflake docs "Container Runtime CPU/GPU Version 2.10" (per Python variant).
DOC_SIZES = {("cpu", "3.10"): 305, ("cpu", "3.11"): 308, ("cpu", "3.12"): 304,
             ("gpu", "3.10"): 348, ("gpu", "3.11"): 350, ("gpu", "3.12"): 344}


@pytest.mark.parametrize(("variant", "size"), sorted(DOC_SIZES.items()))
def test_runtime_packages__each_list__documented_size(runtimes: dict, variant: tuple, size: int) -> None:
    """Base + deltas rebuild each of the six documented lists with its exact number of packages."""
    assert len(runtimes[variant]) == size


SPOT_CHECKS = [
    # (variant, distribution, version or None when absent) -- straight from the 2.10 release-note tables
    (("cpu", "3.10"), "tomli", "2.4.1"), (("cpu", "3.11"), "tomli", None), (("cpu", "3.12"), "toolz", None),
    (("cpu", "3.11"), "preliz", "0.24.0"), (("gpu", "3.11"), "preliz", "0.22.0"), (("cpu", "3.12"), "preliz", "0.27.1"),
    (("gpu", "3.12"), "preliz", "0.22.0"), (("gpu", "3.12"), "pymc-extras", "0.10.0"),
    (("cpu", "3.12"), "pymc-extras", "0.14.0"), (("gpu", "3.11"), "pytensor-distributions", None),
    (("cpu", "3.11"), "pytensor-distributions", "0.1.3"), (("gpu", "3.12"), "numpy", "2.2.6"),
    (("cpu", "3.12"), "numpy", "2.3.5"), (("cpu", "3.10"), "nvidia-nccl-cu12", "2.31.2"),
    (("gpu", "3.10"), "nvidia-nccl-cu12", "2.29.7"), (("gpu", "3.10"), "numba", "0.61.2"),
    (("cpu", "3.10"), "numba", "0.65.1"), (("gpu", "3.10"), "llvmlite", "0.44.0"),
    (("gpu", "3.12"), "torchvision", "0.28.0+cu129"), (("cpu", "3.12"), "torch", "2.13.0+cpu"),
    (("gpu", "3.10"), "accelerate", "1.15.0"), (("cpu", "3.10"), "accelerate", None),
    (("cpu", "3.12"), "sentencepiece", "0.2.2"), (("gpu", "3.10"), "faiss-gpu-cu12", "1.14.1.post1"),
    (("cpu", "3.10"), "graphviz", "0.21"), (("cpu", "3.12"), "xgboost", "3.3.0"),
    (("gpu", "3.12"), "xgboost", "3.3.0"), (("gpu", "3.12"), "h5py", None),
]


@pytest.mark.parametrize(("variant", "dist", "version"), SPOT_CHECKS)
def test_runtime_packages__spot_check__matches_release_notes(runtimes: dict, variant: tuple, dist: str,
                                                            version: str | None) -> None:
    """Selected entries whose presence or version differs between variants match the docs exactly."""
    assert runtimes[variant].get(dist) == version


def test_runtime_packages__names__canonical(runtimes: dict) -> None:
    """Every runtime package name is canonical, so lookups by canonical distribution name work."""
    assert [n for lst in runtimes.values() for n in lst if canonicalize_name(n) != n] == []
