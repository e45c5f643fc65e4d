"""Instance-family shapes and system compute pools, read once from skill/data/instance_families.yaml.

Account discovery prefers the live `SHOW COMPUTE POOL INSTANCE FAMILIES`; this table is the fallback and the
only source of indicative credits per node-hour.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from .facts import AccountFacts, FamilyKind, InstanceFamily
from .knowledge import KnowledgeError, load_table

CLOUDS = ("aws", "azure", "gcp")
_FAMILY_KEYS = {
    "vcpu", "memory_gib", "gpu_count", "gpu_type", "gpu_memory_gib", "kind", "credits_per_hour", "clouds",
    "generation", "per_cloud",
}
_REQUIRED = {"vcpu", "memory_gib", "gpu_count", "kind", "clouds"}
_SYSTEM_KEYS = {"family", "min_nodes", "max_nodes", "auto_suspend_secs"}


@dataclass(frozen=True, slots=True)
class SystemPoolSpec:
    """A compute pool Snowflake provisions in every account (PUBLIC has USAGE unless an admin revoked it).

    `family` is None when the pool does not exist on that cloud (GCP has no GPU system pool).
    """

    name: str
    family: str | None
    min_nodes: int
    max_nodes: int
    auto_suspend_secs: int
    cloud: str | None  # the cloud the family was chosen for; None = unknown, AWS family assumed


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise KnowledgeError(f"instance_families.yaml: {where} must be a non-negative number, got {value!r}")
    return value


@functools.cache
def _records() -> dict[str, dict[str, Any]]:
    """The validated raw `families` mapping (names upper-case)."""
    data = load_table("instance_families")
    if not isinstance(data, dict) or not isinstance(data.get("families"), dict):
        raise KnowledgeError("instance_families.yaml: top-level 'families' mapping is missing")
    records: dict[str, dict[str, Any]] = {}
    for name, row in data["families"].items():
        where = f"families.{name}"
        if not isinstance(row, dict):
            raise KnowledgeError(f"instance_families.yaml: {where} must be a mapping")
        if name != str(name).upper():
            raise KnowledgeError(f"instance_families.yaml: {where} must be upper-case")
        unknown = set(row) - _FAMILY_KEYS
        missing = _REQUIRED - set(row)
        if unknown or missing:
            raise KnowledgeError(
                f"instance_families.yaml: {where} unknown keys {sorted(unknown)} / missing keys {sorted(missing)}"
            )
        try:
            kind = FamilyKind(row["kind"])
        except ValueError:
            raise KnowledgeError(f"instance_families.yaml: {where}.kind {row['kind']!r} is not a FamilyKind") from None
        for key in ("vcpu", "memory_gib", "gpu_count"):
            _number(row[key], f"{where}.{key}")
        if (kind is FamilyKind.GPU) != (row["gpu_count"] > 0):
            raise KnowledgeError(f"instance_families.yaml: {where} kind gpu <=> gpu_count > 0")
        if row.get("credits_per_hour") is not None:
            _number(row["credits_per_hour"], f"{where}.credits_per_hour")
        clouds = row["clouds"]
        if not isinstance(clouds, list) or not clouds or set(clouds) - set(CLOUDS):
            raise KnowledgeError(f"instance_families.yaml: {where}.clouds must be a non-empty subset of {CLOUDS}")
        for cloud, override in (row.get("per_cloud") or {}).items():
            if cloud not in clouds or not isinstance(override, dict) or set(override) - {"vcpu", "memory_gib"}:
                raise KnowledgeError(f"instance_families.yaml: {where}.per_cloud.{cloud} is malformed")
        records[name] = row
    return records


def _family(name: str, row: dict[str, Any], cloud: str | None) -> InstanceFamily:
    shape = {"vcpu": row["vcpu"], "memory_gib": row["memory_gib"]}
    if cloud is not None:
        shape.update((row.get("per_cloud") or {}).get(cloud, {}))
    return InstanceFamily(
        name=name,
        vcpu=float(shape["vcpu"]),
        memory_gib=float(shape["memory_gib"]),
        gpu_count=int(row["gpu_count"]),
        gpu_type=row.get("gpu_type"),
        gpu_memory_gib=None if row.get("gpu_memory_gib") is None else float(row["gpu_memory_gib"]),
        credits_per_hour=None if row.get("credits_per_hour") is None else float(row["credits_per_hour"]),
        kind=FamilyKind(row["kind"]),
        source="table",
    )


@functools.cache
def family_table(cloud: str | None = None) -> dict[str, InstanceFamily]:
    """Every known instance family by upper-case name, from the shipped table (cached per cloud).

    Args:
        cloud: "aws" | "azure" | "gcp" to apply that cloud's shape where a family differs by cloud and to
            keep only the families offered there; None for every family with its default shape.

    Raises:
        KnowledgeError: the table is malformed (a packaging bug), or `cloud` is not a known cloud.
    """
    if cloud is not None and cloud not in CLOUDS:
        raise KnowledgeError(f"unknown cloud {cloud!r}; expected one of {CLOUDS}")
    return {
        name: _family(name, row, cloud)
        for name, row in _records().items()
        if cloud is None or cloud in row["clouds"]
    }


def family_clouds(name: str) -> tuple[str, ...]:
    """The clouds that offer `name` (empty when the family is not in the table)."""
    row = _records().get(name.upper())
    return tuple(row["clouds"]) if row else ()


def lookup_family(name: str, facts: AccountFacts | None = None) -> InstanceFamily | None:
    """The shape of one node of family `name`: the account's own row first, then the table.

    Credits come from the table when the account row has none (SHOW ... INSTANCE FAMILIES has no price).
    Returns None for a family neither knows.
    """
    table = family_table(infer_cloud(facts) if facts is not None else None)
    known = table.get(name.upper()) or family_table().get(name.upper())
    live = facts.family(name) if facts is not None else None
    if live is None:
        return known
    if live.credits_per_hour is None and known is not None and known.credits_per_hour is not None:
        return InstanceFamily(
            name=live.name, vcpu=live.vcpu, memory_gib=live.memory_gib, gpu_count=live.gpu_count,
            gpu_type=live.gpu_type, gpu_memory_gib=live.gpu_memory_gib,
            credits_per_hour=known.credits_per_hour, kind=live.kind, source=live.source,
        )
    return live


def infer_cloud(facts: AccountFacts | None) -> str | None:
    """The account's cloud when the facts say so, else when a pool or family name is cloud-specific, else None."""
    if facts is None:
        return None
    if facts.cloud in CLOUDS:
        return facts.cloud
    names = [p.instance_family.upper() for p in facts.pools] + [f.name.upper() for f in facts.families]
    seen = {c for n in names if len(cl := family_clouds(n)) == 1 for c in cl}
    return seen.pop() if len(seen) == 1 else None


