"""The one loader for the YAML knowledge tables in skill/data: read once, duplicate keys rejected.

SKILL.md, the analyzers and the planner all read these tables, so they never disagree. Analyzers
define the frozen rule types (they may not import this layer); this module builds them from data.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mljobs.analyzers.rules import Rules

import yaml


class KnowledgeError(ValueError):
    """A knowledge table is missing or malformed; the message names the table and the problem."""


# libyaml's parser when PyYAML was built with it (about 5x faster on these tables); same safe constructor.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[valid-type, misc]
    """A safe loader that refuses duplicate mapping keys (plain safe_load silently keeps the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise KnowledgeError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def parse_table(text: str, name: str = "<inline>") -> Any:
    """Parse one table's YAML text with duplicate-key rejection.

    Raises:
        KnowledgeError: the YAML is invalid or repeats a key; the message names the table.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except KnowledgeError as exc:
        raise KnowledgeError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{name}: invalid YAML: {exc}") from exc


def table_names() -> list[str]:
    """Names (without .yaml) of every table shipped in skill/data."""
    data = resources.files("mljobs.skill") / "data"
    return sorted(p.name[:-5] for p in data.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def load_table(name: str) -> Any:
    """Load skill/data/<name>.yaml once per process.

    Raises:
        KnowledgeError: the table does not exist or is malformed.
    """
    path = resources.files("mljobs.skill") / "data" / f"{name}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"knowledge table {name!r} is not shipped in mljobs/skill/data") from None
    return parse_table(text, f"{name}.yaml")


@functools.cache
def load_rules() -> Rules:
    """All analyzer rules built from the shipped tables, once per process.

    Raises:
        KnowledgeError: a table is missing or malformed (a packaging bug, never user input).
    """
    from mljobs.analyzers.compute import ComputeRules
    from mljobs.analyzers.extras import ExtraRules
    from mljobs.analyzers.network import NetworkRules
    from mljobs.analyzers.packages import PackageRules
    from mljobs.analyzers.removed_apis import RemovedApiRules
    from mljobs.analyzers.rules import Rules

    return Rules(
        packages=PackageRules.from_data(load_table("import_map"), load_table("runtime_packages")),
        compute=ComputeRules.from_data(load_table("gpu_patterns")),
        network=NetworkRules.from_data(load_table("network_catalog")),
        removed_apis=RemovedApiRules.from_data(load_table("removed_apis")),
        extras=ExtraRules.from_data(load_table("extras")),
    )
