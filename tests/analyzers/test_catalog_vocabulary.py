"""One source for the network categories: network_catalog.yaml feeds the enum, the JSON schema and the docs.

The enum is built from the catalog at import; the JSON schema is generated from the models that use the enum
(`python -m mljobs.server.analysis_json > schemas/analysis.schema.json`; tests/server/test_analysis_json.py
fails when the file is stale); the docs table is generated and checked by tests/test_skill_md.py. So a new category or service is one edit to the catalog.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

from mljobs.analyzers.model import NETWORK_CATALOG, NetworkCategory
from mljobs.analyzers.network import NetworkRules

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "analysis.schema.json"


def _catalog() -> dict:
    return yaml.safe_load(NETWORK_CATALOG.read_text(encoding="utf-8"))


def test_enum__values__are_the_catalog_categories_in_order() -> None:
    assert [c.value for c in NetworkCategory] == list(_catalog()["categories"])


def test_enum__members_code_names__exist_in_the_catalog() -> None:
    """The type-checking view of the enum lists the members code refers to; each must be a catalog category."""
    tree = ast.parse((ROOT / "analyzers" / "model.py").read_text(encoding="utf-8"))
    stub = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "NetworkCategory")
    named = {t.id: v.value for s in stub.body if isinstance(s, ast.Assign)
             for t, v in [(s.targets[0], s.value)] if isinstance(t, ast.Name) and isinstance(v, ast.Constant)}
    assert named, "the stub lists no members"
    assert {name: NetworkCategory[name].value for name in named} == named


def _schema_categories(schema: dict) -> list[str]:
    ref = schema["$defs"]["NetworkOut"]["properties"]["category"]["$ref"]
    return schema["$defs"][ref.rsplit("/", 1)[-1]]["enum"]


def test_schema__network_category_enum__generated_from_the_catalog() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert _schema_categories(schema) == list(_catalog()["categories"])


def test_catalog__every_category__loads_into_rules() -> None:
    """Every category, URL host entry and scheme of the catalog is a valid NetworkCategory for the rules."""
    rules = NetworkRules.from_data(_catalog())
    assert {c.category.value for c in rules.categories} == set(_catalog()["categories"])


def test_catalog__a_new_category__needs_no_code(tmp_path: Path) -> None:
    """The enum is read from the catalog file: a category added there is a member, with no code change."""
    from mljobs.analyzers.model import catalog_categories

    data = _catalog()
    data["categories"]["vector_db"] = {"hosts": ["api.pinecone.io"], "reason": "queries a hosted vector database"}
    path = tmp_path / "network_catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert catalog_categories(path)["VECTOR_DB"] == "vector_db"


def test_io_tables__from_yaml__a_new_reader_is_one_entry(tmp_path: Path) -> None:
    """The io pass's reader/writer API tables come from skill/data/io_apis.yaml."""
    from mljobs.analyzers import io

    assert "torch.save" in io._WRITERS and "pandas.read_*" in io._READERS
    data = yaml.safe_load(io.IO_APIS.read_text(encoding="utf-8"))
    data["readers"]["mylib.load_table"] = [0, ["path"]]
    path = tmp_path / "io_apis.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert io._calls(io._load_io_apis(path)["readers"])["mylib.load_table"] == (0, ("path",))
