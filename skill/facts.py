"""What an account (Snowflake or the local pool) offers a job: pools, families, EAIs, stages, grants.

`mljobs.server.account` fills these from read-only SQL (or from the local machine); everything in
skill/ plans against them without knowing where they came from.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FamilyKind(str, enum.Enum):
    CPU = "cpu"
    HIGHMEM = "highmem"
    GPU = "gpu"
    ARM = "arm"  # needs linux/arm64 images: not usable for the x86 ML runtime


@dataclass(frozen=True, slots=True)
class InstanceFamily:
    name: str
    vcpu: float
    memory_gib: float
    gpu_count: int = 0
    gpu_type: str | None = None
    gpu_memory_gib: float | None = None  # total per node (SHOW ... INSTANCE FAMILIES gives it per GPU)
    credits_per_hour: float | None = None  # indicative, per node (research snowflake-facts §2.3)
    kind: FamilyKind = FamilyKind.CPU
    source: str = "table"  # "account" (SHOW COMPUTE POOL INSTANCE FAMILIES), "table", or "machine"


@dataclass(frozen=True, slots=True)
class ComputePool:
    """One row of SHOW COMPUTE POOLS, typed. `has_usage` is None when grants could not be read."""

    name: str
    state: str  # ACTIVE, IDLE, SUSPENDED, STARTING, STOPPING, RESIZING, UNKNOWN
    instance_family: str
    min_nodes: int = 1
    max_nodes: int = 1
    active_nodes: int = 0
    idle_nodes: int = 0
    target_nodes: int = 0
    num_jobs: int = 0
    auto_resume: bool = True
    owner: str | None = None
    comment: str | None = None
    has_usage: bool | None = None
    is_system: bool = False


@dataclass(frozen=True, slots=True)
class NetworkRuleInfo:
    """A network rule an EAI allows. `values` is None when its VALUE_LIST could not be read."""

    name: str  # fully qualified
    values: tuple[str, ...] | None
    type: str = "HOST_PORT"
    mode: str = "EGRESS"
    source: str = "desc"  # desc | account_usage | builtin | config
    unreadable_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalAccessIntegration:
    name: str
    enabled: bool
    rules: tuple[NetworkRuleInfo, ...] = ()
    comment: str | None = None
    described: bool = True  # False when DESC INTEGRATION failed (then rules are unknown)


@dataclass(frozen=True, slots=True)
class Stage:
    name: str  # fully qualified DB.SCHEMA.STAGE (no @)
    kind: str = "INTERNAL"


@dataclass(frozen=True, slots=True)
class Grants:
    """The current role's privileges relevant to a job; None means "could not be determined"."""

    role: str | None = None
    database_usage: bool | None = None
    schema_usage: bool | None = None
    create_service: bool | None = None
    create_stage: bool | None = None
    pool_usage: tuple[str, ...] | None = None  # pools with USAGE/OWNERSHIP
    eai_usage: tuple[str, ...] | None = None  # integrations with USAGE/OWNERSHIP
    # Active secondary roles (CURRENT_SECONDARY_ROLES()); their grants count for USAGE. None: unknown, so
    # a USAGE grant missing from what was read may still be held (preflight then warns instead of refusing).
    secondary_roles: tuple[str, ...] | None = ()
    complete: bool = True  # every role hierarchy was read to the end (no failed SHOW GRANTS, no cap reached)

    @property
    def usage_certain(self) -> bool:
        """A USAGE privilege missing from these grants is really missing (every active role was read)."""
        return self.secondary_roles is not None and self.complete


@dataclass(frozen=True, slots=True)
class AccountFacts:
    backend: str  # "snowflake" | "local"
    database: str | None = None
    schema: str | None = None
    warehouse: str | None = None
    role: str | None = None
    pools: tuple[ComputePool, ...] = ()
    families: tuple[InstanceFamily, ...] = ()
    eais: tuple[ExternalAccessIntegration, ...] = ()
    stages: tuple[Stage, ...] = ()
    grants: Grants = field(default_factory=Grants)
    cloud: str | None = None  # "aws" | "azure" | "gcp" when discovery could tell (CURRENT_REGION()); None = unknown
    client_python: str = "3.11"  # major.minor of the interpreter that will submit (selects the runtime)
    # Distributions (canonical names) the job environment already has, when the backend knows them
    # exactly (the local pool: this machine's environment). None: the runtime image lists decide.
    installed_packages: frozenset[str] | None = None
    notes: tuple[str, ...] = ()  # what discovery could not read, for the user

    def family(self, name: str) -> InstanceFamily | None:
        upper = name.upper()
        return next((f for f in self.families if f.name.upper() == upper), None)