def system_pools(cloud: str | None = None) -> tuple[SystemPoolSpec, ...]:
    """The system pools for `cloud` (AWS families assumed when the cloud is unknown), from the table.

    A pool whose family is missing for that cloud is returned with `family=None` so callers can say why
    it is absent (e.g. no GPU system pool on GCP).

    Raises:
        KnowledgeError: the table is malformed.
    """
    data = load_table("instance_families")
    pools = data.get("system_pools") if isinstance(data, dict) else None
    if not isinstance(pools, dict):
        raise KnowledgeError("instance_families.yaml: top-level 'system_pools' mapping is missing")
    out = []
    for name, row in pools.items():
        if not isinstance(row, dict) or set(row) != _SYSTEM_KEYS or not isinstance(row["family"], dict):
            raise KnowledgeError(f"instance_families.yaml: system_pools.{name} must have keys {sorted(_SYSTEM_KEYS)}")
        family = row["family"].get(cloud or "aws")
        if family is not None and family not in _records():
            raise KnowledgeError(f"instance_families.yaml: system_pools.{name} names unknown family {family!r}")
        out.append(
            SystemPoolSpec(
                name=name, family=family, min_nodes=int(row["min_nodes"]), max_nodes=int(row["max_nodes"]),
                auto_suspend_secs=int(row["auto_suspend_secs"]), cloud=cloud,
            )
        )
    return tuple(out)
